// String tensors (DType::String): the Tensor's std::string elements (made,
// copied, viewed), .pb and .npy files, Session runs with string inputs and
// outputs, Cast both ways against numpy's str() and parsing, StringNormalizer,
// Equal and the data-movement ops on strings, the static arena staying
// strings-free, and the errors (ops without strings, bad literals, the C API).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "normrt/normrt_c.h"
#include "normrt/tensor_file.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int kF32 = 1, kI64 = 7, kStr = 8, kBool = 9, kF16 = 10, kF64 = 11;

Tensor strings(const Shape& shape, const std::vector<std::string>& v) {
  Tensor t(DType::String, shape);
  REQUIRE(static_cast<size_t>(t.numel()) == v.size());
  for (size_t i = 0; i < v.size(); ++i) t.span<std::string>()[i] = v[i];
  return t;
}

std::vector<std::string> values(const Tensor& t) {
  const Span<const std::string> s = t.span<std::string>();
  return {s.begin(), s.end()};
}

onnx::TensorProto* init_str(ModelBuilder& m, const std::string& name, const std::vector<int64_t>& dims,
                            const std::vector<std::string>& v) {
  auto* t = m.g->add_initializer();
  t->set_name(name);
  t->set_data_type(kStr);
  for (int64_t d : dims) t->add_dims(d);
  for (auto& s : v) t->add_string_data(s);
  return t;
}

void attr_strs(onnx::NodeProto* n, const std::string& name, const std::vector<std::string>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (auto& s : v) a->add_strings(s);
}

Session open(const ModelBuilder& m, OptimizationLevel level = OptimizationLevel::All) {
  SessionOptions o;
  o.optimization = level;
  const std::string bytes = m.bytes();
  return Session::from_memory(bytes.data(), bytes.size(), "", o);
}

Tensor run1(const ModelBuilder& m, const NamedTensors& in, OptimizationLevel level = OptimizationLevel::All) {
  Session s = open(m, level);
  NamedTensors out = s.run(in);
  REQUIRE(out.size() >= 1);
  return out[0].second;
}

Tensor floats(const Shape& shape, const std::vector<float>& v) {
  Tensor t(DType::Float32, shape);
  for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = v[i];
  return t;
}

// Cast of x (dtype `from`) to `to` through a one-node model.
Tensor cast(const Tensor& x, int from, int to) {
  ModelBuilder m(13);
  m.input("x", x.shape(), from).output("y", to);
  ModelBuilder::attr_i(m.node("Cast", {"x"}, {"y"}), "to", to);
  return run1(m, {{"x", x}});
}

}  // namespace

TEST_CASE("string tensor: elements made empty, written, copied deep, viewed") {
  CHECK(std::string(dtype_name(DType::String)) == "string");
  DType d;
  CHECK(dtype_from_onnx(8, &d));
  CHECK(d == DType::String);
  CHECK_FALSE(dtype_is_float(DType::String));
  for (Tensor t : {Tensor(DType::String, {2, 3}), Tensor::uninitialized(DType::String, {2, 3})}) {
    CHECK(t.numel() == 6);
    for (const std::string& s : t.span<std::string>()) CHECK(s.empty());
  }
  Tensor t = strings({3}, {"a", std::string(100, 'x'), ""});
  Tensor c = t.clone();
  c.span<std::string>()[0] = "changed";
  CHECK(values(t) == std::vector<std::string>{"a", std::string(100, 'x'), ""});
  CHECK(values(c)[0] == "changed");
  Tensor r = t.reshaped({1, 3});  // shares the strings
  r.span<std::string>()[2] = "via view";
  CHECK(t.span<std::string>()[2] == "via view");
  std::string mine[2] = {"caller", "memory"};
  Tensor v = Tensor::view(mine, DType::String, {2});
  CHECK(values(v) == std::vector<std::string>{"caller", "memory"});
  std::string dst[3];
  t.copy_elements_to(dst);
  CHECK(dst[1] == std::string(100, 'x'));
  CHECK_THROWS_AS(t.span<float>(), Error);
  CHECK_THROWS_AS(Tensor(DType::Float32, {1}).span<std::string>(), Error);
  Tensor empty(DType::String, {0, 4});
  CHECK(empty.clone().numel() == 0);
}

