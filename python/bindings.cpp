// normrt._normrt: the C++ Session as a Python extension (pybind11). Inputs are
// read in place when they are C-contiguous NumPy arrays of the input's dtype
// (else copied once to that layout); outputs come back as NumPy arrays that own
// the result (the Tensor moves into the array's base object, no copy). The GIL
// is released while a run executes. String tensors come in as arrays of str
// (copied) and go out as object arrays of str. normrt/__init__.py builds ONNX
// Runtime's API on top of this module.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include "normrt/normrt.h"

namespace py = pybind11;
using namespace normrt;

namespace {

// The NumPy dtype holding a normrt dtype ("float16" as NumPy's half).
py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::Float32:
      return py::dtype("float32");
    case DType::Float64:
      return py::dtype("float64");
    case DType::Float16:
      return py::dtype("float16");
    case DType::Int8:
      return py::dtype("int8");
    case DType::Int16:
      return py::dtype("int16");
    case DType::Int32:
      return py::dtype("int32");
    case DType::Int64:
      return py::dtype("int64");
    case DType::UInt8:
      return py::dtype("uint8");
    case DType::UInt16:
      return py::dtype("uint16");
    case DType::UInt32:
      return py::dtype("uint32");
    case DType::UInt64:
      return py::dtype("uint64");
    case DType::Bool:
      return py::dtype("bool");
    default:
      throw Error(ErrorCode::InvalidArgument, std::string("dtype ") + dtype_name(t) + " has no NumPy type");
  }
}

std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")); }

// The inputs of one run: each a Tensor viewing an array kept alive here. A
// model with sequence or optional inputs or outputs gets them all as `values`
// (a sequence from a list of arrays, an optional from None or its contents).
struct Feed {
  NamedTensors tensors;
  NamedValues values;
  bool value_io = false;
  std::vector<py::array> arrays;  // the arrays the views read (the caller's, or a converted copy)
};

// A string input: a NumPy array of str (dtype 'U', or object holding str or
// bytes) copied into a String tensor (UTF-8).
Tensor strings_from_numpy(const std::string& name, const py::array& a) {
  const char kind = a.dtype().kind();
  if (kind != 'U' && kind != 'O' && kind != 'S')
    throw Error(ErrorCode::InvalidArgument, "input '" + name + "' has dtype " +
                                                py::str(a.dtype().attr("name")).cast<std::string>() +
                                                ", the model expects strings (a numpy array of str)");
  Shape shape(a.shape(), a.shape() + a.ndim());
  Tensor t(DType::String, shape);
  std::string* out = t.data<std::string>();
  int64_t i = 0;
  for (py::handle item : a.attr("ravel")()) {
    if (py::isinstance<py::str>(item))
      out[i++] = item.cast<std::string>();
    else if (py::isinstance<py::bytes>(item))
      out[i++] = std::string(py::reinterpret_borrow<py::bytes>(item));
    else
      throw Error(ErrorCode::InvalidArgument,
                  "input '" + name + "': element " + std::to_string(i) + " is a " + type_name(item) + ", not a str");
  }
  return t;
}

// A string output as a NumPy array of Python str (object dtype, as ONNX
// Runtime gives); bytes that are not UTF-8 decode with surrogateescape.
py::array strings_to_numpy(const Tensor& t) {
  py::list items;
  for (const std::string& s : t.span<std::string>()) {
    PyObject* u = PyUnicode_DecodeUTF8(s.data(), static_cast<py::ssize_t>(s.size()), "surrogateescape");
    if (!u) throw py::error_already_set();
    items.append(py::reinterpret_steal<py::object>(u));
  }
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array a = py::module_::import("numpy").attr("array")(items, py::arg("dtype") = "object");
  return a.attr("reshape")(shape);
}

// A Tensor viewing `obj` (a numpy.ndarray of `dtype`); the array is kept in `f`.
Tensor view_array(const std::string& name, py::handle obj, DType dtype, Feed& f) {
  if (!py::isinstance<py::array>(obj))
    throw Error(ErrorCode::InvalidArgument, "input '" + name + "' must be a numpy.ndarray, got " + type_name(obj));
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (dtype == DType::String) return strings_from_numpy(name, a);  // copied: strings are not viewed
  if (dtype != DType::Undefined) {
    const py::dtype want = numpy_dtype(dtype);
    if (!a.dtype().attr("__eq__")(want).cast<bool>())
      throw Error(ErrorCode::InvalidArgument, "input '" + name + "' has dtype " +
                                                  py::str(a.dtype().attr("name")).cast<std::string>() +
                                                  ", the model expects " + dtype_name(dtype));
  }
  // In place when C-contiguous and aligned for its element; else one converted copy.
  const bool in_place = (a.flags() & py::array::c_style) && (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_);
  if (!in_place) a = py::array::ensure(a, py::array::c_style | py::array::forcecast);
  Shape shape(a.shape(), a.shape() + a.ndim());
  const std::string kind = py::str(a.dtype().attr("name"));
  DType dt = dtype;
  if (dt == DType::Undefined)  // a sequence of any dtype: the array's
    for (DType c : {DType::Float32, DType::Float64, DType::Float16, DType::Int8, DType::Int16, DType::Int32,
                    DType::Int64, DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64, DType::Bool})
      if (a.dtype().attr("__eq__")(numpy_dtype(c)).cast<bool>()) dt = c;
  if (dt == DType::Undefined) throw Error(ErrorCode::InvalidArgument, "input '" + name + "' has dtype " + kind);
  Tensor t = Tensor::view(const_cast<void*>(a.data()), dt, shape);
  f.arrays.push_back(a);
  return t;
}

