#include "cli_common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace normrt::cli {

namespace fs = std::filesystem;

SessionOptions session_options(const Args& a) {
  SessionOptions o;
  o.threads = static_cast<int>(a.get_int("--threads", 0, 1, 1024));
  std::string inter = a.get("--inter-op", "on");
  if (inter != "on" && inter != "off") throw UsageError{"--inter-op expects on or off, got '" + inter + "'"};
  o.inter_op = inter == "on";
  const std::string opt = a.get("--optimize", "all");
  if (opt == "none")
    o.optimization = OptimizationLevel::None;
  else if (opt == "basic")
    o.optimization = OptimizationLevel::Basic;
  else if (opt == "all")
    o.optimization = OptimizationLevel::All;
  else
    throw UsageError{"--optimize expects none, basic or all, got '" + opt + "'"};
  return o;
}

std::string dims_str(const ValueMeta& m) {
  if (!m.has_shape) return "(unknown rank)";
  std::string s = "[";
  for (size_t i = 0; i < m.shape.size(); ++i) {
    if (i) s += ",";
    s += m.shape[i] >= 0 ? std::to_string(m.shape[i]) : (m.dim_names[i].empty() ? "?" : m.dim_names[i]);
  }
  return s + "]";
}

double element_as_double(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::Float32:
      return t.data<float>()[i];
    case DType::Float64:
      return t.data<double>()[i];
    case DType::Float16:
      return half_to_float(t.data<uint16_t>()[i]);
    case DType::BFloat16:
      return bfloat16_to_float(t.data<uint16_t>()[i]);
    case DType::Int8:
      return t.data<int8_t>()[i];
    case DType::Int16:
      return t.data<int16_t>()[i];
    case DType::Int32:
      return t.data<int32_t>()[i];
    case DType::Int64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case DType::UInt8:
    case DType::Bool:
      return t.data<uint8_t>()[i];
    case DType::UInt16:
      return t.data<uint16_t>()[i];
    case DType::UInt32:
      return t.data<uint32_t>()[i];
    case DType::UInt64:
      return static_cast<double>(t.data<uint64_t>()[i]);
    case DType::String:  // not a number: print_tensor and compare take strings as they are
    case DType::Undefined:
      break;
  }
  return 0;
}

Tensor random_tensor(DType dt, const Shape& shape, std::mt19937_64& rng) {
  Tensor t(dt, shape);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int> small(0, 9);
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (dt) {
      case DType::Float32:
        t.data<float>()[i] = normal(rng);
        break;
      case DType::Float64:
        t.data<double>()[i] = normal(rng);
        break;
      case DType::Float16:
        t.data<uint16_t>()[i] = float_to_half(normal(rng));
        break;
      case DType::BFloat16:
        t.data<uint16_t>()[i] = float_to_bfloat16(normal(rng));
        break;
      case DType::Bool:
        t.data<uint8_t>()[i] = small(rng) & 1;
        break;
      case DType::Int8:
        t.data<int8_t>()[i] = static_cast<int8_t>(small(rng));
        break;
      case DType::Int16:
        t.data<int16_t>()[i] = static_cast<int16_t>(small(rng));
        break;
      case DType::Int32:
        t.data<int32_t>()[i] = small(rng);
        break;
      case DType::Int64:
        t.data<int64_t>()[i] = small(rng);
        break;
      case DType::UInt8:
        t.data<uint8_t>()[i] = static_cast<uint8_t>(small(rng));
        break;
      case DType::UInt16:
        t.data<uint16_t>()[i] = static_cast<uint16_t>(small(rng));
        break;
      case DType::UInt32:
        t.data<uint32_t>()[i] = static_cast<uint32_t>(small(rng));
        break;
      case DType::UInt64:
        t.data<uint64_t>()[i] = static_cast<uint64_t>(small(rng));
        break;
      case DType::String:
        t.data<std::string>()[i] = std::to_string(small(rng));
        break;
      case DType::Undefined:
        break;
    }
  }
  return t;
}