TEST_CASE("string tensor files: .pb string_data and .npy numpy str round trip") {
  auto dir = test::temp_dir("strings_files");
  Tensor t = strings({2, 2}, {"plain", "h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac", ""});
  write_tensor_pb((dir / "t.pb").string(), t, "s");
  std::string name;
  Tensor back = read_tensor_pb((dir / "t.pb").string(), &name);
  CHECK(name == "s");
  CHECK(back.dtype() == DType::String);
  CHECK(back.shape() == Shape{2, 2});
  CHECK(values(back) == values(t));
  write_npy((dir / "t.npy").string(), t);
  Tensor npy = read_npy((dir / "t.npy").string());
  CHECK(npy.shape() == Shape{2, 2});
  CHECK(values(npy) == values(t));
  // Not UTF-8: no numpy str for it (a .pb file holds any bytes).
  Tensor bad = strings({1}, {"\xff\xfe"});
  CHECK_THROWS_AS(write_npy((dir / "bad.npy").string(), bad), Error);
  write_tensor_pb((dir / "bad.pb").string(), bad, "b");
  CHECK(values(read_tensor_pb((dir / "bad.pb").string()))[0] == "\xff\xfe");
  // A string TensorProto must hold exactly one string_data per element, and no raw_data.
  onnx::TensorProto tp;
  tp.set_data_type(kStr);
  tp.add_dims(2);
  tp.add_string_data("one");
  CHECK_THROWS_AS(parse_tensor_pb(tp.SerializeAsString(), "short"), Error);
  tp.add_string_data("two");
  CHECK(values(parse_tensor_pb(tp.SerializeAsString(), "ok")) == std::vector<std::string>{"one", "two"});
  tp.set_raw_data("xxxxxxxx");
  CHECK_THROWS_AS(parse_tensor_pb(tp.SerializeAsString(), "raw"), Error);
}

TEST_CASE("Session: string inputs and outputs (Identity, run_into, node by node)") {
  ModelBuilder m(13);
  m.input("x", {-1}, kStr).output("y", kStr);
  m.node("Identity", {"x"}, {"y"});
  Session s = open(m);
  CHECK(s.inputs()[0].dtype == DType::String);
  Tensor x = strings({3}, {"a", "b", "c"});
  for (int rep = 0; rep < 2; ++rep) {
    NamedTensors out = s.run({{"x", x}});
    CHECK(out[0].second.dtype() == DType::String);
    CHECK(values(out[0].second) == values(x));
  }
  std::string buf[3];
  NamedTensors into{{"y", Tensor::view(buf, DType::String, {3})}};
  s.run_into({{"x", x}}, into);
  CHECK(buf[2] == "c");
  CHECK_THROWS_AS(s.run({{"x", floats({3}, {1, 2, 3})}}), Error);  // dtype checked
}

