// Subgraphs and control flow (If, Loop, Scan) through models built in code:
// inlining of an If with a known condition, run-time branches with different
// shapes, outer values read inside branches (and kept alive by the memory
// plan), nested control flow, early-stopping loops, scan outputs, reversed
// Scan, and malformed subgraphs — at 1 and 2 threads, with and without the
// optimizer.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int kFloat = 1, kInt64 = 7, kBool = 9;

onnx::GraphProto* graph_attr(onnx::NodeProto* n, const std::string& name) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  a->mutable_g()->set_name(name);
  return a->mutable_g();
}

onnx::NodeProto* add(onnx::GraphProto* g, const std::string& op, const std::vector<std::string>& in,
                     const std::vector<std::string>& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + std::to_string(g->node_size()) + "_" + (out.empty() ? "" : out[0]));
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

void sub_output(onnx::GraphProto* g, const std::string& name, int elem = kFloat) {
  auto* v = g->add_output();
  v->set_name(name);
  v->mutable_type()->mutable_tensor_type()->set_elem_type(elem);
}

void sub_input(onnx::GraphProto* g, const std::string& name, int elem, const std::vector<int64_t>& dims) {
  ModelBuilder::set_type(g->add_input(), name, elem, dims);
}

void init_bool(onnx::GraphProto* g, const std::string& name, bool v) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(kBool);
  t->add_int32_data(v ? 1 : 0);
}

void init_scalar_f(onnx::GraphProto* g, const std::string& name, float v) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(kFloat);
  t->add_float_data(v);
}

void init_scalar_i64(onnx::GraphProto* g, const std::string& name, int64_t v) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(kInt64);
  t->add_int64_data(v);
}

Tensor floats(const Shape& shape, std::vector<float> v) {
  Tensor t(DType::Float32, shape);
  REQUIRE(static_cast<int64_t>(v.size()) == t.numel());
  for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = v[i];
  return t;
}

Tensor scalar_bool(bool v) {
  Tensor t(DType::Bool, {});
  t.data<uint8_t>()[0] = v ? 1 : 0;
  return t;
}

Tensor scalar_i64(int64_t v) {
  Tensor t(DType::Int64, {});
  t.data<int64_t>()[0] = v;
  return t;
}

std::vector<float> values(const Tensor& t) {
  REQUIRE(t.dtype() == DType::Float32);
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

std::string save(const ModelBuilder& m, const std::string& tag) { return m.save(test::temp_dir(tag) / "m.onnx"); }

SessionOptions options(int threads, OptimizationLevel level = OptimizationLevel::All) {
  SessionOptions o;
  o.threads = threads;
  o.optimization = level;
  return o;
}

// then: y = x + x, else: y = x · x (both read the outer x).
void add_branches(onnx::NodeProto* node, const std::string& x) {
  add(graph_attr(node, "then_branch"), "Add", {x, x}, {"t_y"});
  sub_output(node->mutable_attribute(0)->mutable_g(), "t_y");
  add(graph_attr(node, "else_branch"), "Mul", {x, x}, {"e_y"});
  sub_output(node->mutable_attribute(1)->mutable_g(), "e_y");
}

}  // namespace

TEST_CASE("If with a constant condition is planned in line: no If step") {
  for (bool cond : {true, false})
    for (auto level : {OptimizationLevel::None, OptimizationLevel::All})
      for (int threads : {1, 2}) {
        ModelBuilder m;
        m.input("x", {2, 3}).output("z");
        init_bool(m.g, "c", cond);
        auto* node = m.node("If", {"c"}, {"y"});
        node->set_name("the_if");
        add_branches(node, "x");
        m.node("Relu", {"y"}, {"z"});
        Session s(save(m, "if_const"), options(threads, level));
        Tensor x = floats({2, 3}, {-1, 2, -3, 4, 5, -6});
        RunProfile profile;
        auto out = s.run({{"x", x}}, &profile);
        for (auto& n : profile.nodes) CHECK(n.op_type != "If");
        const std::vector<float> xs = values(x), z = values(out[0].second);
        for (size_t i = 0; i < xs.size(); ++i) CHECK(z[i] == std::max(0.f, cond ? xs[i] + xs[i] : xs[i] * xs[i]));
      }
}

