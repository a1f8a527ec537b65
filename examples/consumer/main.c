/* The same as main.cpp through the C API: loads a model (the bundled example
 * by default), runs it on ones, prints each output's name, shape and first
 * values.   consumer_c MODEL */
#include <normrt/normrt_c.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "models/example/model.onnx";
  normrt_session* s = NULL;
  if (normrt_session_open(path, 2, &s) != NORMRT_OK) {
    fprintf(stderr, "error: %s\n", normrt_last_error());
    return 1;
  }
  size_t n = normrt_session_input_count(s);
  normrt_input* in = calloc(n, sizeof *in);
  int64_t(*dims)[8] = calloc(n, sizeof *dims);
  float** data = calloc(n, sizeof *data);
  for (size_t i = 0; i < n; ++i) {
    const char* name;
    int dtype;
    size_t rank, count = 1;
    const int64_t* declared;
    normrt_session_input_info(s, i, &name, &dtype, &rank, &declared);
    if (dtype != NORMRT_FLOAT32 || rank > 8) {
      fprintf(stderr, "error: input %s is not a float tensor of rank <= 8\n", name);
      return 1;
    }
    for (size_t d = 0; d < rank; ++d) count *= (size_t)(dims[i][d] = declared[d] < 0 ? 2 : declared[d]);
    data[i] = malloc(count * sizeof(float));
    for (size_t k = 0; k < count; ++k) data[i][k] = 1.0f;
    in[i].name = name, in[i].dtype = dtype, in[i].rank = rank, in[i].dims = dims[i], in[i].data = data[i];
  }
  normrt_result* r = NULL;
  if (normrt_session_run(s, in, n, &r) != NORMRT_OK) {
    fprintf(stderr, "error: %s\n", normrt_last_error());
    return 1;
  }
  for (size_t o = 0; o < normrt_result_count(r); ++o) {
    const char* name;
    int dtype;
    size_t rank, count = 1;
    const int64_t* shape;
    const void* values;
    normrt_result_output(r, o, &name, &dtype, &rank, &shape, &values);
    printf("%s: [", name);
    for (size_t d = 0; d < rank; ++d) printf("%s%lld", d ? "," : "", (long long)shape[d]), count *= (size_t)shape[d];
    printf("]");
    for (size_t k = 0; k < count && k < 4 && dtype == NORMRT_FLOAT32; ++k) printf(" %.5f", ((const float*)values)[k]);
    printf("\n");
  }
  printf("normrt %s (C API)\n", normrt_version());
  normrt_result_free(r);
  normrt_session_free(s);
  for (size_t i = 0; i < n; ++i) free(data[i]);
  free(data), free(dims), free(in);
  return 0;
}