TEST_CASE("Cast float -> string: numpy's str() of each type") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::pair<float, const char*>> f32 = {{0.9767611026763916f, "0.9767611"},
                                                          {1e-5f, "1e-05"},
                                                          {1.5e20f, "1.5e+20"},
                                                          {100000.f, "100000.0"},
                                                          {123456789.f, "123456790.0"},
                                                          {3.f, "3.0"},
                                                          {-0.f, "-0.0"},
                                                          {0.f, "0.0"},
                                                          {1e16f, "1e+16"},
                                                          {9.999e15f, "9999000000000000.0"},
                                                          {1e-4f, "1e-04"},
                                                          {0.0001234f, "0.0001234"},
                                                          {-2.5f, "-2.5"},
                                                          {3.4028235e38f, "3.4028235e+38"},
                                                          {1.4e-45f, "1e-45"},
                                                          {0.1f, "0.1"},
                                                          {1.f / 3, "0.33333334"},
                                                          {16777216.f, "16777216.0"},
                                                          {std::nanf(""), "NaN"},
                                                          {inf, "INF"},
                                                          {-inf, "-INF"},
                                                          {0.03918779268860817f, "0.039187793"}};
  Tensor x(DType::Float32, {static_cast<int64_t>(f32.size())});
  for (size_t i = 0; i < f32.size(); ++i) x.data<float>()[i] = f32[i].first;
  Tensor y = cast(x, kF32, kStr);
  REQUIRE(y.dtype() == DType::String);
  for (size_t i = 0; i < f32.size(); ++i) CHECK(y.data<std::string>()[i] == f32[i].second);

  Tensor d(DType::Float64, {3});
  d.data<double>()[0] = 0.9767611026763916;
  d.data<double>()[1] = 1.0 / 3;
  d.data<double>()[2] = 1.4e-45;
  CHECK(values(cast(d, kF64, kStr)) == std::vector<std::string>{"0.9767611026763916", "0.3333333333333333", "1.4e-45"});
  Tensor h(DType::Float16, {3});
  h.data<uint16_t>()[0] = float_to_half(0.9767611026763916f);
  h.data<uint16_t>()[1] = float_to_half(1.f / 3);
  h.data<uint16_t>()[2] = float_to_half(1e-4f);
  CHECK(values(cast(h, kF16, kStr)) == std::vector<std::string>{"0.9766", "0.3333", "0.0001"});
  Tensor i(DType::Int64, {3});
  i.data<int64_t>()[0] = -3;
  i.data<int64_t>()[1] = 0;
  i.data<int64_t>()[2] = std::numeric_limits<int64_t>::max();
  CHECK(values(cast(i, kI64, kStr)) == std::vector<std::string>{"-3", "0", "9223372036854775807"});
  Tensor b(DType::Bool, {2});
  b.data<uint8_t>()[0] = 1;
  CHECK(values(cast(b, kBool, kStr)) == std::vector<std::string>{"True", "False"});
}

TEST_CASE("Cast string -> numbers: literals, specials, round trip, bad strings") {
  Tensor s =
      strings({12}, {"1e-5", "  3.5 ", "+2", "inf", "-Infinity", "NaN", "INF", "+INF", "1E8", "1e50", "-1e-50", "-0"});
  Tensor y = cast(s, kStr, kF32);
  const float* f = y.data<float>();
  CHECK(f[0] == 1e-5f);
  CHECK(f[1] == 3.5f);
  CHECK(f[2] == 2.f);
  CHECK((std::isinf(f[3]) && f[3] > 0));
  CHECK((std::isinf(f[4]) && f[4] < 0));
  CHECK(std::isnan(f[5]));
  CHECK((std::isinf(f[6]) && f[6] > 0));
  CHECK((std::isinf(f[7]) && f[7] > 0));
  CHECK(f[8] == 1e8f);
  CHECK((std::isinf(f[9]) && f[9] > 0));
  CHECK((f[10] == 0 && std::signbit(f[10])));
  CHECK((f[11] == 0 && std::signbit(f[11])));

  Tensor ints = cast(strings({4}, {"42", "-7", "2.718", "9223372036854775807"}), kStr, kI64);
  CHECK(ints.data<int64_t>()[0] == 42);
  CHECK(ints.data<int64_t>()[1] == -7);
  CHECK(ints.data<int64_t>()[2] == 2);
  CHECK(ints.data<int64_t>()[3] == std::numeric_limits<int64_t>::max());
  Tensor bools = cast(strings({4}, {"True", "false", "0", "2.5"}), kStr, kBool);
  CHECK(std::vector<uint8_t>(bools.data<uint8_t>(), bools.data<uint8_t>() + 4) == std::vector<uint8_t>{1, 0, 0, 1});
  CHECK(half_to_float(cast(strings({1}, {"0.5"}), kStr, kF16).data<uint16_t>()[0]) == 0.5f);

  // float → string → float gives every float back (shortest digits that round-trip).
  std::mt19937 rng(7);
  Tensor x(DType::Float32, {300});
  for (int64_t k = 0; k < x.numel(); ++k) {
    uint32_t bits = rng();
    if ((bits & 0x7f800000u) == 0x7f800000u) bits &= 0xbfffffffu;  // finite only
    std::memcpy(&x.data<float>()[k], &bits, 4);
  }
  Tensor back = cast(cast(x, kF32, kStr), kStr, kF32);
  CHECK(std::memcmp(back.raw(), x.raw(), x.nbytes()) == 0);

  for (const char* bad : {"abc", "", "1.5x", "--1", "0x10"}) {
    CAPTURE(bad);
    try {
      cast(strings({1}, {bad}), kStr, kF32);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find("is not a number") != std::string::npos);
    }
  }
  CHECK_THROWS_AS(cast(strings({1}, {"\xff\xfe"}), kStr, kI64), Error);  // not UTF-8: an error, never a crash
}

