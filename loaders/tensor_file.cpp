// .npy (numpy format versions 1–3, little-endian, C order; string tensors as
// numpy str, '<U<width>' UTF-32) and TensorProto .pb files.
#include "normrt/tensor_file.h"

#include <cstring>
#include <fstream>
#include <vector>

#include "../core/utf8.h"
#include "tensor_proto.h"

namespace normrt {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const char* npy_descr(DType t) {
  switch (t) {
    case DType::Float32:
      return "<f4";
    case DType::Float64:
      return "<f8";
    case DType::Float16:
      return "<f2";
    case DType::Int8:
      return "|i1";
    case DType::Int16:
      return "<i2";
    case DType::Int32:
      return "<i4";
    case DType::Int64:
      return "<i8";
    case DType::UInt8:
      return "|u1";
    case DType::UInt16:
      return "<u2";
    case DType::UInt32:
      return "<u4";
    case DType::UInt64:
      return "<u8";
    case DType::Bool:
      return "|b1";
    case DType::BFloat16:  // numpy has no bfloat16: such tensors go in .pb files
    case DType::String:    // '<U<width>', made by write_npy
    case DType::Undefined:
      break;
  }
  return nullptr;
}

DType dtype_from_descr(const std::string& d, const std::string& path) {
  static const std::pair<const char*, DType> table[] = {
      {"f4", DType::Float32}, {"f8", DType::Float64}, {"f2", DType::Float16}, {"i1", DType::Int8},
      {"i2", DType::Int16},   {"i4", DType::Int32},   {"i8", DType::Int64},   {"u1", DType::UInt8},
      {"u2", DType::UInt16},  {"u4", DType::UInt32},  {"u8", DType::UInt64},  {"b1", DType::Bool}};
  if (d.size() == 3 && (d[0] == '<' || d[0] == '|' || d[0] == '=')) {
    for (auto& [code, t] : table)
      if (d.compare(1, 2, code) == 0) {
        if (d[0] == '|' && dtype_size(t) != 1) break;
        return t;
      }
  }
  throw Error(ErrorCode::InvalidArgument, path + ": numpy dtype '" + d +
                                              "' is not supported "
                                              "(little-endian bool, int, uint and float, and str '<U')");
}

// Value of `'key': value` in the header dict, up to the next ',' or '}' at depth 0.
std::string dict_value(const std::string& h, const std::string& key, const std::string& path) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) throw Error(ErrorCode::InvalidArgument, path + ": .npy header has no '" + key + "'");
  size_t c = h.find(':', k);
  if (c == std::string::npos) throw Error(ErrorCode::InvalidArgument, path + ": malformed .npy header");
  size_t i = c + 1, depth = 0;
  std::string v;
  for (; i < h.size(); ++i) {
    char ch = h[i];
    if (ch == '(') depth++;
    if (ch == ')') {
      if (depth == 0) break;
      depth--;
    }
    if ((ch == ',' || ch == '}') && depth == 0) break;
    v += ch;
  }
  size_t a = v.find_first_not_of(" "), b = v.find_last_not_of(" ");
  return a == std::string::npos ? std::string() : v.substr(a, b - a + 1);
}