TEST_CASE("If whose condition is computed from shapes is inlined; a branch output that is an outer value") {
  // cond = Shape(x)[0] > 1; then: y = Neg(x); else: y = x itself (an outer value as the branch output)
  for (int64_t rows : {1, 3}) {
    ModelBuilder m;
    m.input("x", {-1, 2}).output("z");
    m.init_i64("zero", {0});
    init_scalar_i64(m.g, "one", 1);
    m.node("Shape", {"x"}, {"shape"});
    m.node("Gather", {"shape", "zero"}, {"rows1"});
    m.node("Squeeze", {"rows1", "zero"}, {"rows"});
    m.node("Greater", {"rows", "one"}, {"c"});
    auto* node = m.node("If", {"c"}, {"y"});
    add(graph_attr(node, "then_branch"), "Neg", {"x"}, {"t_y"});
    sub_output(node->mutable_attribute(0)->mutable_g(), "t_y");
    sub_output(graph_attr(node, "else_branch"), "x");
    m.node("Relu", {"y"}, {"z"});
    Session s(save(m, "if_shape"), options(1));
    Tensor x(DType::Float32, {rows, 2});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i) - 2.5f;
    RunProfile profile;
    auto out = s.run({{"x", x}}, &profile);
    for (auto& n : profile.nodes)  // only the re-view of x as the If's output, when the else branch runs
      CHECK((n.op_type != "If" || (rows == 1 && n.detail == "branch output 0")));
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float v = x.data<float>()[i];
      CHECK(out[0].second.data<float>()[i] == std::max(0.f, rows > 1 ? -v : v));
    }
  }
}

TEST_CASE("If on a run-time condition: branches with the same shapes stay a static step, different shapes run") {
  for (int threads : {1, 2}) {
    ModelBuilder m;
    m.input("c", {}, kBool).input("x", {4}).output("y").output("w");
    auto* node = m.node("If", {"c"}, {"y"});
    add_branches(node, "x");
    // different shapes: then [4], else [8] (Concat of the outer x twice)
    auto* node2 = m.node("If", {"c"}, {"w"});
    add(graph_attr(node2, "then_branch"), "Neg", {"x"}, {"t_w"});
    sub_output(node2->mutable_attribute(0)->mutable_g(), "t_w");
    auto* cat = add(graph_attr(node2, "else_branch"), "Concat", {"x", "x"}, {"e_w"});
    ModelBuilder::attr_i(cat, "axis", 0);
    sub_output(node2->mutable_attribute(1)->mutable_g(), "e_w");
    Session s(save(m, "if_runtime"), options(threads));
    Tensor x = floats({4}, {1, -2, 3, 0.5f});
    for (bool c : {true, false, true}) {
      auto out = s.run({{"c", scalar_bool(c)}, {"x", x}});
      const std::vector<float> y = values(out[0].second), w = values(out[1].second);
      REQUIRE(y.size() == 4);
      for (size_t i = 0; i < 4; ++i)
        CHECK(y[i] == (c ? 2 * x.data<float>()[i] : x.data<float>()[i] * x.data<float>()[i]));
      REQUIRE(w.size() == (c ? 4u : 8u));
      for (size_t i = 0; i < w.size(); ++i) CHECK(w[i] == (c ? -1.f : 1.f) * x.data<float>()[i % 4]);
    }
  }
}

TEST_CASE("a static If step reads its outer values in place; run_into gets a node-by-node output") {
  ModelBuilder m;
  m.input("c", {}, kBool).input("x", {3}).output("y");
  auto* node = m.node("If", {"c"}, {"y"});
  add_branches(node, "x");
  Session s(save(m, "if_static_step"), options(1));
  RunProfile profile;
  Tensor x = floats({3}, {1, 2, 3});
  auto out = s.run({{"c", scalar_bool(false)}, {"x", x}}, &profile);
  bool saw_if = false;
  for (auto& n : profile.nodes) saw_if = saw_if || (n.op_type == "If" && n.detail == "static branches");
  CHECK(saw_if);
  CHECK(values(out[0].second) == std::vector<float>{1, 4, 9});
  Tensor into(DType::Float32, {3});
  NamedTensors outs{{"y", into}};
  s.run_into({{"c", scalar_bool(true)}, {"x", x}}, outs);
  CHECK(values(into) == std::vector<float>{2, 4, 6});
}