TEST_CASE("CastLike to and from strings") {
  ModelBuilder m(15);
  m.input("x", {2}, kF32).output("y", kStr);
  init_str(m, "like", {1}, {"?"});
  m.node("CastLike", {"x", "like"}, {"y"});
  CHECK(values(run1(m, {{"x", floats({2}, {0.5f, -1.f})}})) == std::vector<std::string>{"0.5", "-1.0"});
}

namespace {
Tensor normalize(const Tensor& x, const std::string& action, bool case_sensitive, const std::vector<std::string>& stop,
                 OptimizationLevel level = OptimizationLevel::All) {
  ModelBuilder m(10);
  m.input("x", x.shape(), kStr).output("y", kStr);
  auto* n = m.node("StringNormalizer", {"x"}, {"y"});
  if (!action.empty()) ModelBuilder::attr_s(n, "case_change_action", action);
  ModelBuilder::attr_i(n, "is_case_sensitive", case_sensitive);
  if (!stop.empty()) attr_strs(n, "stopwords", stop);
  return run1(m, {{"x", x}}, level);
}
}  // namespace

TEST_CASE("StringNormalizer: stopwords, case changes, shapes, UTF-8") {
  const Tensor days = strings({5}, {"Monday", "monday", "Tuesday", "MONDAY", "friday"});
  for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
    Tensor y = normalize(days, "LOWER", true, {"monday"}, level);
    CHECK(y.shape() == Shape{4});
    CHECK(values(y) == std::vector<std::string>{"monday", "tuesday", "monday", "friday"});
    y = normalize(days, "UPPER", false, {"Monday"}, level);
    CHECK(values(y) == std::vector<std::string>{"TUESDAY", "FRIDAY"});
    y = normalize(days, "NONE", true, {}, level);
    CHECK(values(y) == values(days));
    y = normalize(days, "", false, {"monday", "tuesday", "friday"}, level);
    CHECK(y.shape() == Shape{1});
    CHECK(values(y) == std::vector<std::string>{""});
  }
  Tensor two = normalize(strings({1, 3}, {"a", "B", "a"}), "UPPER", false, {"A"});
  CHECK(two.shape() == Shape{1, 1});
  CHECK(values(two) == std::vector<std::string>{"B"});
  Tensor none = normalize(strings({1, 2}, {"a", "a"}), "UPPER", true, {"a"});
  CHECK(none.shape() == Shape{1, 1});
  CHECK(values(none) == std::vector<std::string>{""});
  // UTF-8 beyond ASCII: Latin-1, Latin Extended-A, Greek, Cyrillic; invalid bytes kept.
  Tensor u = normalize(strings({5}, {"\xc3\xa9mile stra\xc3\x9f"
                                     "e",
                                     "\xc5\x82\xc3\xb3"
                                     "d\xc5\xba",
                                     "\xce\xb1\xce\xb2\xce\xb3 \xcf\x82",
                                     "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "ok\xff\xc3"}),
                       "UPPER", true, {});
  CHECK(values(u) == std::vector<std::string>{"\xc3\x89MILE STRA\xc3\x9f"
                                              "E",
                                              "\xc5\x81\xc3\x93"
                                              "D\xc5\xb9",
                                              "\xce\x91\xce\x92\xce\x93 \xce\xa3",
                                              "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2", "OK\xff\xc3"});
  Tensor l = normalize(strings({2}, {"\xc3\x89MILE", "\xd0\x9f\xd0\xa0\xd0\x98"}), "LOWER", true, {});
  CHECK(values(l) == std::vector<std::string>{"\xc3\xa9mile", "\xd0\xbf\xd1\x80\xd0\xb8"});
  // Case-insensitive stopwords match through the UTF-8 mapping too.
  CHECK(values(normalize(strings({2}, {"\xc3\x89T\xc3\x89", "x"}), "", false, {"\xc3\xa9t\xc3\xa9"})) ==
        std::vector<std::string>{"x"});
  CHECK(normalize(Tensor(DType::String, {0}), "UPPER", true, {}).shape() == Shape{0});  // nothing dropped
  CHECK(values(normalize(Tensor(DType::String, {0}), "UPPER", true, {"a"})) == std::vector<std::string>{""});
  CHECK_THROWS_AS(normalize(strings({2, 2}, {"a", "b", "c", "d"}), "", true, {}), Error);
  CHECK_THROWS_AS(normalize(strings({2}, {"a", "b"}), "TITLE", true, {}), Error);
}

TEST_CASE("data movement of strings: each op against the element it must copy") {
  // x = [[s0 s1 s2] [s3 s4 s5]]
  const std::vector<std::string> s = {"s0", "s1", "s2", "s3", "s4", std::string(40, '5')};
  const Tensor x = strings({2, 3}, s);
  struct Case {
    const char* name;
    std::function<void(ModelBuilder&)> build;
    Shape shape;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"Transpose",
       [](ModelBuilder& m) { m.node("Transpose", {"x"}, {"y"}); },
       {3, 2},
       {s[0], s[3], s[1], s[4], s[2], s[5]}},
      {"Gather axis 1",
       [](ModelBuilder& m) {
         m.init_i64("i", {-1, 0, 0});
         ModelBuilder::attr_i(m.node("Gather", {"x", "i"}, {"y"}), "axis", 1);
       },
       {2, 3},
       {s[2], s[0], s[0], s[5], s[3], s[3]}},
      {"Slice reversed",
       [](ModelBuilder& m) {
         m.init_i64("st", {-1});
         m.init_i64("en", {-100});
         m.init_i64("ax", {1});
         m.init_i64("sp", {-2});
         m.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"});
       },
       {2, 2},
       {s[2], s[0], s[5], s[3]}},
      {"Concat with an initializer",
       [](ModelBuilder& m) {
         init_str(m, "c", {1, 3}, {"c0", "c1", "c2"});
         ModelBuilder::attr_i(m.node("Concat", {"c", "x", "c"}, {"y"}), "axis", 0);
       },
       {4, 3},
       {"c0", "c1", "c2", s[0], s[1], s[2], s[3], s[4], s[5], "c0", "c1", "c2"}},
      {"Expand",
       [](ModelBuilder& m) {
         m.init_i64("sh", {2, 2, 3});
         m.node("Expand", {"x", "sh"}, {"y"});
       },
       {2, 2, 3},
       {s[0], s[1], s[2], s[3], s[4], s[5], s[0], s[1], s[2], s[3], s[4], s[5]}},
      {"Tile",
       [](ModelBuilder& m) {
         m.init_i64("r", {1, 2});
         m.node("Tile", {"x", "r"}, {"y"});
       },
       {2, 6},
       {s[0], s[1], s[2], s[0], s[1], s[2], s[3], s[4], s[5], s[3], s[4], s[5]}},
      {"Where",
       [](ModelBuilder& m) {
         auto* c = m.g->add_initializer();
         c->set_name("cond");
         c->set_data_type(kBool);
         c->add_dims(3);
         for (int v : {1, 0, 1}) c->add_int32_data(v);
         init_str(m, "other", {1}, {"other"});
         m.node("Where", {"cond", "x", "other"}, {"y"});
       },
       {2, 3},
       {s[0], "other", s[2], s[3], "other", s[5]}},
      {"Reshape, Unsqueeze, Squeeze, Flatten",
       [](ModelBuilder& m) {
         m.init_i64("sh", {3, 2});
         m.init_i64("ax", {0});
         m.node("Reshape", {"x", "sh"}, {"r"});
         m.node("Unsqueeze", {"r", "ax"}, {"u"});
         m.node("Squeeze", {"u", "ax"}, {"q"});
         ModelBuilder::attr_i(m.node("Flatten", {"q"}, {"y"}), "axis", 0);
       },
       {1, 6},
       s},
      {"Split (first part)",
       [](ModelBuilder& m) {
         m.init_i64("parts", {1, 2});
         ModelBuilder::attr_i(m.node("Split", {"x", "parts"}, {"y", "rest"}), "axis", 1);
       },
       {2, 1},
       {s[0], s[3]}},
      {"GatherElements",
       [](ModelBuilder& m) {
         auto* t = m.init_i64("i", {2, 0, 1, 1});
         t->clear_dims();
         t->add_dims(2);
         t->add_dims(2);
         ModelBuilder::attr_i(m.node("GatherElements", {"x", "i"}, {"y"}), "axis", 1);
       },
       {2, 2},
       {s[2], s[0], s[4], s[4]}},
      {"Constant",
       [](ModelBuilder& m) {
         auto* n = m.node("Constant", {}, {"k"});
         auto* a = n->add_attribute();
         a->set_name("value");
         a->set_type(onnx::AttributeProto::TENSOR);
         a->mutable_t()->set_data_type(kStr);
         a->mutable_t()->add_dims(1);
         a->mutable_t()->add_string_data("k");
         ModelBuilder::attr_i(m.node("Concat", {"k", "k"}, {"kk"}), "axis", 0);
         m.init_i64("sh", {1, 2});
         m.node("Reshape", {"kk", "sh"}, {"y"});
       },
       {1, 2},
       {"k", "k"}},
  };
  for (const Case& c : cases)
    for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
      CAPTURE(c.name);
      ModelBuilder m(18);
      m.input("x", {2, 3}, kStr).output("y", kStr);
      c.build(m);
      Tensor y = run1(m, {{"x", x}}, level);
      CHECK(y.dtype() == DType::String);
      CHECK(y.shape() == c.shape);
      CHECK(values(y) == c.want);
    }
  // Compress: output shape known at run time (node by node).
  ModelBuilder m(18);
  m.input("x", {2, 3}, kStr).input("keep", {3}, kBool).output("y", kStr);
  ModelBuilder::attr_i(m.node("Compress", {"x", "keep"}, {"y"}), "axis", 1);
  Tensor keep(DType::Bool, {3});
  keep.data<uint8_t>()[1] = 1;
  Tensor y = run1(m, {{"x", x}, {"keep", keep}});
  CHECK(y.shape() == Shape{2, 1});
  CHECK(values(y) == std::vector<std::string>{s[1], s[4]});
}