// A string element for the terminal: quotes, backslashes and control bytes escaped.
static std::string printable(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

void print_tensor(const std::string& name, const Tensor& t, int64_t count) {
  std::printf("%s: %s %s", name.c_str(), dtype_name(t.dtype()), shape_str(t.shape()).c_str());
  std::printf("  [");
  for (int64_t i = 0; i < std::min(count, t.numel()); ++i) {
    if (t.dtype() == DType::String)
      std::printf("%s\"%s\"", i ? ", " : "", printable(t.data<std::string>()[i]).c_str());
    else
      std::printf("%s%.6g", i ? ", " : "", element_as_double(t, i));
  }
  std::printf("%s]\n", t.numel() > count ? ", ..." : "");
}

std::string file_name_for(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return s.empty() ? "output" : s;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

InputPlan parse_input_plan(const Session& s, const Args& a) {
  InputPlan p;
  auto known = [&](const std::string& name, const std::string& flag) {
    for (auto& m : s.inputs())
      if (m.name == name) return;
    std::string names;
    for (auto& m : s.inputs()) names += (names.empty() ? "" : ", ") + m.name;
    throw UsageError{flag + ": the model has no input '" + name + "' (inputs: " + names + ")"};
  };
  for (auto& v : a.all("--input")) {
    auto [name, file] = split_assignment(v, "--input");
    known(name, "--input");
    p.files[name] = file;
  }
  p.data_dir = a.get("--data-dir", "");
  if (!p.data_dir.empty()) {
    if (!fs::is_directory(p.data_dir)) throw UsageError{"--data-dir: '" + p.data_dir + "' is not a folder"};
    for (size_t i = 0; i < s.inputs().size(); ++i) {
      fs::path f = fs::path(p.data_dir) / ("input_" + std::to_string(i) + ".pb");
      if (!p.files.count(s.inputs()[i].name)) {
        if (!fs::exists(f)) throw UsageError{"--data-dir: '" + f.string() + "' does not exist"};
        p.files[s.inputs()[i].name] = f.string();
      }
    }
  }
  // Each input may be given k shapes; set j takes the j-th (or the only one).
  std::map<std::string, std::vector<Shape>> per_input;
  for (auto& v : a.all("--shape")) {
    auto [name, dims] = split_assignment(v, "--shape");
    known(name, "--shape");
    per_input[name].push_back(parse_shape(dims, "--shape"));
  }
  size_t sets = 1;
  for (auto& [name, shapes] : per_input) {
    if (shapes.size() > 1 && sets > 1 && shapes.size() != sets)
      throw UsageError{"--shape: inputs are given different numbers of shapes (" + std::to_string(sets) + " and " +
                       std::to_string(shapes.size()) + " for '" + name + "')"};
    sets = std::max(sets, shapes.size());
  }
  p.shape_sets.resize(sets);
  for (size_t j = 0; j < sets; ++j)
    for (auto& [name, shapes] : per_input) p.shape_sets[j][name] = shapes.size() == 1 ? shapes[0] : shapes[j];
  p.seed = static_cast<uint64_t>(a.get_int("--seed", 0, 0, INT64_MAX));
  return p;
}

NamedTensors make_inputs(const Session& s, const InputPlan& plan, const std::map<std::string, Shape>& shapes) {
  // A symbolic dim fixed by one --shape applies to every input that names it.
  std::map<std::string, int64_t> symbols;
  for (auto& m : s.inputs()) {
    auto it = shapes.find(m.name);
    if (it == shapes.end() || !m.has_shape || it->second.size() != m.shape.size()) continue;
    for (size_t d = 0; d < m.shape.size(); ++d)
      if (m.shape[d] < 0 && !m.dim_names[d].empty()) symbols.emplace(m.dim_names[d], it->second[d]);
  }
  std::mt19937_64 rng(plan.seed);
  NamedTensors inputs;
  for (auto& m : s.inputs()) {
    auto file = plan.files.find(m.name);
    if (file != plan.files.end()) {
      inputs.emplace_back(m.name, read_tensor_for(file->second, m.dtype));
      continue;
    }
    Shape shape;
    auto given = shapes.find(m.name);
    if (given != shapes.end()) {
      shape = given->second;
    } else {
      if (!m.has_shape)
        throw UsageError{"input '" + m.name + "' has no declared shape; give --shape " + m.name + "=..."};
      for (size_t d = 0; d < m.shape.size(); ++d) {
        auto sym = symbols.find(m.dim_names[d]);
        shape.push_back(m.shape[d] >= 0 ? m.shape[d] : sym != symbols.end() ? sym->second : 1);
      }
    }
    inputs.emplace_back(m.name, random_tensor(m.dtype, shape, rng));
  }
  return inputs;
}

std::string shape_set_label(const std::map<std::string, Shape>& shapes) {
  std::string s;
  for (auto& [name, shape] : shapes) {
    if (!s.empty()) s += " ";
    s += name + "=";
    for (size_t i = 0; i < shape.size(); ++i) {
      if (i) s += "x";
      s += std::to_string(shape[i]);
    }
  }
  return s.empty() ? "(declared shapes)" : s;
}

Tensor read_tensor_for(const std::string& path, DType declared) {
  Tensor t = read_tensor_file(path);
  if (declared != DType::BFloat16 || t.dtype() != DType::UInt16) return t;
  Tensor b = Tensor::uninitialized(DType::BFloat16, t.shape());
  if (t.nbytes()) std::memcpy(b.raw(), t.raw(), t.nbytes());
  return b;
}

std::vector<std::optional<Tensor>> read_expected_outputs(const Session& s, const fs::path& dir) {
  std::vector<std::optional<Tensor>> v;
  for (size_t i = 0; i < s.outputs().size(); ++i) {
    fs::path p = dir / ("output_" + std::to_string(i) + ".pb");
    v.push_back(fs::exists(p) ? std::optional<Tensor>(read_tensor_for(p.string(), s.outputs()[i].dtype))
                              : std::nullopt);
  }
  return v;
}

Compare compare(const Tensor& got, const Tensor& want, double rtol, double atol) {
  Compare c;
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    c.pass = false;
    c.why = std::string("got ") + dtype_name(got.dtype()) + shape_str(got.shape()) + ", expected " +
            dtype_name(want.dtype()) + shape_str(want.shape());
    return c;
  }
  if (got.dtype() == DType::String) {  // strings match exactly
    for (int64_t i = 0; i < got.numel(); ++i)
      if (got.data<std::string>()[i] != want.data<std::string>()[i]) {
        c.pass = false;
        if (c.why.empty())
          c.why = "element " + std::to_string(i) + " is \"" + printable(got.data<std::string>()[i]) +
                  "\", expected \"" + printable(want.data<std::string>()[i]) + "\"";
      }
    return c;
  }
  for (int64_t i = 0; i < got.numel(); ++i) {
    double g = element_as_double(got, i), w = element_as_double(want, i);
    if (std::isnan(w) && std::isnan(g)) continue;
    if (std::isinf(w) && g == w) continue;
    double err = std::fabs(g - w);
    if (std::isnan(err)) err = INFINITY;
    c.max_abs = std::max(c.max_abs, err);
    if (w != 0) c.max_rel = std::max(c.max_rel, err / std::fabs(w));
    if (!(err <= atol + rtol * std::fabs(w))) c.pass = false;
  }
  return c;
}

Compare compare_values(const Value& got, const Value& want, double rtol, double atol) {
  Compare c;
  if (got.kind() != want.kind()) {
    c.pass = false;
    c.why = "got a " + got.type_str() + ", expected a " + want.type_str();
    return c;
  }
  if (got.is_tensor()) return compare(got.tensor(), want.tensor(), rtol, atol);
  if (got.is_optional()) {
    if (got.has_value() != want.has_value()) {
      c.pass = false;
      c.why = got.has_value() ? "got a value, expected an empty optional" : "got an empty optional, expected a value";
      return c;
    }
    return got.has_value() ? compare_values(got.contents(), want.contents(), rtol, atol) : c;
  }
  const auto &g = got.items(), &w = want.items();
  if (g.size() != w.size()) {
    c.pass = false;
    c.why = "got " + std::to_string(g.size()) + " items, expected " + std::to_string(w.size());
    return c;
  }
  for (size_t i = 0; i < g.size(); ++i) {
    Compare ci = compare(g[i], w[i], rtol, atol);
    c.max_abs = std::max(c.max_abs, ci.max_abs);
    c.max_rel = std::max(c.max_rel, ci.max_rel);
    if (!ci.pass && c.pass) c.why = "item " + std::to_string(i) + ": " + ci.why;
    c.pass = c.pass && ci.pass;
  }
  return c;
}

Value read_value_for(const std::string& path, const ValueMeta& declared) {
  if (declared.kind == ValueKind::Tensor) return read_tensor_for(path, declared.dtype);
  return read_value_pb(path, declared.kind);
}

std::string value_type_dims(const ValueMeta& m) {
  const std::string dims = m.kind == ValueKind::Tensor || m.has_shape ? " " + dims_str(m) : "";
  return (m.kind == ValueKind::Tensor ? std::string(dtype_name(m.dtype)) : type_str(m)) + dims;
}

}  // namespace normrt::cli
