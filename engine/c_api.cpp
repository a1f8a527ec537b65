// The C API (normrt_c.h) over the C++ Session: exceptions become status codes
// with a per-thread message.
#include <string>

#include "normrt/normrt.h"
#include "normrt/normrt_c.h"

struct normrt_session {
  normrt::Session session;
};

struct normrt_result {
  normrt::NamedTensors outputs;
};

namespace {

thread_local std::string last_error;

normrt_status status_of(normrt::ErrorCode c) {
  switch (c) {
    case normrt::ErrorCode::InvalidModel:
      return NORMRT_INVALID_MODEL;
    case normrt::ErrorCode::UnsupportedOp:
      return NORMRT_UNSUPPORTED_OP;
    case normrt::ErrorCode::InvalidArgument:
      return NORMRT_INVALID_ARGUMENT;
    case normrt::ErrorCode::IO:
      return NORMRT_IO_ERROR;
    case normrt::ErrorCode::Internal:
      return NORMRT_INTERNAL_ERROR;
  }
  return NORMRT_INTERNAL_ERROR;
}

template <class F>
normrt_status guarded(F&& f) {
  try {
    f();
    last_error.clear();
    return NORMRT_OK;
  } catch (const normrt::Error& e) {
    last_error = e.what();
    return status_of(e.code());
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
    return NORMRT_INTERNAL_ERROR;
  } catch (const std::exception& e) {
    last_error = e.what();
    return NORMRT_INTERNAL_ERROR;
  }
}

normrt_status bad_argument(const char* msg) {
  last_error = msg;
  return NORMRT_INVALID_ARGUMENT;
}

normrt_status meta(const std::vector<normrt::ValueMeta>& v, size_t index, const char** name, int* dtype, size_t* rank,
                   const int64_t** dims) {
  if (index >= v.size()) return bad_argument("index out of range");
  const bool tensor = v[index].kind == normrt::ValueKind::Tensor;
  if (name) *name = v[index].name.c_str();
  if (dtype) *dtype = tensor ? static_cast<int>(v[index].dtype) : 0;
  if (rank) *rank = tensor ? v[index].shape.size() : 0;
  if (dims) *dims = v[index].shape.data();
  return NORMRT_OK;
}

normrt::SessionOptions options_for(int threads) {
  normrt::SessionOptions o;
  o.threads = threads;
  return o;
}

}  // namespace

extern "C" {

const char* normrt_last_error(void) { return last_error.c_str(); }
const char* normrt_version(void) { return normrt::version(); }

normrt_status normrt_session_open(const char* model_path, int threads, normrt_session** out) {
  if (!model_path || !out) return bad_argument("normrt_session_open: null argument");
  *out = nullptr;
  return guarded([&] { *out = new normrt_session{normrt::Session(model_path, options_for(threads))}; });
}

normrt_status normrt_session_open_memory(const void* data, size_t size, const char* base_dir, int threads,
                                         normrt_session** out) {
  if (!data || !out) return bad_argument("normrt_session_open_memory: null argument");
  *out = nullptr;
  return guarded([&] {
    *out = new normrt_session{normrt::Session::from_memory(data, size, base_dir ? base_dir : "", options_for(threads))};
  });
}

void normrt_session_free(normrt_session* session) { delete session; }

size_t normrt_session_input_count(const normrt_session* s) { return s ? s->session.inputs().size() : 0; }
size_t normrt_session_output_count(const normrt_session* s) { return s ? s->session.outputs().size() : 0; }

normrt_status normrt_session_input_info(const normrt_session* s, size_t index, const char** name, int* dtype,
                                        size_t* rank, const int64_t** dims) {
  if (!s) return bad_argument("null session");
  return meta(s->session.inputs(), index, name, dtype, rank, dims);
}

normrt_status normrt_session_output_info(const normrt_session* s, size_t index, const char** name, int* dtype,
                                         size_t* rank, const int64_t** dims) {
  if (!s) return bad_argument("null session");
  return meta(s->session.outputs(), index, name, dtype, rank, dims);
}

normrt_status normrt_session_run(const normrt_session* s, const normrt_input* inputs, size_t input_count,
                                 normrt_result** out) {
  if (!s || !out || (input_count && !inputs)) return bad_argument("normrt_session_run: null argument");
  *out = nullptr;
  return guarded([&] {
    for (const auto* list : {&s->session.inputs(), &s->session.outputs()})
      for (const normrt::ValueMeta& m : *list)
        if (m.kind != normrt::ValueKind::Tensor)
          throw normrt::Error(normrt::ErrorCode::InvalidArgument,
                              std::string(list == &s->session.inputs() ? "input '" : "output '") + m.name + "' is " +
                                  normrt::type_str(m) + ": the C API runs models of tensors only");
    normrt::NamedTensors in;
    for (size_t i = 0; i < input_count; ++i) {
      const normrt_input& x = inputs[i];
      normrt::DType dt;
      if (!x.name)
        throw normrt::Error(normrt::ErrorCode::InvalidArgument, "input " + std::to_string(i) + " has no name");
      if (!normrt::dtype_from_onnx(x.dtype, &dt))
        throw normrt::Error(normrt::ErrorCode::InvalidArgument,
                            std::string("input '") + x.name + "' has unknown dtype " + std::to_string(x.dtype));
      if (dt == normrt::DType::String)
        throw normrt::Error(normrt::ErrorCode::InvalidArgument,
                            std::string("input '") + x.name + "': string tensors are not supported by the C API");
      if (x.rank && !x.dims)
        throw normrt::Error(normrt::ErrorCode::InvalidArgument, std::string("input '") + x.name + "' has no dims");
      normrt::Shape shape(x.dims, x.dims + x.rank);
      in.emplace_back(x.name, normrt::Tensor::view(const_cast<void*>(x.data), dt, shape));
    }
    auto* r = new normrt_result{};
    try {
      r->outputs = s->session.run(in);
    } catch (...) {
      delete r;
      throw;
    }
    *out = r;
  });
}

size_t normrt_result_count(const normrt_result* r) { return r ? r->outputs.size() : 0; }

normrt_status normrt_result_output(const normrt_result* r, size_t index, const char** name, int* dtype, size_t* rank,
                                   const int64_t** dims, const void** data) {
  if (!r) return bad_argument("null result");
  if (index >= r->outputs.size()) return bad_argument("output index out of range");
  const auto& [n, t] = r->outputs[index];
  if (t.dtype() == normrt::DType::String)  // std::string objects: not a C buffer
    return bad_argument("the output is a string tensor: string tensors are not supported by the C API");
  if (name) *name = n.c_str();
  if (dtype) *dtype = static_cast<int>(t.dtype());
  if (rank) *rank = t.shape().size();
  if (dims) *dims = t.shape().data();
  if (data) *data = t.raw();
  return NORMRT_OK;
}

void normrt_result_free(normrt_result* r) { delete r; }

}  // extern "C"