TEST_CASE("Equal on strings, with broadcasting") {
  ModelBuilder m(19);
  m.input("a", {2, 3}, kStr).output("y", kBool);
  init_str(m, "b", {3}, {"x", "", "z"});
  m.node("Equal", {"a", "b"}, {"y"});
  Tensor y = run1(m, {{"a", strings({2, 3}, {"x", "", "Z", "y", "x", "z"})}});
  CHECK(std::vector<uint8_t>(y.data<uint8_t>(), y.data<uint8_t>() + 6) == std::vector<uint8_t>{1, 1, 0, 0, 0, 1});
  ModelBuilder bad(19);
  bad.input("a", {2}, kStr).input("b", {2}, kF32).output("y", kBool);
  bad.node("Equal", {"a", "b"}, {"y"});
  CHECK_THROWS_AS(open(bad), Error);
}

TEST_CASE("the static arena holds no strings; float paths around them keep it") {
  // x → Relu → r (float, in the arena) → Cast → s (string, per run) → Cast → y
  ModelBuilder m(13);
  m.input("x", {4, 16}, kF32).output("y", kF32);
  m.node("Relu", {"x"}, {"r"});
  ModelBuilder::attr_i(m.node("Cast", {"r"}, {"s"}), "to", kStr);
  ModelBuilder::attr_i(m.node("Cast", {"s"}, {"y"}), "to", kF32);
  Session s = open(m, OptimizationLevel::None);
  CHECK(s.planned_memory().workspace_bytes == 4 * 16 * sizeof(float));
  Tensor x = test::random_tensor({4, 16}, 3);
  for (int rep = 0; rep < 3; ++rep) {
    Tensor y = s.run({{"x", x}})[0].second;
    for (int64_t i = 0; i < x.numel(); ++i) CHECK(y.data<float>()[i] == std::max(x.data<float>()[i], 0.f));
  }
}