TEST_CASE("an outer value read only inside a branch keeps its buffer until the If runs") {
  // a = Relu(x) is read by Exp and then only by the If's branches; bn and d
  // are computed in between. Without the If's implicit input the memory plan
  // would give bn a's buffer (a's last reader would be Exp).
  for (int threads : {1, 2}) {
    ModelBuilder m;
    m.input("c", {}, kBool).input("x", {64}).output("e");
    m.node("Relu", {"x"}, {"a"});
    m.node("Exp", {"a"}, {"b"});
    m.node("Neg", {"b"}, {"bn"});
    m.node("Abs", {"bn"}, {"d"});
    auto* node = m.node("If", {"c"}, {"y"});
    add_branches(node, "a");
    m.node("Add", {"d", "y"}, {"e"});
    Session s(save(m, "if_liveness"), options(threads, OptimizationLevel::None));
    Tensor x(DType::Float32, {64});
    for (int i = 0; i < 64; ++i) x.data<float>()[i] = static_cast<float>(i % 7) - 3.f;
    for (bool c : {true, false}) {
      auto out = s.run({{"c", scalar_bool(c)}, {"x", x}});
      for (int i = 0; i < 64; ++i) {
        const float v = x.data<float>()[i], a = std::max(0.f, v);
        CHECK(out[0].second.data<float>()[i] == doctest::Approx(std::exp(a) + (c ? a + a : a * a)));
      }
    }
  }
}

TEST_CASE("Loop: a condition that stops early, a scan output, a nested If reading outer values") {
  // v = 0; for i < M while v < limit: v = v + (i < 2 ? a : 2a); scan v
  for (int threads : {1, 2})
    for (auto level : {OptimizationLevel::None, OptimizationLevel::All}) {
      ModelBuilder m(13);
      m.input("M", {}, kInt64).input("a", {}).input("limit", {}).output("v_final").output("v_scan");
      init_scalar_f(m.g, "v0", 0.f);
      init_bool(m.g, "true", true);
      auto* loop = m.node("Loop", {"M", "true", "v0"}, {"v_final", "v_scan"});
      loop->set_name("the_loop");
      onnx::GraphProto* body = graph_attr(loop, "body");
      sub_input(body, "i", kInt64, {});
      sub_input(body, "cond_in", kBool, {});
      sub_input(body, "v_in", kFloat, {});
      init_scalar_i64(body, "two", 2);
      add(body, "Less", {"i", "two"}, {"early"});
      auto* inner = add(body, "If", {"early"}, {"step"});
      add(graph_attr(inner, "then_branch"), "Identity", {"a"}, {"t_s"});
      sub_output(inner->mutable_attribute(0)->mutable_g(), "t_s");
      add(graph_attr(inner, "else_branch"), "Add", {"a", "a"}, {"e_s"});
      sub_output(inner->mutable_attribute(1)->mutable_g(), "e_s");
      add(body, "Add", {"v_in", "step"}, {"v_out"});
      add(body, "Less", {"v_out", "limit"}, {"cond_out"});
      add(body, "Identity", {"v_out"}, {"scan"});
      sub_output(body, "cond_out", kBool);
      sub_output(body, "v_out");
      sub_output(body, "scan");
      Session s(save(m, "loop_nested"), options(threads, level));
      Tensor a(DType::Float32, {}), limit(DType::Float32, {});
      a.data<float>()[0] = 1.5f;
      for (float lim : {100.f, 7.f}) {
        limit.data<float>()[0] = lim;
        auto out = s.run({{"M", scalar_i64(5)}, {"a", a}, {"limit", limit}});
        std::vector<float> expect;
        float v = 0;
        for (int64_t i = 0; i < 5; ++i) {
          v += i < 2 ? 1.5f : 3.f;
          expect.push_back(v);
          if (!(v < lim)) break;
        }
        CHECK(out[0].second.shape() == Shape{});
        CHECK(out[0].second.data<float>()[0] == v);
        CHECK(out[1].second.shape() == Shape{static_cast<int64_t>(expect.size())});
        CHECK(values(out[1].second) == expect);
      }
      // M = 2^63 - 1 (nothing is allocated for it up front): the condition ends the loop
      limit.data<float>()[0] = 7.f;
      auto long_run = s.run({{"M", scalar_i64(INT64_MAX)}, {"a", a}, {"limit", limit}});
      CHECK(values(long_run[1].second) == std::vector<float>{1.5f, 3.f, 6.f, 9.f});
      // M = 0: no iteration, the initial value comes out and the scan output is empty
      auto out = s.run({{"M", scalar_i64(0)}, {"a", a}, {"limit", limit}});
      CHECK(out[0].second.data<float>()[0] == 0.f);
      CHECK(out[1].second.numel() == 0);
    }
}