Value sequence_from(const std::string& name, py::handle obj, DType dtype, Feed& f) {
  if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj))
    throw Error(ErrorCode::InvalidArgument,
                "input '" + name + "' is a sequence: give a list of numpy.ndarray, got " + type_name(obj));
  std::vector<Tensor> items;
  for (py::handle item : obj) items.push_back(view_array(name, item, dtype, f));
  return Value::sequence(std::move(items), dtype);
}

Feed make_feed(const Session& s, const py::dict& feed) {
  Feed f;
  for (const auto* list : {&s.inputs(), &s.outputs()})
    for (const ValueMeta& m : *list) f.value_io = f.value_io || m.kind != ValueKind::Tensor;
  for (auto item : feed) {
    const std::string name = py::str(item.first);
    const ValueMeta* meta = nullptr;
    for (const ValueMeta& m : s.inputs())
      if (m.name == name) meta = &m;
    if (!meta) {
      std::string names;
      for (const ValueMeta& m : s.inputs()) names += (names.empty() ? "'" : ", '") + m.name + "'";
      throw Error(ErrorCode::InvalidArgument, "the model has no input '" + name + "' (its inputs: " + names + ")");
    }
    if (!f.value_io) {
      f.tensors.emplace_back(name, view_array(name, item.second, meta->dtype, f));
    } else if (meta->kind == ValueKind::Tensor) {
      f.values.emplace_back(name, view_array(name, item.second, meta->dtype, f));
    } else if (meta->kind == ValueKind::Sequence) {
      f.values.emplace_back(name, sequence_from(name, item.second, meta->dtype, f));
    } else if (item.second.is_none()) {
      f.values.emplace_back(name, Value::none(meta->dtype, meta->optional_of));
    } else {
      f.values.emplace_back(name, Value::optional(meta->optional_of == ValueKind::Sequence
                                                      ? sequence_from(name, item.second, meta->dtype, f)
                                                      : Value(view_array(name, item.second, meta->dtype, f))));
    }
  }
  return f;
}

// A NumPy array that owns `t`'s buffer (the Tensor lives in the array's base
// capsule). An output that views a caller's input array is copied instead, so
// no result ever aliases an input.
py::array to_numpy(Tensor t, const Feed& feed) {
  if (t.dtype() == DType::String) return strings_to_numpy(t);
  const py::dtype dt = numpy_dtype(t.dtype());
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  const char* p = static_cast<const char*>(t.raw());
  for (const py::array& a : feed.arrays) {
    const char* b = static_cast<const char*>(a.data());
    if (p && t.nbytes() && p < b + a.nbytes() && b < p + t.nbytes()) {
      py::array copy(dt, shape);
      std::memcpy(copy.mutable_data(), p, t.nbytes());
      return copy;
    }
  }
  auto* owned = new Tensor(std::move(t));
  py::capsule base(owned, [](void* q) { delete static_cast<Tensor*>(q); });
  return py::array(dt, shape, owned->raw(), base);
}

// A Value as Python: an array, a list of arrays (a sequence), None or the contents (an optional).
py::object to_python(const Value& v, const Feed& feed) {
  if (v.is_tensor()) return to_numpy(v.tensor(), feed);
  if (v.is_optional()) return v.has_value() ? to_python(v.contents(), feed) : py::none();
  py::list items;
  for (const Tensor& t : v.items()) items.append(to_numpy(t, feed));
  return items;
}

py::object to_python_dims(const ValueMeta& m) {
  if (!m.has_shape) return py::none();
  py::list dims;
  for (size_t d = 0; d < m.shape.size(); ++d) {
    if (m.shape[d] >= 0)
      dims.append(m.shape[d]);
    else if (d < m.dim_names.size() && !m.dim_names[d].empty())
      dims.append(m.dim_names[d]);
    else
      dims.append(py::none());
  }
  return dims;
}

