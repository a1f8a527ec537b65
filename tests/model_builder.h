// Builds small ONNX models in C++ for tests (valid ones and deliberately broken ones).
#pragma once
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "normrt/tensor.h"

namespace normrt::test {

// A float32 tensor of N(offset, 1) values from a fixed seed.
inline Tensor random_tensor(const Shape& shape, uint64_t seed, float offset = 0.f) {
  Tensor t(DType::Float32, shape);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = offset + g(rng);
  return t;
}

// The folders temp_dir made, removed when the test process exits.
struct TempDirs {
  std::vector<std::filesystem::path> made;
  ~TempDirs() {
    std::error_code ec;
    for (const auto& p : made) std::filesystem::remove_all(p, ec);
  }
};

inline std::filesystem::path temp_dir(const std::string& tag) {
  static TempDirs dirs;
  auto p = std::filesystem::temp_directory_path() / ("normrt_test_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  dirs.made.push_back(p);
  return p;
}

struct ModelBuilder {
  onnx::ModelProto model;
  onnx::GraphProto* g;

  explicit ModelBuilder(int64_t opset = 17) {
    model.set_ir_version(8);
    model.set_producer_name("normrt-tests");
    auto* op = model.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    g = model.mutable_graph();
    g->set_name("test");
  }

  ModelBuilder& import(const std::string& domain, int64_t version) {
    auto* op = model.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
    return *this;
  }
  static void attr_s(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  static void set_type(onnx::ValueInfoProto* v, const std::string& name, int elem, const std::vector<int64_t>& dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* sh = tt->mutable_shape();
    for (int64_t d : dims) {
      auto* dim = sh->add_dim();
      if (d >= 0)
        dim->set_dim_value(d);
      else
        dim->set_dim_param("N" + std::to_string(-d));
    }
  }
  ModelBuilder& input(const std::string& name, const std::vector<int64_t>& dims, int elem = 1) {
    set_type(g->add_input(), name, elem, dims);
    return *this;
  }
  ModelBuilder& output(const std::string& name, int elem = 1, const std::vector<int64_t>& dims = {}) {
    auto* v = g->add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(elem);
    (void)dims;
    return *this;
  }
  onnx::TensorProto* init_f(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(1);
    for (int64_t d : dims) t->add_dims(d);
    for (float f : v) t->add_float_data(f);
    return t;
  }
  onnx::TensorProto* init_i64(const std::string& name, const std::vector<int64_t>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(7);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return t;
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
                        const std::string& domain = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_domain(domain);
    n->set_name(op + "_" + std::to_string(g->node_size()));
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  static void attr_i(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_f(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  std::string bytes() const { return model.SerializeAsString(); }
  std::string save(const std::filesystem::path& path) const {
    std::ofstream f(path, std::ios::binary);
    f << bytes();
    return path.string();
  }
};

}  // namespace normrt::test