TEST_CASE("Scan-9: reversed input and output directions, scan axis 1") {
  // state s [2] = 0; x [2, 3] scanned on axis 1 from the end: s += x[:, t]; out[t] = s, prepended
  for (int threads : {1, 2}) {
    ModelBuilder m(11);
    m.input("s0", {2}).input("x", {2, 3}).output("s").output("ys");
    auto* scan = m.node("Scan", {"s0", "x"}, {"s", "ys"});
    ModelBuilder::attr_i(scan, "num_scan_inputs", 1);
    ModelBuilder::attr_ints(scan, "scan_input_axes", {1});
    ModelBuilder::attr_ints(scan, "scan_input_directions", {1});
    ModelBuilder::attr_ints(scan, "scan_output_directions", {1});
    ModelBuilder::attr_ints(scan, "scan_output_axes", {-1});
    onnx::GraphProto* body = graph_attr(scan, "body");
    sub_input(body, "s_in", kFloat, {2});
    sub_input(body, "x_t", kFloat, {2});
    add(body, "Add", {"s_in", "x_t"}, {"s_out"});
    add(body, "Identity", {"s_out"}, {"y_t"});
    sub_output(body, "s_out");
    sub_output(body, "y_t");
    Session s(save(m, "scan_reverse"), options(threads));
    Tensor x = floats({2, 3}, {1, 2, 3, 10, 20, 30});
    auto out = s.run({{"s0", floats({2}, {0, 100})}, {"x", x}});
    CHECK(values(out[0].second) == std::vector<float>{6, 160});
    // iterations t = 0, 1, 2 read columns 2, 1, 0: sums [3, 130], [5, 150], [6, 160];
    // prepended along the last axis: ys[:, k] = the sum of iteration 2 - k
    REQUIRE(out[1].second.shape() == Shape{2, 3});
    CHECK(values(out[1].second) == std::vector<float>{6, 5, 3, 160, 150, 130});
  }
}

