/* The C API from C: open (file and memory), metadata, run, outputs, error
 * paths, cleanup. Exit status 0 when every check holds.
 *   test_c_api MODEL_PATH */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normrt/normrt_c.h"

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

static char* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* buf = malloc((size_t)n);
  *size = fread(buf, 1, (size_t)n, f);
  fclose(f);
  return buf;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  normrt_session* s = NULL;

  /* Error paths: a missing file, a file that is not ONNX, null arguments. */
  CHECK(normrt_session_open("/nonexistent/model.onnx", 0, &s) == NORMRT_IO_ERROR);
  CHECK(s == NULL);
  CHECK(strstr(normrt_last_error(), "does not exist") != NULL);
  CHECK(normrt_session_open_memory("garbage!", 8, NULL, 0, &s) == NORMRT_INVALID_MODEL);
  CHECK(strstr(normrt_last_error(), "not a valid ONNX model") != NULL);
  CHECK(normrt_session_open(NULL, 0, &s) == NORMRT_INVALID_ARGUMENT);

  /* Open from a file and from memory. */
  CHECK(normrt_session_open(argv[1], 1, &s) == NORMRT_OK);
  if (!s) return 1;
  size_t size = 0;
  char* bytes = read_all(argv[1], &size);
  normrt_session* m = NULL;
  CHECK(bytes && normrt_session_open_memory(bytes, size, NULL, 2, &m) == NORMRT_OK);
  free(bytes);

  /* Metadata: x [batch, seq, 64] and img [batch, 8, 16, 16] in, y and z out. */
  CHECK(normrt_session_input_count(s) == 2);
  CHECK(normrt_session_output_count(s) == 2);
  const char* name;
  int dtype;
  size_t rank;
  const int64_t* dims;
  CHECK(normrt_session_input_info(s, 0, &name, &dtype, &rank, &dims) == NORMRT_OK);
  CHECK(strcmp(name, "x") == 0 && dtype == NORMRT_FLOAT32 && rank == 3 && dims[0] == -1 && dims[2] == 64);
  CHECK(normrt_session_output_info(s, 1, &name, &dtype, &rank, &dims) == NORMRT_OK);
  CHECK(strcmp(name, "z") == 0 && rank == 4);
  CHECK(normrt_session_input_info(s, 5, &name, &dtype, &rank, &dims) == NORMRT_INVALID_ARGUMENT);

  /* Run on both sessions; the outputs agree. */
  static float x[2 * 3 * 64], img[2 * 8 * 16 * 16];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; ++i) x[i] = (float)((i * 37) % 11) - 5.0f;
  for (size_t i = 0; i < sizeof img / sizeof img[0]; ++i) img[i] = (float)((i * 13) % 7) - 3.0f;
  const int64_t xd[] = {2, 3, 64}, id[] = {2, 8, 16, 16};
  normrt_input in[2] = {{"x", NORMRT_FLOAT32, 3, xd, x}, {"img", NORMRT_FLOAT32, 4, id, img}};
  normrt_result *r1 = NULL, *r2 = NULL;
  CHECK(normrt_session_run(s, in, 2, &r1) == NORMRT_OK);
  CHECK(normrt_session_run(m, in, 2, &r2) == NORMRT_OK);
  CHECK(normrt_result_count(r1) == 2);
  const void *d1, *d2;
  CHECK(normrt_result_output(r1, 0, &name, &dtype, &rank, &dims, &d1) == NORMRT_OK);
  CHECK(strcmp(name, "y") == 0 && dtype == NORMRT_FLOAT32 && rank == 3 && dims[1] == 3);
  CHECK(normrt_result_output(r2, 0, NULL, NULL, NULL, NULL, &d2) == NORMRT_OK);
  /* LayerNorm output rows have mean ~ ln2_bias mean; just check agreement and finiteness. */
  for (size_t i = 0; i < 2 * 3 * 64; ++i) {
    CHECK(isfinite(((const float*)d1)[i]));
    CHECK(((const float*)d1)[i] == ((const float*)d2)[i]);
  }
  CHECK(normrt_result_output(r1, 2, &name, &dtype, &rank, &dims, &d1) == NORMRT_INVALID_ARGUMENT);
  normrt_result_free(r1);
  normrt_result_free(r2);

  /* Run errors: wrong shape, unknown name, unknown dtype. */
  const int64_t bad[] = {2, 3, 63};
  normrt_input wrong[2] = {{"x", NORMRT_FLOAT32, 3, bad, x}, {"img", NORMRT_FLOAT32, 4, id, img}};
  normrt_result* r = NULL;
  CHECK(normrt_session_run(s, wrong, 2, &r) == NORMRT_INVALID_ARGUMENT && r == NULL);
  CHECK(strstr(normrt_last_error(), "input 'x' has shape [2,3,63]") != NULL);
  wrong[0].dims = xd;
  wrong[0].name = "nope";
  CHECK(normrt_session_run(s, wrong, 2, &r) == NORMRT_INVALID_ARGUMENT);
  CHECK(strstr(normrt_last_error(), "unknown input 'nope'") != NULL);
  wrong[0].name = "x";
  wrong[0].dtype = 99;
  CHECK(normrt_session_run(s, wrong, 2, &r) == NORMRT_INVALID_ARGUMENT);

  normrt_session_free(s);
  normrt_session_free(m);
  normrt_session_free(NULL);
  normrt_result_free(NULL);
  CHECK(strlen(normrt_version()) > 0);
  printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