TEST_CASE("string tensors refused clearly where not supported") {
  const auto refused = [](ModelBuilder& m) {
    try {
      open(m);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::UnsupportedOp);
      CHECK(std::string(e.what()).find("string") != std::string::npos);
    }
  };
  ModelBuilder add(13);
  add.input("a", {2}, kStr).output("y", kStr);
  add.node("Add", {"a", "a"}, {"y"});
  refused(add);
  ModelBuilder cos(18);  // ConstantOfShape with a string value
  cos.input("sh", {1}, kI64).output("y", kStr);
  auto* n = cos.node("ConstantOfShape", {"sh"}, {"y"});
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(kStr);
  a->mutable_t()->add_dims(1);
  a->mutable_t()->add_string_data("v");
  cos.init_i64("sh", {3});
  refused(cos);
  ModelBuilder gather(13);  // an index out of range: an error from the run, as for numbers
  gather.input("a", {2}, kStr).input("i", {1}, kI64).output("y", kStr);
  gather.node("Gather", {"a", "i"}, {"y"});
  Tensor idx(DType::Int64, {1});
  idx.data<int64_t>()[0] = 2;
  CHECK_THROWS_WITH_AS(open(gather).run({{"a", strings({2}, {"p", "q"})}, {"i", idx}}),
                       doctest::Contains("out of range"), Error);
  idx.data<int64_t>()[0] = -2;
  CHECK(values(open(gather).run({{"a", strings({2}, {"p", "q"})}, {"i", idx}})[0].second) ==
        std::vector<std::string>{"p"});
  ModelBuilder relu(13);
  relu.input("a", {2}, kStr).output("y", kStr);
  relu.node("Relu", {"a"}, {"y"});
  refused(relu);
}