// numpy str elements: `width` little-endian UTF-32 code points each, NUL-padded.
Tensor strings_from_utf32(const std::string& bytes, size_t start, int64_t n, int64_t width, const Shape& shape,
                          const std::string& path) {
  const uint64_t per = static_cast<uint64_t>(width) * 4, have = bytes.size() - start;
  if (n > 0 && (per == 0 || have / per != static_cast<uint64_t>(n) || have % per != 0))
    throw Error(ErrorCode::InvalidArgument, path + ": data has " + std::to_string(have) + " bytes, shape " +
                                                shape_str(shape) + " of <U" + std::to_string(width) + " needs " +
                                                std::to_string(per * static_cast<uint64_t>(n)));
  Tensor t(DType::String, shape);
  std::string* out = t.data<std::string>();
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(bytes.data() + start) + per * static_cast<uint64_t>(i);
    int64_t len = width;
    while (len > 0 && !(p[4 * (len - 1)] | p[4 * (len - 1) + 1] | p[4 * (len - 1) + 2] | p[4 * (len - 1) + 3])) --len;
    for (int64_t k = 0; k < len; ++k) {
      const char32_t cp = static_cast<char32_t>(p[4 * k]) | static_cast<char32_t>(p[4 * k + 1]) << 8 |
                          static_cast<char32_t>(p[4 * k + 2]) << 16 | static_cast<char32_t>(p[4 * k + 3]) << 24;
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        throw Error(ErrorCode::InvalidArgument,
                    path + ": element " + std::to_string(i) + " holds an invalid code point " + std::to_string(cp));
      encode_utf8(cp, out[i]);
    }
  }
  return t;
}

// The elements of a string tensor as numpy str data ('<U<width>'); every
// element must be valid UTF-8.
std::string utf32_of(const Tensor& t, int64_t* width) {
  std::vector<std::u32string> text(static_cast<size_t>(t.numel()));
  size_t w = 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const std::string& s = t.data<std::string>()[i];
    for (size_t k = 0; k < s.size();) {
      char32_t cp;
      const size_t len = decode_utf8(s, k, &cp);
      if (len == 0)
        throw Error(ErrorCode::InvalidArgument, "cannot write string element " + std::to_string(i) +
                                                    " as .npy: it is not valid UTF-8 (write a .pb file)");
      text[static_cast<size_t>(i)] += cp;
      k += len;
    }
    w = std::max(w, text[static_cast<size_t>(i)].size());
  }
  std::string out(text.size() * w * 4, '\0');
  for (size_t i = 0; i < text.size(); ++i)
    for (size_t k = 0; k < text[i].size(); ++k)
      for (int b = 0; b < 4; ++b)
        out[(i * w + k) * 4 + static_cast<size_t>(b)] = static_cast<char>(text[i][k] >> (8 * b));
  *width = static_cast<int64_t>(w);
  return out;
}

}  // namespace

Tensor read_npy(const std::string& path) { return parse_npy(read_file_bytes(path, "tensor file"), path); }