TEST_CASE("Scan-8: batch entries whose outputs differ in shape are an Error, not a read past the smaller") {
  // The body expands 1 to the shape it scans: [1, 3] for batch entry 0 and [1, 1] for entry 1
  // cannot be stacked (the copy read 3 floats from the second).
  ModelBuilder m(8);
  m.input("x", {2, 1, 2}, kInt64).output("ys");
  auto* scan = m.node("Scan", {"", "x"}, {"ys"});
  scan->set_name("scan8");
  ModelBuilder::attr_i(scan, "num_scan_inputs", 1);
  onnx::GraphProto* body = graph_attr(scan, "body");
  sub_input(body, "x_t", kInt64, {2});
  init_scalar_f(body, "one", 1.f);
  add(body, "Expand", {"one", "x_t"}, {"y_t"});
  sub_output(body, "y_t");
  Session s(save(m, "scan8_ragged"), options(1));
  Tensor ragged(DType::Int64, {2, 1, 2}), even(DType::Int64, {2, 1, 2});
  const int64_t ragged_v[] = {1, 3, 1, 1}, even_v[] = {1, 2, 1, 2};
  std::memcpy(ragged.raw(), ragged_v, sizeof ragged_v);
  std::memcpy(even.raw(), even_v, sizeof even_v);
  CHECK_THROWS_WITH_AS(s.run({{"x", ragged}}),
                       doctest::Contains("node 'scan8' (Scan): output 0 is float32[1,1,1] for batch entry 1 but"),
                       Error);
  auto out = s.run({{"x", even}});  // equal shapes stack as before
  REQUIRE(out[0].second.shape() == Shape{2, 1, 1, 2});
  CHECK(values(out[0].second) == std::vector<float>{1, 1, 1, 1});
}

TEST_CASE("malformed control flow is an Error naming the node") {
  SUBCASE("branch output counts differ") {
    ModelBuilder m;
    m.input("c", {}, kBool).input("x", {2}).output("y");
    auto* node = m.node("If", {"c"}, {"y"});
    node->set_name("bad_if");
    add_branches(node, "x");
    sub_output(node->mutable_attribute(1)->mutable_g(), "x");  // else gives 2 outputs
    CHECK_THROWS_WITH_AS(Session(save(m, "if_count")), doctest::Contains("node 'bad_if' (If)"), Error);
  }
  SUBCASE("branch output counts differ, condition known") {
    ModelBuilder m;
    m.input("x", {2}).output("y");
    init_bool(m.g, "c", true);
    auto* node = m.node("If", {"c"}, {"y"});
    node->set_name("bad_if");
    add_branches(node, "x");
    sub_output(node->mutable_attribute(1)->mutable_g(), "x");
    CHECK_THROWS_WITH_AS(Session(save(m, "if_count_const")), doctest::Contains("node 'bad_if' (If)"), Error);
  }
  SUBCASE("a condition that is not a scalar") {
    ModelBuilder m;
    m.input("c", {2}, kBool).input("x", {2}).output("y");
    auto* node = m.node("If", {"c"}, {"y"});
    node->set_name("bad_if");
    add_branches(node, "x");
    CHECK_THROWS_WITH_AS(Session(save(m, "if_cond")),
                         doctest::Contains("node 'bad_if' (If): the condition must be a scalar"), Error);
  }
  SUBCASE("a trip count that is not a scalar, a loop condition that is not a scalar") {
    for (bool bad_trip : {true, false}) {
      ModelBuilder m;
      m.input("M", {bad_trip ? 2 : 1}, kInt64).input("c", {bad_trip ? 1 : 3}, kBool).input("v", {1}).output("y");
      auto* loop = m.node("Loop", {"M", "c", "v"}, {"y"});
      loop->set_name("bad_loop");
      onnx::GraphProto* body = graph_attr(loop, "body");
      sub_input(body, "i", kInt64, {});
      sub_input(body, "ci", kBool, {});
      sub_input(body, "vi", kFloat, {1});
      add(body, "Identity", {"ci"}, {"co"});
      add(body, "Neg", {"vi"}, {"vo"});
      sub_output(body, "co", kBool);
      sub_output(body, "vo");
      const std::string expect = std::string("node 'bad_loop' (Loop): ") +
                                 (bad_trip ? "the trip count M" : "the condition") + " must be a scalar";
      CHECK_THROWS_WITH_AS(Session(save(m, "loop_scalar")), doctest::Contains(expect.c_str()), Error);
    }
  }
  SUBCASE("subgraphs nested too deep") {
    ModelBuilder m;
    m.input("x", {1}).output("y");
    init_bool(m.g, "c", true);
    onnx::GraphProto* g = m.g;
    std::string out = "y";
    for (int depth = 0; depth < 70; ++depth) {
      auto* node = add(g, "If", {"c"}, {out});
      node->set_name("if_" + std::to_string(depth));
      onnx::GraphProto* then_b = graph_attr(node, "then_branch");
      onnx::GraphProto* else_b = graph_attr(node, "else_branch");
      add(else_b, "Neg", {"x"}, {"e" + std::to_string(depth)});
      sub_output(else_b, "e" + std::to_string(depth));
      out = "t" + std::to_string(depth);
      sub_output(then_b, out);
      g = then_b;
    }
    add(g, "Neg", {"x"}, {out});
    CHECK_THROWS_WITH_AS(Session(save(m, "if_deep")),
                         doctest::Contains("node 'if_64' (If): subgraphs are nested more than 64"), Error);
  }
}

