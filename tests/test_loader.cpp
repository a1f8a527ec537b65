// Model loading: valid models with every initializer form, and malformed ones,
// each failing with an error that names the file and what is wrong.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "loaders/onnx_loader.h"
#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

struct Caught {
  std::string what;
  ErrorCode code = ErrorCode::Internal;
  bool thrown = false;
};

template <class F>
Caught catch_error(F&& f) {
  Caught c;
  try {
    f();
  } catch (const Error& e) {
    c.what = e.what();
    c.code = e.code();
    c.thrown = true;
  }
  return c;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// y = LayerNorm(x) over the last axis with scale w (and bias b unless `bias` is "").
ModelBuilder layer_norm_model(const std::string& bias = "b") {
  ModelBuilder m;
  m.input("x", {2, 4}).output("y");
  m.init_f("w", {4}, {1, 2, 3, 4});
  if (!bias.empty()) m.init_f("b", {4}, {0.5f, 0.5f, 0.5f, 0.5f});
  m.node("LayerNormalization", {"x", "w", bias}, {"y"});
  return m;
}

void write_bytes(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

}  // namespace

TEST_CASE("a truncated model file is rejected naming the file") {
  auto dir = test::temp_dir("trunc");
  std::string bytes = layer_norm_model().bytes();
  auto path = dir / "trunc.onnx";
  write_bytes(path, bytes.substr(0, bytes.size() - 9));
  Caught c = catch_error([&] { Session s(path.string()); });
  REQUIRE(c.thrown);
  CHECK(c.code == ErrorCode::InvalidModel);
  CHECK(has(c.what, "trunc.onnx"));
  CHECK(has(c.what, "not a valid ONNX model"));
}

TEST_CASE("random bytes and empty files are not models") {
  auto dir = test::temp_dir("random");
  std::string junk;
  for (int i = 0; i < 1000; ++i) junk += static_cast<char>((i * 7919) % 251);
  write_bytes(dir / "junk.onnx", junk);
  write_bytes(dir / "empty.onnx", "");
  for (auto name : {"junk.onnx", "empty.onnx"}) {
    Caught c = catch_error([&] { Session s((dir / name).string()); });
    REQUIRE(c.thrown);
    CHECK(c.code == ErrorCode::InvalidModel);
    CHECK(has(c.what, name));
  }
  Caught c = catch_error([&] { Session s((dir / "absent.onnx").string()); });
  CHECK(c.code == ErrorCode::IO);
  CHECK(has(c.what, "does not exist"));
  c = catch_error([&] { Session s(dir.string()); });
  CHECK(has(c.what, "not a regular file"));
}

TEST_CASE("a node reading a value nobody produces (missing initializer)") {
  auto dir = test::temp_dir("missing");
  ModelBuilder m;
  m.input("x", {2, 4}).output("y");
  m.node("LayerNormalization", {"x", "w_missing"}, {"y"});
  Caught c = catch_error([&] { Session s(m.save(dir / "m.onnx")); });
  REQUIRE(c.thrown);
  CHECK(c.code == ErrorCode::InvalidModel);
  CHECK(has(c.what, "'w_missing'"));
  CHECK(has(c.what, "no node, graph input or initializer produces"));
}

TEST_CASE("cycles, duplicate outputs and unproduced graph outputs") {
  auto dir = test::temp_dir("structure");
  {
    ModelBuilder m;
    m.input("x", {2}).output("b");
    m.node("Add", {"x", "b"}, {"a"});
    m.node("Neg", {"a"}, {"b"});
    Caught c = catch_error([&] { Session s(m.save(dir / "cycle.onnx")); });
    CHECK(has(c.what, "cycle"));
  }
  {
    ModelBuilder m;
    m.input("x", {2}).output("a");
    m.node("Neg", {"x"}, {"a"});
    m.node("Abs", {"x"}, {"a"});
    Caught c = catch_error([&] { Session s(m.save(dir / "dup.onnx")); });
    CHECK(has(c.what, "value 'a' is produced twice"));
  }
  {
    ModelBuilder m;
    m.input("x", {2}).output("nowhere");
    m.node("Neg", {"x"}, {"a"});
    Caught c = catch_error([&] { Session s(m.save(dir / "out.onnx")); });
    CHECK(has(c.what, "graph output 'nowhere' is not produced"));
  }
}

TEST_CASE("unsupported ops and opsets are named with domain and version") {
  auto dir = test::temp_dir("unsupported");
  ModelBuilder m;
  m.input("x", {2}).output("y");
  m.node("FancyOp", {"x"}, {"y"}, "com.example");
  auto* op = m.model.add_opset_import();
  op->set_domain("com.example");
  op->set_version(3);
  Caught c = catch_error([&] { Session s(m.save(dir / "u.onnx")); });
  CHECK(c.code == ErrorCode::UnsupportedOp);
  CHECK(has(c.what, "FancyOp (domain com.example, opset 3) is not implemented"));

  ModelBuilder old(5);  // BatchNormalization before version 7
  old.input("x", {1, 2, 2}).output("y");
  for (auto n : {"s", "b", "m", "v"}) old.init_f(n, {2}, {1, 1});
  old.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"});
  c = catch_error([&] { Session s(old.save(dir / "old.onnx")); });
  CHECK(c.code == ErrorCode::UnsupportedOp);
  CHECK(has(c.what, "BatchNormalization (domain ai.onnx, opset 5): normrt implements versions from 7"));

  ModelSummary sum = summarize_model((dir / "u.onnx").string());
  REQUIRE(sum.unsupported.size() == 1);
  CHECK(has(sum.unsupported[0], "FancyOp"));
}

TEST_CASE("empty optional inputs: LayerNormalization exported as [X, Scale, \"\"]") {
  auto dir = test::temp_dir("optional");
  Session s(layer_norm_model("").save(dir / "ln.onnx"));
  Tensor x(DType::Float32, {2, 4});
  for (int i = 0; i < 8; ++i) x.data<float>()[i] = static_cast<float>(i % 4);
  auto out = s.run({{"x", x}});
  const float* y = out[0].second.data<float>();
  // Row 0..3: mean 1.5, var 1.25 → y = (i - 1.5)/sqrt(1.25 + 1e-5) * w[i]
  for (int i = 0; i < 4; ++i)
    CHECK(y[i] == doctest::Approx((i - 1.5) / std::sqrt(1.25 + 1e-5) * (i + 1)).epsilon(1e-6));
}

TEST_CASE("initializers from raw_data, typed fields and external data") {
  auto dir = test::temp_dir("external");
  ModelBuilder m = layer_norm_model();
  // Move w to raw_data and b to an external file at an offset.
  auto* w = m.g->mutable_initializer(0);
  std::vector<float> wv = {1, 2, 3, 4};
  w->clear_float_data();
  w->set_raw_data(std::string(reinterpret_cast<const char*>(wv.data()), 16));
  auto* b = m.g->mutable_initializer(1);
  b->clear_float_data();
  b->set_data_location(onnx::TensorProto::EXTERNAL);
  auto kv = [&](const std::string& k, const std::string& v) {
    auto* e = b->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", "weights.bin");
  kv("offset", "8");
  kv("length", "16");
  std::vector<float> bv = {0, 0, 0.5f, 0.5f, 0.5f, 0.5f};
  write_bytes(dir / "weights.bin", std::string(reinterpret_cast<const char*>(bv.data()), 24));
  Session s(m.save(dir / "ext.onnx"));
  Tensor x(DType::Float32, {2, 4});
  auto out = s.run({{"x", x}});
  for (int i = 0; i < 8; ++i) CHECK(out[0].second.data<float>()[i] == 0.5f);  // zero rows → y = b

  SUBCASE("external data escaping the model's folder") {
    b->mutable_external_data(0)->set_value("../weights.bin");
    write_bytes(dir.parent_path() / "weights.bin", std::string(24, '\0'));
    Caught c = catch_error([&] { Session s2(m.save(dir / "escape.onnx")); });
    CHECK(c.code == ErrorCode::InvalidModel);
    CHECK(has(c.what, "points outside the model's folder"));
    std::filesystem::remove(dir.parent_path() / "weights.bin");
  }
  SUBCASE("an absolute external data path") {
    b->mutable_external_data(0)->set_value("/etc/passwd");
    Caught c = catch_error([&] { Session s2(m.save(dir / "abs.onnx")); });
    CHECK(has(c.what, "is an absolute path"));
  }
  SUBCASE("a symlink pointing out of the folder") {
    std::filesystem::create_symlink("/etc/hostname", dir / "link.bin");
    b->mutable_external_data(0)->set_value("link.bin");
    Caught c = catch_error([&] { Session s2(m.save(dir / "link.onnx")); });
    CHECK(has(c.what, "points outside the model's folder"));
  }
  SUBCASE("a missing external file") {
    b->mutable_external_data(0)->set_value("nope.bin");
    Caught c = catch_error([&] { Session s2(m.save(dir / "nofile.onnx")); });
    CHECK(c.code == ErrorCode::IO);
    CHECK(has(c.what, "nope.bin"));
    CHECK(has(c.what, "does not exist"));
  }
  SUBCASE("an external file too short for offset + length") {
    b->mutable_external_data(1)->set_value("20");
    Caught c = catch_error([&] { Session s2(m.save(dir / "short.onnx")); });
    CHECK(has(c.what, "too short"));
    CHECK(has(c.what, "initializer 'b'"));
  }
  SUBCASE("external data that is a directory") {
    std::filesystem::create_directories(dir / "adir");
    b->mutable_external_data(0)->set_value("adir");
    Caught c = catch_error([&] { Session s2(m.save(dir / "dir.onnx")); });
    CHECK(has(c.what, "not a regular file"));
  }
}

TEST_CASE("initializers whose data does not match their shape") {
  auto dir = test::temp_dir("baddata");
  SUBCASE("raw_data shorter than the shape") {
    ModelBuilder m = layer_norm_model();
    auto* w = m.g->mutable_initializer(0);
    w->clear_float_data();
    w->set_raw_data(std::string(10, '\0'));
    Caught c = catch_error([&] { Session s(m.save(dir / "short.onnx")); });
    CHECK(has(c.what, "initializer 'w'"));
    CHECK(has(c.what, "raw_data has 10 bytes"));
  }
  SUBCASE("too few typed values") {
    ModelBuilder m = layer_norm_model();
    m.g->mutable_initializer(0)->mutable_float_data()->RemoveLast();
    Caught c = catch_error([&] { Session s(m.save(dir / "few.onnx")); });
    CHECK(has(c.what, "float_data holds 3 values, the shape needs 4"));
  }
  SUBCASE("dims whose product overflows") {
    ModelBuilder m = layer_norm_model();
    auto* w = m.g->mutable_initializer(0);
    w->clear_dims();
    w->add_dims(int64_t{1} << 40);
    w->add_dims(int64_t{1} << 40);
    Caught c = catch_error([&] { Session s(m.save(dir / "overflow.onnx")); });
    CHECK(has(c.what, "too large"));
  }
  SUBCASE("an unsupported data type") {
    ModelBuilder m = layer_norm_model();
    m.g->mutable_initializer(0)->set_data_type(14);  // complex64
    Caught c = catch_error([&] { Session s(m.save(dir / "complex.onnx")); });
    CHECK(has(c.what, "data type complex64"));
  }
}

TEST_CASE("Constant nodes in all value forms") {
  auto dir = test::temp_dir("constant");
  ModelBuilder m;
  m.input("x", {3}).output("y");
  auto* c1 = m.node("Constant", {}, {"c1"});
  auto* a = c1->add_attribute();
  a->set_name("value_floats");
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float f : {1.f, 2.f, 3.f}) a->add_floats(f);
  auto* c2 = m.node("Constant", {}, {"c2"});
  ModelBuilder::attr_f(c2, "value_float", 10.f);
  m.node("Add", {"x", "c1"}, {"s"});
  m.node("Mul", {"s", "c2"}, {"y"});
  Session s(m.save(dir / "c.onnx"));
  Tensor x(DType::Float32, {3});
  auto out = s.run({{"x", x}});
  CHECK(out[0].second.data<float>()[2] == 30.f);
}