Tensor parse_npy(const std::string& bytes, const std::string& path) {
  auto bad = [&](const std::string& m) { return Error(ErrorCode::InvalidArgument, path + ": " + m); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw bad("not a .npy file (bad magic)");
  int major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw bad("truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    throw bad(".npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > bytes.size() - header_start) throw bad("truncated .npy header");
  std::string h = bytes.substr(header_start, header_len);
  std::string descr = dict_value(h, "descr", path);
  if (descr.size() < 2 || descr.front() != '\'' || descr.back() != '\'') throw bad("malformed 'descr' in .npy header");
  const std::string code = descr.substr(1, descr.size() - 2);
  int64_t width = -1;  // numpy str ('<U<width>'): UTF-32 code points per element
  if (code.size() > 2 && (code.compare(0, 2, "<U") == 0 || code.compare(0, 2, "|U") == 0)) {
    width = 0;
    for (size_t i = 2; i < code.size(); ++i) {
      if (code[i] < '0' || code[i] > '9' || width > (int64_t{1} << 40)) throw bad("malformed 'descr' " + code);
      width = width * 10 + (code[i] - '0');
    }
  }
  DType dt = width >= 0 ? DType::String : dtype_from_descr(code, path);
  if (dict_value(h, "fortran_order", path) != "False") throw bad("Fortran-ordered arrays are not supported");
  std::string sh = dict_value(h, "shape", path);
  if (sh.size() < 2 || sh.front() != '(' || sh.back() != ')') throw bad("malformed 'shape' in .npy header");
  Shape shape;
  std::string num;
  for (size_t i = 1; i < sh.size(); ++i) {
    char ch = sh[i];
    if (ch >= '0' && ch <= '9') {
      num += ch;
      if (num.size() > 18) throw bad("dimension too large in .npy header");
    } else if (ch == ',' || ch == ')') {
      if (!num.empty()) shape.push_back(std::stoll(num));
      num.clear();
    } else if (ch != ' ' && ch != 'L') {
      throw bad("malformed 'shape' in .npy header");
    }
  }
  if (shape.size() > 64) throw bad("rank too large");
  int64_t n;
  try {
    n = shape_numel(shape, dt);
  } catch (const Error& e) {
    throw bad(e.what());
  }
  size_t data_start = header_start + header_len;
  if (dt == DType::String) return strings_from_utf32(bytes, data_start, n, width, shape, path);
  size_t nbytes = static_cast<size_t>(n) * dtype_size(dt);
  if (bytes.size() - data_start != nbytes)
    throw bad("data has " + std::to_string(bytes.size() - data_start) + " bytes, shape " + shape_str(shape) + " of " +
              dtype_name(dt) + " needs " + std::to_string(nbytes));
  Tensor t = Tensor::uninitialized(dt, shape);
  if (nbytes) std::memcpy(t.raw(), bytes.data() + data_start, nbytes);
  return t;
}

Tensor read_tensor_pb(const std::string& path, std::string* name) {
  return parse_tensor_pb(read_file_bytes(path, "tensor file"), path, name);
}

Tensor parse_tensor_pb(const std::string& bytes, const std::string& path, std::string* name) {
  onnx::TensorProto tp;
  if (!tp.ParseFromString(bytes))
    throw Error(ErrorCode::InvalidArgument, path + ": not a valid TensorProto (protobuf parsing failed)");
  if (tp.data_type() == 0 && tp.dims_size() == 0 && !tp.has_raw_data())
    throw Error(ErrorCode::InvalidArgument, path + ": not a TensorProto (no data type)");
  if (name) *name = tp.name();
  // External data in a loose tensor file is not followed. A malformed tensor
  // file is the caller's bad argument, not a bad model.
  try {
    return tensor_from_proto(tp, "", path);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::InvalidModel) throw Error(ErrorCode::InvalidArgument, e.what());
    throw;
  }
}

Tensor read_tensor_file(const std::string& path, std::string* name) {
  if (ends_with(path, ".npy")) {
    if (name) name->clear();
    return read_npy(path);
  }
  return read_tensor_pb(path, name);
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string utf32, str_descr;
  if (t.dtype() == DType::String) {
    int64_t width = 0;
    utf32 = utf32_of(t, &width);
    str_descr = "<U" + std::to_string(width);
  }
  const char* descr = t.dtype() == DType::String ? str_descr.c_str() : npy_descr(t.dtype());
  if (!descr)
    throw Error(ErrorCode::InvalidArgument, "cannot write a tensor of dtype " + std::string(dtype_name(t.dtype())) +
                                                " as .npy (numpy has no such dtype; write a .pb file)");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i)
    shape += std::to_string(t.shape()[i]) + (t.rank() == 1 ? "," : i + 1 < t.shape().size() ? ", " : "");
  shape += ")";
  std::string h = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>((h.size() >> 8) & 0xff);
  out += h;
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::IO, "cannot write '" + path + "'");
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  if (t.dtype() == DType::String)
    f.write(utf32.data(), static_cast<std::streamsize>(utf32.size()));
  else
    f.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  if (!f) throw Error(ErrorCode::IO, "cannot write '" + path + "'");
}

void write_tensor_pb(const std::string& path, const Tensor& t, const std::string& name) {
  onnx::TensorProto tp;
  tensor_to_proto(t, name, &tp);
  std::ofstream f(path, std::ios::binary);
  if (!f || !tp.SerializeToOstream(&f)) throw Error(ErrorCode::IO, "cannot write '" + path + "'");
}

}  // namespace normrt
