// Sequence and optional values: the public Value type, Session::run_values
// with sequence/optional inputs and outputs (and run/run_into refusing such
// models), the sequence ops against plain references (SplitToSequence →
// ConcatFromSequence round trips at odd sizes and sizes around 8/16), the
// optional ops, and bad inputs (a position out of range, a dtype that does not
// fit the sequence, an empty optional read, an empty sequence concatenated),
// each an Error naming the node.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int kFloat = 1, kInt32 = 6, kInt64 = 7, kBool = 9;

void seq_value(onnx::ValueInfoProto* v, const std::string& name, int elem) {
  v->set_name(name);
  v->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(elem);
}
void opt_value(onnx::ValueInfoProto* v, const std::string& name, int elem) {
  v->set_name(name);
  v->mutable_type()->mutable_optional_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(elem);
}

Session load(const ModelBuilder& mb) {
  const std::string b = mb.bytes();
  return Session::from_memory(b.data(), b.size(), "");
}

Tensor floats(const Shape& shape, float start) {
  Tensor t(DType::Float32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + static_cast<float>(i);
  return t;
}
Tensor int64_scalar(int64_t v) {
  Tensor t(DType::Int64, {});
  t.data<int64_t>()[0] = v;
  return t;
}

bool same(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  return a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// A model: (seq x, tensor t, position p) → SequenceInsert(x, t, p) as `s`,
// SequenceAt(s, p) as `at`, SequenceLength(s) as `len`.
ModelBuilder insert_at_model() {
  ModelBuilder mb(17);
  seq_value(mb.g->add_input(), "x", kFloat);
  mb.input("t", {-1}, kFloat);
  mb.input("p", {}, kInt64);
  mb.node("SequenceInsert", {"x", "t", "p"}, {"s"});
  mb.node("SequenceAt", {"s", "p"}, {"at"});
  mb.node("SequenceLength", {"s"}, {"len"});
  seq_value(mb.g->add_output(), "s", kFloat);
  mb.output("at", kFloat);
  mb.output("len", kInt64);
  return mb;
}

}  // namespace

TEST_CASE("Value holds a tensor, a sequence or an optional") {
  Value t = floats({2}, 1);
  CHECK(t.is_tensor());
  CHECK(t.type_str() == "tensor(float32)");
  CHECK_THROWS_AS(t.items(), Error);

  Value s = Value::sequence({floats({2}, 0), floats({3}, 5)});
  CHECK(s.is_sequence());
  CHECK(s.items().size() == 2);
  CHECK(s.elem_dtype() == DType::Float32);
  CHECK(s.type_str() == "seq(tensor(float32))");
  CHECK_THROWS_AS(s.tensor(), Error);
  Tensor i64(DType::Int64, {1});
  CHECK_THROWS_AS(Value::sequence({floats({2}, 0), i64}), Error);  // one dtype per sequence
  CHECK(Value::sequence({}, DType::Int64).type_str() == "seq(tensor(int64))");

  Value o = Value::optional(s);
  CHECK(o.is_optional());
  CHECK(o.has_value());
  CHECK(o.contents().items().size() == 2);
  CHECK(o.type_str() == "optional(seq(tensor(float32)))");
  Value none = Value::none(DType::Float32);
  CHECK_FALSE(none.has_value());
  CHECK_THROWS_AS(none.contents(), Error);
  CHECK_THROWS_AS(Value::optional(none), Error);  // no optional of an optional
}

TEST_CASE("run_values: sequence inputs and outputs") {
  Session s = load(insert_at_model());
  REQUIRE(s.inputs()[0].kind == ValueKind::Sequence);
  CHECK(s.inputs()[0].dtype == DType::Float32);
  CHECK(type_str(s.inputs()[0]) == "seq(tensor(float32))");
  CHECK(s.outputs()[1].kind == ValueKind::Tensor);

  // Items of odd and vector-width sizes; insert at the front, the back and by a negative position.
  const std::vector<Tensor> items{floats({7}, 0), floats({16}, 100), floats({9}, 200)};
  const Tensor t = floats({17}, -50);
  for (int64_t p : {0, 3, -1, -3}) {
    CAPTURE(p);
    NamedValues out = s.run_values({{"x", Value::sequence(items)}, {"t", t}, {"p", int64_scalar(p)}});
    REQUIRE(out.size() == 3);
    const std::vector<Tensor>& got = out[0].second.items();
    std::vector<Tensor> want = items;
    want.insert(want.begin() + (p < 0 ? p + 3 : p), t);
    REQUIRE(got.size() == want.size());
    for (size_t k = 0; k < got.size(); ++k) CHECK(same(got[k], want[k]));
    CHECK(same(out[1].second.tensor(), want[static_cast<size_t>(p < 0 ? p + 4 : p)]));
    CHECK(out[2].second.tensor().data<int64_t>()[0] == 4);
  }
  // An empty sequence in: the tensor becomes its only item.
  NamedValues out = s.run_values({{"x", Value::sequence({}, DType::Float32)}, {"t", t}, {"p", int64_scalar(0)}});
  CHECK(out[0].second.items().size() == 1);
  CHECK(out[2].second.tensor().data<int64_t>()[0] == 1);
}

TEST_CASE("run and run_into refuse sequence models; run_values checks kinds") {
  Session s = load(insert_at_model());
  NamedTensors in{{"t", floats({3}, 0)}, {"p", int64_scalar(0)}};
  try {
    (void)s.run(in);
    FAIL("run accepted a model with a sequence input");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK(std::string(e.what()).find("run_values") != std::string::npos);
    CHECK(std::string(e.what()).find("'x'") != std::string::npos);
  }
  NamedTensors outs;
  CHECK_THROWS_AS(s.run_into(in, outs), Error);
  // A tensor where a sequence is declared, and a sequence of the wrong dtype.
  CHECK_THROWS_WITH_AS(s.run_values({{"x", floats({3}, 0)}, {"t", floats({3}, 0)}, {"p", int64_scalar(0)}}),
                       doctest::Contains("seq(tensor(float32))"), Error);
  Tensor i64(DType::Int64, {3});
  CHECK_THROWS_AS(s.run_values({{"x", Value::sequence({i64})}, {"t", floats({3}, 0)}, {"p", int64_scalar(0)}}), Error);
  CHECK_THROWS_AS(s.run_values({{"x", Value::sequence({})}, {"t", Value::sequence({})}, {"p", int64_scalar(0)}}),
                  Error);
}

TEST_CASE("sequence errors name the node") {
  Session s = load(insert_at_model());
  const std::vector<Tensor> items{floats({2}, 0), floats({2}, 1)};
  // Positions past either end: SequenceInsert allows [-2, 2], SequenceAt then [-3, 2].
  for (int64_t p : std::vector<int64_t>{3, -3, 1000000, INT64_MIN}) {
    CAPTURE(p);
    CHECK_THROWS_WITH_AS(s.run_values({{"x", Value::sequence(items)}, {"t", floats({2}, 5)}, {"p", int64_scalar(p)}}),
                         doctest::Contains("SequenceInsert"), Error);
  }

  SUBCASE("SequenceAt out of range") {
    ModelBuilder mb(17);
    seq_value(mb.g->add_input(), "x", kFloat);
    mb.input("p", {}, kInt32);
    mb.node("SequenceAt", {"x", "p"}, {"y"});
    mb.output("y", kFloat);
    Session at = load(mb);
    Tensor p(DType::Int32, {});
    for (int32_t v : {-2, 1}) {
      p.data<int32_t>()[0] = v;
      CHECK(same(at.run_values({{"x", Value::sequence(items)}, {"p", p}})[0].second.tensor(), items[v < 0 ? 0 : 1]));
    }
    for (int32_t v : {2, -3}) {
      p.data<int32_t>()[0] = v;
      try {
        (void)at.run_values({{"x", Value::sequence(items)}, {"p", p}});
        FAIL("no error");
      } catch (const Error& e) {
        CHECK(std::string(e.what()).find("SequenceAt") != std::string::npos);
        CHECK(std::string(e.what()).find("out of range") != std::string::npos);
      }
    }
    p.data<int32_t>()[0] = 0;
    CHECK_THROWS_WITH_AS(at.run_values({{"x", Value::sequence({}, DType::Float32)}, {"p", p}}),
                         doctest::Contains("out of range"), Error);
  }
  SUBCASE("SequenceInsert of another dtype") {
    ModelBuilder mb(17);
    mb.input("a", {2}, kFloat);
    mb.input("b", {2}, kInt64);
    mb.node("SequenceConstruct", {"a"}, {"s"});
    mb.node("SequenceInsert", {"s", "b"}, {"s2"});
    mb.node("SequenceLength", {"s2"}, {"n"});
    mb.output("n", kInt64);
    Session ins = load(mb);
    CHECK_THROWS_WITH_AS(ins.run({{"a", floats({2}, 0)}, {"b", Tensor(DType::Int64, {2})}}),
                         doctest::Contains("SequenceInsert"), Error);
  }
  SUBCASE("ConcatFromSequence of an empty sequence") {
    ModelBuilder mb(17);
    mb.input("a", {2}, kFloat);
    auto* e = mb.node("SequenceEmpty", {}, {"s"});
    ModelBuilder::attr_i(e, "dtype", kFloat);
    ModelBuilder::attr_i(mb.node("ConcatFromSequence", {"s"}, {"c"}), "axis", 0);
    mb.node("Add", {"a", "c"}, {"y"});
    mb.output("y", kFloat);
    Session cat = load(mb);
    CHECK_THROWS_WITH_AS(cat.run({{"a", floats({2}, 0)}}), doctest::Contains("ConcatFromSequence"), Error);
  }
}

TEST_CASE("SplitToSequence and ConcatFromSequence round trip") {
  // x [3, n, 5] split along axis 1, then joined back (or stacked and compared
  // with a reference), for n around the vector widths.
  for (int64_t n : {1, 7, 8, 16, 17}) {
    for (int mode = 0; mode < 3; ++mode) {  // 0: chunks of 1 kept; 1: scalar split 8; 2: sizes [n-1, 1]
      CAPTURE(n);
      CAPTURE(mode);
      ModelBuilder mb(17);
      mb.input("x", {3, n, 5}, kFloat);
      std::vector<std::string> in{"x"};
      if (mode == 1) {
        auto* t = mb.g->add_initializer();
        t->set_name("split");
        t->set_data_type(kInt64);
        t->add_int64_data(8);
        in.push_back("split");
      } else if (mode == 2) {
        mb.init_i64("split", {n - 1, 1});
        in.push_back("split");
      }
      ModelBuilder::attr_i(mb.node("SplitToSequence", in, {"s"}), "axis", -2);
      ModelBuilder::attr_i(mb.node("ConcatFromSequence", {"s"}, {"y"}), "axis", 1);
      mb.node("SequenceLength", {"s"}, {"len"});
      mb.output("y", kFloat);
      mb.output("len", kInt64);
      Session s = load(mb);
      const Tensor x = floats({3, n, 5}, 0.5f);
      NamedTensors out = s.run({{"x", x}});  // tensor inputs and outputs: plain run works
      CHECK(same(out[0].second, x));
      const int64_t chunks = mode == 0 ? n : mode == 1 ? (n + 7) / 8 : 2;
      CHECK(out[1].second.data<int64_t>()[0] == chunks);
    }
  }
  // keepdims = 0 squeezes the axis; new_axis = 1 stacks the items back on it.
  ModelBuilder mb(17);
  mb.input("x", {4, 3}, kFloat);
  auto* split = mb.node("SplitToSequence", {"x"}, {"s"});
  ModelBuilder::attr_i(split, "axis", 1);
  ModelBuilder::attr_i(split, "keepdims", 0);
  mb.node("SequenceAt", {"s", "one"}, {"col1"});
  mb.init_i64("one", {1});
  mb.g->mutable_initializer(0)->clear_dims();  // a scalar position
  auto* cat = mb.node("ConcatFromSequence", {"s"}, {"y"});
  ModelBuilder::attr_i(cat, "axis", -1);
  ModelBuilder::attr_i(cat, "new_axis", 1);
  mb.output("col1", kFloat);
  mb.output("y", kFloat);
  Session s = load(mb);
  const Tensor x = floats({4, 3}, 0);
  NamedTensors out = s.run({{"x", x}});
  REQUIRE(out[0].second.shape() == Shape{4});
  for (int r = 0; r < 4; ++r) CHECK(out[0].second.data<float>()[r] == x.data<float>()[r * 3 + 1]);
  CHECK(same(out[1].second, x));
}

TEST_CASE("SequenceErase and SequenceConstruct") {
  ModelBuilder mb(17);
  mb.input("a", {2}, kFloat);
  mb.input("b", {3}, kFloat);
  mb.input("c", {1}, kFloat);
  mb.init_i64("zero", {0});
  mb.g->mutable_initializer(0)->clear_dims();
  mb.node("SequenceConstruct", {"a", "b", "c"}, {"s"});
  mb.node("SequenceErase", {"s"}, {"no_last"});
  mb.node("SequenceErase", {"s", "zero"}, {"no_first"});
  seq_value(mb.g->add_output(), "no_last", kFloat);
  seq_value(mb.g->add_output(), "no_first", kFloat);
  Session s = load(mb);
  const Tensor a = floats({2}, 0), b = floats({3}, 10), c = floats({1}, 20);
  NamedValues out = s.run_values({{"a", a}, {"b", b}, {"c", c}});
  REQUIRE(out[0].second.items().size() == 2);
  CHECK(same(out[0].second.items()[0], a));
  CHECK(same(out[0].second.items()[1], b));
  REQUIRE(out[1].second.items().size() == 2);
  CHECK(same(out[1].second.items()[0], b));
  CHECK(same(out[1].second.items()[1], c));
}

TEST_CASE("optionals: Optional, OptionalHasElement, OptionalGetElement") {
  ModelBuilder mb(18);
  opt_value(mb.g->add_input(), "o", kFloat);
  mb.node("OptionalHasElement", {"o"}, {"has"});
  mb.node("OptionalGetElement", {"o"}, {"v"});
  mb.output("has", kBool);
  mb.output("v", kFloat);
  Session s = load(mb);
  CHECK(s.inputs()[0].kind == ValueKind::Optional);
  CHECK(type_str(s.inputs()[0]) == "optional(tensor(float32))");
  const Tensor x = floats({5}, 3);
  NamedValues out = s.run_values({{"o", Value::optional(x)}});
  CHECK(out[0].second.tensor().data<uint8_t>()[0] == 1);
  CHECK(same(out[1].second.tensor(), x));
  // An empty optional: reading it is an error naming the node.
  CHECK_THROWS_WITH_AS(s.run_values({{"o", Value::none(DType::Float32)}}), doctest::Contains("OptionalGetElement"),
                       Error);

  ModelBuilder mb2(18);
  mb2.input("x", {2}, kFloat);
  mb2.node("Optional", {"x"}, {"o"});
  mb2.node("OptionalHasElement", {"o"}, {"has"});
  mb2.node("OptionalHasElement", {""}, {"has_absent"});
  opt_value(mb2.g->add_output(), "o", kFloat);
  mb2.output("has", kBool);
  mb2.output("has_absent", kBool);
  Session s2 = load(mb2);
  NamedValues out2 = s2.run_values({{"x", floats({2}, 1)}});
  CHECK(out2[0].second.has_value());
  CHECK(same(out2[0].second.contents().tensor(), floats({2}, 1)));
  CHECK(out2[1].second.tensor().data<uint8_t>()[0] == 1);
  CHECK(out2[2].second.tensor().data<uint8_t>()[0] == 0);
}

TEST_CASE("run_values runs tensor models too") {
  ModelBuilder mb(17);
  mb.input("x", {3}, kFloat);
  mb.node("Relu", {"x"}, {"y"});
  mb.output("y", kFloat);
  Session s = load(mb);
  Tensor x = floats({3}, -1);
  NamedValues out = s.run_values({{"x", x}});
  REQUIRE(out[0].second.is_tensor());
  CHECK(out[0].second.tensor().data<float>()[2] == 1.f);
  CHECK(same(out[0].second.tensor(), s.run({{"x", x}})[0].second));
}

TEST_CASE("a sequence where a tensor is needed is an error naming the node") {
  SUBCASE("a tensor op") {
    ModelBuilder mb(17);
    mb.input("a", {3}, kFloat);
    mb.node("SequenceConstruct", {"a"}, {"s"});
    mb.node("Concat", {"s", "s"}, {"c"});
    ModelBuilder::attr_i(mb.g->mutable_node(1), "axis", 0);
    mb.node("SequenceLength", {"c"}, {"n"});
    mb.output("n", kInt64);
    Session s = load(mb);
    CHECK_THROWS_WITH_AS(s.run({{"a", floats({3}, 0)}}), doctest::Contains("Concat"), Error);
  }
  SUBCASE("a Loop scan output") {
    // body(i, cond, a) → (cond, a, SequenceConstruct(a)): the scan output would stack sequences.
    ModelBuilder mb(17);
    mb.input("a", {2}, kFloat);
    mb.init_i64("trips", {3});
    mb.g->mutable_initializer(0)->clear_dims();
    auto* loop = mb.node("Loop", {"trips", "", "a"}, {"a_out", "stacked"});
    auto* attr = loop->add_attribute();
    attr->set_name("body");
    attr->set_type(onnx::AttributeProto::GRAPH);
    onnx::GraphProto* body = attr->mutable_g();
    body->set_name("body");
    ModelBuilder::set_type(body->add_input(), "i", kInt64, {});
    ModelBuilder::set_type(body->add_input(), "cond", kBool, {});
    ModelBuilder::set_type(body->add_input(), "a_in", kFloat, {2});
    auto* id = body->add_node();
    id->set_op_type("Identity");
    id->set_name("Identity_body");
    id->add_input("cond");
    id->add_output("cond_out");
    auto* sc = body->add_node();
    sc->set_op_type("SequenceConstruct");
    sc->set_name("SequenceConstruct_body");
    sc->add_input("a_in");
    sc->add_output("seq");
    for (const char* o : {"cond_out", "a_in", "seq"}) body->add_output()->set_name(o);
    mb.node("SequenceLength", {"stacked"}, {"n"});
    mb.output("n", kInt64);
    Session s = load(mb);
    CHECK_THROWS_WITH_AS(s.run({{"a", floats({2}, 0)}}), doctest::Contains("Loop"), Error);
  }
}

TEST_CASE("the C API describes sequence inputs and refuses to run them") {
  const std::string b = insert_at_model().bytes();
  normrt_session* s = nullptr;
  REQUIRE(normrt_session_open_memory(b.data(), b.size(), nullptr, 1, &s) == NORMRT_OK);
  const char* name = nullptr;
  int dtype = -1;
  size_t rank = 9;
  REQUIRE(normrt_session_input_info(s, 0, &name, &dtype, &rank, nullptr) == NORMRT_OK);
  CHECK(std::string(name) == "x");
  CHECK(dtype == 0);  // not a tensor
  CHECK(rank == 0);
  normrt_result* r = nullptr;
  CHECK(normrt_session_run(s, nullptr, 0, &r) == NORMRT_INVALID_ARGUMENT);
  CHECK(r == nullptr);
  CHECK(std::string(normrt_last_error()).find("seq(tensor(float32))") != std::string::npos);
  normrt_session_free(s);
}

TEST_CASE("hostile sizes: SplitToSequence into too many tensors, a joined axis past int64") {
  ModelBuilder mb(17);
  mb.input("x", {0, int64_t{1} << 40}, kFloat);  // no elements, but 2^40 chunks of 1 along axis 1
  ModelBuilder::attr_i(mb.node("SplitToSequence", {"x"}, {"s"}), "axis", 1);
  mb.node("SequenceLength", {"s"}, {"n"});
  mb.output("n", kInt64);
  CHECK_THROWS_WITH_AS(load(mb), doctest::Contains("more than a sequence may hold"), Error);

  ModelBuilder cat(17);
  seq_value(cat.g->add_input(), "s", kFloat);
  ModelBuilder::attr_i(cat.node("ConcatFromSequence", {"s"}, {"y"}), "axis", 1);
  cat.output("y", kFloat);
  Session s = load(cat);
  const Tensor big = Tensor::view(nullptr, DType::Float32, {0, int64_t{1} << 59});  // empty, the largest such dim
  CHECK_THROWS_WITH_AS(s.run_values({{"s", Value::sequence(std::vector<Tensor>(16, big))}}),
                       doctest::Contains("overflows"), Error);
  CHECK_THROWS_AS(s.run_values({{"s", Value::sequence({big, big})}}), Error);  // [0, 2^60]: too large a shape
  // Items that differ outside the axis.
  CHECK_THROWS_WITH_AS(s.run_values({{"s", Value::sequence({floats({2, 3}, 0), floats({3, 3}, 0)})}}),
                       doctest::Contains("does not fit"), Error);
  NamedValues out = s.run_values({{"s", Value::sequence({floats({2, 3}, 0), floats({2, 1}, 6)})}});
  const Tensor& y = out[0].second.tensor();
  REQUIRE(y.shape() == Shape{2, 4});
  const float want[] = {0, 1, 2, 6, 3, 4, 5, 7};
  for (int i = 0; i < 8; ++i) CHECK(y.data<float>()[i] == want[i]);
}