TEST_CASE("data-dependent shapes in the middle of a graph run node by node, at 1 and 2 threads") {
  // idx = NonZero(x) [1, n] → Squeeze → Gather(x, idx) → Mul by 2; plus a Reshape to Shape(gathered)
  for (int threads : {1, 2}) {
    ModelBuilder m;
    m.input("x", {6}).output("y");
    m.init_i64("zero", {0});
    init_scalar_f(m.g, "two", 2.f);
    m.node("NonZero", {"x"}, {"nz"});
    m.node("Squeeze", {"nz", "zero"}, {"idx"});
    m.node("Gather", {"x", "idx"}, {"g"});
    m.node("Mul", {"g", "two"}, {"y"});
    Session s(save(m, "nonzero_mid"), options(threads));
    for (auto xv : {std::vector<float>{0, 1, 0, -2, 3, 0}, std::vector<float>{1, 1, 1, 1, 1, 1},
                    std::vector<float>{0, 0, 0, 0, 0, 0}}) {
      auto out = s.run({{"x", floats({6}, xv)}});
      std::vector<float> expect;
      for (float v : xv)
        if (v != 0) expect.push_back(2 * v);
      CHECK(values(out[0].second) == expect);
    }
  }
}

TEST_CASE("summarize_model names unsupported ops inside subgraphs by where they sit") {
  ModelBuilder m;
  m.input("c", {}, kBool).input("x", {2}).output("y");
  auto* node = m.node("If", {"c"}, {"y"});
  node->set_name("outer_if");
  onnx::GraphProto* then_b = graph_attr(node, "then_branch");
  auto* inner = add(then_b, "If", {"c"}, {"t"});
  inner->set_name("inner_if");
  add(graph_attr(inner, "then_branch"), "StringSplit", {"x"}, {"tt"});
  sub_output(inner->mutable_attribute(0)->mutable_g(), "tt");
  sub_output(graph_attr(inner, "else_branch"), "x");
  sub_output(then_b, "t");
  sub_output(graph_attr(node, "else_branch"), "x");
  const std::string path = save(m, "info_nested");
  ModelSummary sum = summarize_model(path);
  REQUIRE(sum.unsupported.size() == 1);
  CHECK(sum.unsupported[0].find("StringSplit") != std::string::npos);
  CHECK(sum.unsupported[0].find("in subgraph 'outer_if/then_branch/inner_if/then_branch'") != std::string::npos);
  CHECK_THROWS_WITH_AS(Session{path}, doctest::Contains("subgraph 'outer_if/then_branch/inner_if/then_branch'"), Error);
}

TEST_CASE("node-by-node runs from several threads at once give the same results") {
  const std::string model = std::string(NORMRT_SOURCE_DIR) + "/models/tests/control_flow/model.onnx";
  Session s(model, options(2));
  auto make = [](int k) {
    Tensor x(DType::Float32, {3, 16});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::sin(static_cast<float>(i * (k + 1)));
    return NamedTensors{{"x", x}, {"steps", scalar_i64(k % 4)}};
  };
  std::vector<std::vector<float>> expect;
  for (int k = 0; k < 4; ++k) expect.push_back(values(s.run(make(k))[0].second));
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 20; ++r) {
        const int k = (t + r) % 4;
        if (values(s.run(make(k))[0].second) != expect[static_cast<size_t>(k)]) bad[static_cast<size_t>(t)]++;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(bad == std::vector<int>(4, 0));
}