// (name, dims, dtype, kind): kind "tensor", "seq", "optional" or "optional_seq".
py::list value_list(const std::vector<ValueMeta>& values) {
  py::list out;
  for (const ValueMeta& m : values) {
    const char* kind = m.kind == ValueKind::Sequence ? "seq"
                       : m.kind == ValueKind::Optional
                           ? (m.optional_of == ValueKind::Sequence ? "optional_seq" : "optional")
                           : "tensor";
    out.append(py::make_tuple(m.name, to_python_dims(m), static_cast<int>(m.dtype), kind));
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_normrt, m) {
  m.doc() = "normrt's C++ runtime (use the normrt package, not this module)";
  // Errors: normrt.Error and one subclass per ErrorCode, made in __init__.py and registered here.
  // Strong references held for the process's life: a static py::object would
  // be released after the interpreter is finalized, at exit.
  static PyObject* error_classes[5] = {};
  m.def("_set_error_classes", [](py::list classes) {
    for (size_t i = 0; i < 5; ++i) {
      PyObject* cls = py::object(classes[i]).release().ptr();
      Py_XDECREF(error_classes[i]);
      error_classes[i] = cls;
    }
  });
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* cls = error_classes[static_cast<int>(e.code())];
      if (cls) {
        PyErr_SetObject(cls, py::str(e.what()).ptr());
      } else {
        PyErr_SetString(PyExc_RuntimeError, e.what());
      }
    }
  });

  py::class_<Session>(m, "Session")
      .def(py::init([](const std::string& path, int threads, bool inter_op, int optimization, const std::string& isa) {
             SessionOptions o;
             o.threads = threads;
             o.inter_op = inter_op;
             o.optimization = static_cast<OptimizationLevel>(optimization);
             o.isa = isa;
             py::gil_scoped_release release;
             return Session(path, o);
           }),
           py::arg("path"), py::arg("threads"), py::arg("inter_op"), py::arg("optimization"), py::arg("isa"))
      .def_static(
          "from_bytes",
          [](py::bytes data, int threads, bool inter_op, int optimization, const std::string& isa) {
            SessionOptions o;
            o.threads = threads;
            o.inter_op = inter_op;
            o.optimization = static_cast<OptimizationLevel>(optimization);
            o.isa = isa;
            const std::string bytes = data;
            py::gil_scoped_release release;
            return Session::from_memory(bytes.data(), bytes.size(), "", o);
          },
          py::arg("data"), py::arg("threads"), py::arg("inter_op"), py::arg("optimization"), py::arg("isa"))
      .def("inputs", [](const Session& s) { return value_list(s.inputs()); })
      .def("outputs", [](const Session& s) { return value_list(s.outputs()); })
      .def_property_readonly("threads", &Session::threads)
      .def_property_readonly("isa", &Session::isa)
      .def(
          "run",
          [](const Session& s, const py::dict& feed, bool profile) {
            Feed f = make_feed(s, feed);
            NamedTensors out;
            RunProfile prof;
            py::dict results;
            if (f.value_io) {  // sequences as lists, optionals as None or their contents
              if (profile)
                throw Error(ErrorCode::InvalidArgument,
                            "profile is not available for models with sequence or "
                            "optional inputs or outputs");
              NamedValues values;
              {
                py::gil_scoped_release release;
                values = s.run_values(f.values);
              }
              for (auto& [name, v] : values) results[py::str(name)] = to_python(v, f);
              return py::object(results);
            }
            {
              py::gil_scoped_release release;
              out = s.run(f.tensors, profile ? &prof : nullptr);
            }
            for (auto& [name, t] : out) results[py::str(name)] = to_numpy(std::move(t), f);
            if (!profile) return py::object(results);
            py::list nodes;
            for (const NodeProfile& n : prof.nodes) {
              py::dict d;
              d["name"] = n.name;
              d["op_type"] = n.op_type;
              d["start_us"] = n.start_us;
              d["duration_us"] = n.duration_us;
              d["thread"] = n.thread;
              nodes.append(d);
            }
            return py::object(py::make_tuple(results, nodes, prof.total_us));
          },
          py::arg("feed"), py::arg("profile") = false)
      // For tests: the data address of each Tensor a run would hand to the Session.
      .def("_input_addresses", [](const Session& s, const py::dict& feed) {
        Feed f = make_feed(s, feed);
        py::dict out;
        for (auto& [name, t] : f.tensors) out[py::str(name)] = reinterpret_cast<uintptr_t>(t.raw());
        return out;
      });

  m.def("summarize_model", [](const std::string& path) {
    ModelSummary s = summarize_model(path, false);
    py::dict d;
    d["producer"] = s.producer;
    d["ir_version"] = s.ir_version;
    d["opsets"] = s.opsets;
    return d;
  });
  m.def("version", &version);
  m.def("active_isa", &active_isa);
}
