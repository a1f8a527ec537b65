/* normrt C API: opaque handles, status codes with a retrievable message, no
 * C++ types across the boundary — for C programs and other languages' bindings.
 *
 *   normrt_session* s;
 *   if (normrt_session_open("model.onnx", 0, &s) != NORMRT_OK) puts(normrt_last_error());
 *   normrt_input in = {"x", NORMRT_FLOAT32, 2, dims, data};
 *   normrt_result* r;
 *   normrt_session_run(s, &in, 1, &r);
 *   ... normrt_result_output(r, 0, &name, &dtype, &rank, &dims, &data) ...
 *   normrt_result_free(r);
 *   normrt_session_free(s);
 */
#ifndef NORMRT_C_H
#define NORMRT_C_H

#include <stddef.h>
#include <stdint.h>

#include "normrt/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NORMRT_OK = 0,
  NORMRT_INVALID_MODEL = 1,
  NORMRT_UNSUPPORTED_OP = 2,
  NORMRT_INVALID_ARGUMENT = 3,
  NORMRT_IO_ERROR = 4,
  NORMRT_INTERNAL_ERROR = 5
} normrt_status;

/* Element types: the ONNX TensorProto.DataType numbers. String tensors (8)
 * are refused: inputs with NORMRT_INVALID_ARGUMENT, and so are string outputs
 * by normrt_result_output (use the C++ API for them). */
typedef enum {
  NORMRT_FLOAT32 = 1,
  NORMRT_UINT8 = 2,
  NORMRT_INT8 = 3,
  NORMRT_UINT16 = 4,
  NORMRT_INT16 = 5,
  NORMRT_INT32 = 6,
  NORMRT_INT64 = 7,
  NORMRT_BOOL = 9,
  NORMRT_FLOAT16 = 10,
  NORMRT_FLOAT64 = 11,
  NORMRT_UINT32 = 12,
  NORMRT_UINT64 = 13,
  NORMRT_BFLOAT16 = 16
} normrt_dtype;

typedef struct normrt_session normrt_session;
typedef struct normrt_result normrt_result;

/* An input: the data is read in place (not copied) for the duration of the run. */
typedef struct {
  const char* name;
  int dtype; /* normrt_dtype */
  size_t rank;
  const int64_t* dims;
  const void* data;
} normrt_input;

/* The message of the last failed call on this thread ("" if none). */
NORMRT_API const char* normrt_last_error(void);
NORMRT_API const char* normrt_version(void);

/* threads: intra-op threads, 0 = all cores. */
NORMRT_API normrt_status normrt_session_open(const char* model_path, int threads, normrt_session** out);
/* base_dir: folder for external data, or NULL to forbid it. */
NORMRT_API normrt_status normrt_session_open_memory(const void* data, size_t size, const char* base_dir, int threads,
                                                    normrt_session** out);
NORMRT_API void normrt_session_free(normrt_session* session);

NORMRT_API size_t normrt_session_input_count(const normrt_session* session);
NORMRT_API size_t normrt_session_output_count(const normrt_session* session);
/* Declared metadata; dims of unknown size are -1. The strings and arrays live
 * as long as the session. A sequence or optional value (which the C API cannot
 * pass: normrt_session_run refuses such models) reports dtype 0 and rank 0. */
NORMRT_API normrt_status normrt_session_input_info(const normrt_session* session, size_t index, const char** name,
                                                   int* dtype, size_t* rank, const int64_t** dims);
NORMRT_API normrt_status normrt_session_output_info(const normrt_session* session, size_t index, const char** name,
                                                    int* dtype, size_t* rank, const int64_t** dims);

/* Runs the model (thread-safe on one session). On success *out holds the
 * outputs until normrt_result_free. */
NORMRT_API normrt_status normrt_session_run(const normrt_session* session, const normrt_input* inputs,
                                            size_t input_count, normrt_result** out);
NORMRT_API size_t normrt_result_count(const normrt_result* result);
NORMRT_API normrt_status normrt_result_output(const normrt_result* result, size_t index, const char** name, int* dtype,
                                              size_t* rank, const int64_t** dims, const void** data);
NORMRT_API void normrt_result_free(normrt_result* result);

#ifdef __cplusplus
}
#endif

#endif /* NORMRT_C_H */