TEST_CASE("C API: string inputs and outputs are refused with a message") {
  ModelBuilder m(13);
  m.input("x", {2}, kStr).output("y", kStr);
  m.node("Identity", {"x"}, {"y"});
  auto dir = test::temp_dir("strings_capi");
  const std::string path = m.save(dir / "m.onnx");
  normrt_session* s = nullptr;
  REQUIRE(normrt_session_open(path.c_str(), 0, &s) == NORMRT_OK);
  std::string data[2] = {"a", "b"};
  const int64_t dims[1] = {2};
  normrt_input in{};
  in.name = "x";
  in.dtype = 8;
  in.rank = 1;
  in.dims = dims;
  in.data = data;
  normrt_result* r = nullptr;
  CHECK(normrt_session_run(s, &in, 1, &r) == NORMRT_INVALID_ARGUMENT);
  CHECK(std::string(normrt_last_error()).find("string") != std::string::npos);
  normrt_session_free(s);
}

TEST_CASE("string initializers survive save_optimized_model") {
  ModelBuilder m(13);
  m.input("x", {2}, kStr).output("y", kStr);
  init_str(m, "c", {2}, {"kept", "h\xc3\xa9"});
  ModelBuilder::attr_i(m.node("Concat", {"c", "x"}, {"y"}), "axis", 0);
  auto dir = test::temp_dir("strings_saved");
  const std::string in = m.save(dir / "m.onnx"), out = (dir / "opt.onnx").string();
  save_optimized_model(in, out);
  Session s(out);
  Tensor y = s.run({{"x", strings({2}, {"a", "b"})}})[0].second;
  CHECK(values(y) == std::vector<std::string>{"kept", "h\xc3\xa9", "a", "b"});
}

TEST_CASE("If with string branch outputs: runs or is refused, never crashes") {
  ModelBuilder m(13);
  m.input("c", {}, kBool).input("x", {2}, kStr).output("y", kStr);
  auto* n = m.node("If", {"c"}, {"y"});
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    onnx::GraphProto* g = a->mutable_g();
    g->set_name(branch);
    auto* id = g->add_node();
    id->set_op_type(std::string(branch) == "then_branch" ? "Identity" : "Transpose");
    id->add_input("x");
    id->add_output(std::string("out_") + branch);
    auto* o = g->add_output();
    o->set_name(std::string("out_") + branch);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(kStr);
  }
  Tensor c(DType::Bool, {});
  try {
    Session s = open(m);
    for (uint8_t v : {1, 0}) {
      c.data<uint8_t>()[0] = v;
      CHECK(values(s.run({{"c", c}, {"x", strings({2}, {"p", "q"})}})[0].second) == std::vector<std::string>{"p", "q"});
    }
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::UnsupportedOp);
    CHECK(std::string(e.what()).find("string") != std::string::npos);
  }
}
