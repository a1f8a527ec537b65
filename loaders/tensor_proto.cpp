#include "tensor_proto.h"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace normrt {

namespace fs = std::filesystem;

std::string read_file_bytes(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(ErrorCode::IO, what + " '" + path + "' does not exist");
  if (!fs::is_regular_file(path, ec)) throw Error(ErrorCode::IO, what + " '" + path + "' is not a regular file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::IO, "cannot open " + what + " '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(ErrorCode::IO, "cannot read " + what + " '" + path + "'");
  return bytes;
}

// Resolves `location` inside `base_dir`; rejects absolute paths, escapes
// (.., symlinks pointing out) and anything that is not a regular file.
static fs::path external_path(const std::string& base_dir, const std::string& location, const std::string& label) {
  if (base_dir.empty())
    throw Error(ErrorCode::InvalidModel, label + ": external data needs the model's folder (load from a file)");
  if (location.empty()) throw Error(ErrorCode::InvalidModel, label + ": external data has no 'location'");
  fs::path loc(location);
  if (loc.is_absolute() || loc.has_root_name() || loc.has_root_directory())
    throw Error(ErrorCode::InvalidModel, label + ": external data location '" + location +
                                             "' is an absolute path; it must be relative to the model's folder");
  std::error_code ec;
  fs::path base = fs::canonical(base_dir.empty() ? fs::path(".") : fs::path(base_dir), ec);
  if (ec) throw Error(ErrorCode::IO, label + ": cannot resolve model folder '" + base_dir + "'");
  fs::path target = fs::weakly_canonical(base / loc, ec);
  if (ec) throw Error(ErrorCode::IO, label + ": cannot resolve external data '" + location + "'");
  auto b = base.native(), t = target.native();
  if (t.size() <= b.size() || t.compare(0, b.size(), b) != 0 || t[b.size()] != '/')
    throw Error(ErrorCode::InvalidModel, label + ": external data location '" + location +
                                             "' points outside the model's folder '" + base.string() + "'");
  if (!fs::exists(target, ec))
    throw Error(ErrorCode::IO, label + ": external data file '" + target.string() + "' does not exist");
  if (!fs::is_regular_file(target, ec))
    throw Error(ErrorCode::InvalidModel, label + ": external data '" + target.string() + "' is not a regular file");
  return target;
}

static std::string read_external(const onnx::TensorProto& tp, const std::string& base_dir, size_t nbytes,
                                 const std::string& label) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (auto& kv : tp.external_data()) {
    try {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::stoll(kv.value());
      else if (kv.key() == "length")
        length = std::stoll(kv.value());
    } catch (const std::exception&) {
      throw Error(ErrorCode::InvalidModel,
                  label + ": external data '" + kv.key() + "' = '" + kv.value() + "' is not a number");
    }
  }
  if (offset < 0 || length < -1)
    throw Error(ErrorCode::InvalidModel, label + ": negative external data offset or length");
  fs::path path = external_path(base_dir, location, label);
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec) throw Error(ErrorCode::IO, label + ": cannot stat '" + path.string() + "'");
  uint64_t want = length >= 0 ? static_cast<uint64_t>(length) : nbytes;
  if (want != nbytes)
    throw Error(ErrorCode::InvalidModel, label + ": external data length " + std::to_string(want) +
                                             " does not match the tensor's " + std::to_string(nbytes) + " bytes");
  if (static_cast<uint64_t>(offset) > size || size - static_cast<uint64_t>(offset) < want)
    throw Error(ErrorCode::InvalidModel, label + ": external data file '" + path.string() + "' has " +
                                             std::to_string(size) + " bytes, too short for offset " +
                                             std::to_string(offset) + " + length " + std::to_string(want));
  std::ifstream f(path, std::ios::binary);
  std::string bytes(want, '\0');
  f.seekg(offset);
  f.read(bytes.data(), static_cast<std::streamsize>(want));
  if (!f) throw Error(ErrorCode::IO, label + ": cannot read external data '" + path.string() + "'");
  return bytes;
}

template <class Dst, class Field>
static void copy_field(const Field& field, Tensor& t, int64_t n, const char* field_name, const std::string& label) {
  if (field.size() != n)
    throw Error(ErrorCode::InvalidModel, label + ": " + field_name + " holds " + std::to_string(field.size()) +
                                             " values, the shape needs " + std::to_string(n));
  Dst* d = static_cast<Dst*>(t.raw());
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(field.Get(static_cast<int>(i)));
}

Tensor tensor_from_proto(const onnx::TensorProto& tp, const std::string& base_dir, const std::string& label_in) {
  const std::string label = label_in.empty() ? std::string("tensor '") + tp.name() + "'" : label_in;
  DType dt;
  if (!dtype_from_onnx(tp.data_type(), &dt))
    throw Error(ErrorCode::UnsupportedOp, label + ": data type " + onnx_type_name(tp.data_type()) + " (" +
                                              std::to_string(tp.data_type()) + ") is not supported");
  if (tp.dims_size() > 64)
    throw Error(ErrorCode::InvalidModel, label + ": rank " + std::to_string(tp.dims_size()) + " is too large");
  Shape shape(tp.dims().begin(), tp.dims().end());
  int64_t n;
  try {
    n = shape_numel(shape, dt);
  } catch (const Error& e) {
    throw Error(ErrorCode::InvalidModel, label + ": " + e.what());
  }
  if (dt == DType::String) {  // string_data only: UTF-8 (or any) bytes per element
    if (tp.data_location() == onnx::TensorProto::EXTERNAL || tp.has_raw_data())
      throw Error(ErrorCode::InvalidModel, label + ": a string tensor must hold its values in string_data");
    if (tp.string_data_size() != n)
      throw Error(ErrorCode::InvalidModel, label + ": string_data holds " + std::to_string(tp.string_data_size()) +
                                               " values, the shape needs " + std::to_string(n));
    Tensor t = Tensor::uninitialized(dt, shape);
    std::string* d = t.data<std::string>();
    for (int64_t i = 0; i < n; ++i) d[i] = tp.string_data(static_cast<int>(i));
    return t;
  }
  const size_t nbytes = static_cast<size_t>(n) * dtype_size(dt);
  if (tp.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string bytes = read_external(tp, base_dir, nbytes, label);
    Tensor t = Tensor::uninitialized(dt, shape);
    if (nbytes) std::memcpy(t.raw(), bytes.data(), nbytes);
    return t;
  }
  if (tp.has_raw_data()) {
    if (tp.raw_data().size() != nbytes)
      throw Error(ErrorCode::InvalidModel, label + ": raw_data has " + std::to_string(tp.raw_data().size()) +
                                               " bytes, shape " + shape_str(shape) + " of " + dtype_name(dt) +
                                               " needs " + std::to_string(nbytes));
    Tensor t = Tensor::uninitialized(dt, shape);
    if (nbytes) std::memcpy(t.raw(), tp.raw_data().data(), nbytes);
    return t;
  }
  // The typed field must hold exactly n values; check before allocating.
  int field_size = 0;
  const char* field = "int32_data";
  switch (dt) {
    case DType::Float32:
      field_size = tp.float_data_size(), field = "float_data";
      break;
    case DType::Float64:
      field_size = tp.double_data_size(), field = "double_data";
      break;
    case DType::Int64:
      field_size = tp.int64_data_size(), field = "int64_data";
      break;
    case DType::UInt32:
    case DType::UInt64:
      field_size = tp.uint64_data_size(), field = "uint64_data";
      break;
    default:
      field_size = tp.int32_data_size();
      break;
  }
  if (field_size != n)
    throw Error(ErrorCode::InvalidModel, label + ": " + field + " holds " + std::to_string(field_size) +
                                             " values, the shape needs " + std::to_string(n));
  Tensor t(dt, shape);
  switch (dt) {
    case DType::Float32:
      copy_field<float>(tp.float_data(), t, n, "float_data", label);
      break;
    case DType::Float64:
      copy_field<double>(tp.double_data(), t, n, "double_data", label);
      break;
    case DType::Int64:
      copy_field<int64_t>(tp.int64_data(), t, n, "int64_data", label);
      break;
    case DType::UInt32:
      copy_field<uint32_t>(tp.uint64_data(), t, n, "uint64_data", label);
      break;
    case DType::UInt64:
      copy_field<uint64_t>(tp.uint64_data(), t, n, "uint64_data", label);
      break;
    case DType::Int32:
      copy_field<int32_t>(tp.int32_data(), t, n, "int32_data", label);
      break;
    case DType::Int16:
      copy_field<int16_t>(tp.int32_data(), t, n, "int32_data", label);
      break;
    case DType::Int8:
      copy_field<int8_t>(tp.int32_data(), t, n, "int32_data", label);
      break;
    case DType::UInt16:
      copy_field<uint16_t>(tp.int32_data(), t, n, "int32_data", label);
      break;
    case DType::UInt8:
      copy_field<uint8_t>(tp.int32_data(), t, n, "int32_data", label);
      break;
    case DType::Float16:
    case DType::BFloat16:
      copy_field<uint16_t>(tp.int32_data(), t, n, "int32_data", label);
      break;
    case DType::Bool: {
      copy_field<uint8_t>(tp.int32_data(), t, n, "int32_data", label);
      uint8_t* b = t.data<uint8_t>();
      for (int64_t i = 0; i < n; ++i) b[i] = b[i] != 0;
      break;
    }
    case DType::String:
    case DType::Undefined:
      break;
  }
  return t;
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* tp) {
  tp->Clear();
  tp->set_name(name);
  tp->set_data_type(static_cast<int>(t.dtype()));
  for (int64_t d : t.shape()) tp->add_dims(d);
  if (t.dtype() == DType::String) {
    for (const std::string& s : t.span<std::string>()) tp->add_string_data(s);
    return;
  }
  tp->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

}  // namespace normrt
