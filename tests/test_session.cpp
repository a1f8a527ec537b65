// Session behaviour: input checking, re-planning on new shapes, bit-identical
// results across thread counts and inter-op settings, concurrent runs.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <thread>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;

namespace {

const std::string kExample = std::string(NORMRT_SOURCE_DIR) + "/models/example/model.onnx";

Tensor random_tensor(const Shape& shape, uint64_t seed, float offset = 0.f) {
  Tensor t(DType::Float32, shape);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = offset + g(rng);
  return t;
}

NamedTensors example_inputs(int64_t batch, int64_t seq) {
  return {{"x", random_tensor({batch, seq, 64}, 1, 100.f)}, {"img", random_tensor({batch, 8, 16, 16}, 2)}};
}

bool bit_identical(const NamedTensors& a, const NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Tensor &x = a[i].second, &y = b[i].second;
    if (a[i].first != b[i].first || x.shape() != y.shape() || x.dtype() != y.dtype()) return false;
    if (std::memcmp(x.raw(), y.raw(), x.nbytes()) != 0) return false;
  }
  return true;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the example model's metadata keeps symbolic dims") {
  Session s(kExample);
  REQUIRE(s.inputs().size() == 2);
  CHECK(s.inputs()[0].name == "x");
  CHECK(s.inputs()[0].shape == Shape{-1, -1, 64});
  CHECK(s.inputs()[0].dim_names[1] == "seq");
  CHECK(s.outputs()[1].name == "z");
}

TEST_CASE("outputs are bit-identical at 1, 2 and 8 threads, with and without inter-op") {
  // Large enough that every kernel splits its rows over threads.
  NamedTensors in = example_inputs(8, 256);
  SessionOptions o1;
  o1.threads = 1;
  NamedTensors ref = Session(kExample, o1).run(in);
  for (int threads : {2, 8}) {
    for (bool inter : {true, false}) {
      CAPTURE(threads);
      CAPTURE(inter);
      SessionOptions o;
      o.threads = threads;
      o.inter_op = inter;
      CHECK(bit_identical(Session(kExample, o).run(in), ref));
    }
  }
}

TEST_CASE("a new input shape re-plans; the old shape still works") {
  Session s(kExample);
  auto a = s.run(example_inputs(1, 5));
  auto b = s.run(example_inputs(3, 17));
  auto c = s.run(example_inputs(1, 5));
  CHECK(a[0].second.shape() == Shape{1, 5, 64});
  CHECK(b[0].second.shape() == Shape{3, 17, 64});
  CHECK(b[1].second.shape() == Shape{3, 8, 16, 16});
  CHECK(bit_identical(a, c));
}

TEST_CASE("one session run from 8 threads gives the single-threaded result") {
  Session s(kExample);
  NamedTensors in = example_inputs(2, 33);
  NamedTensors ref = s.run(in);
  std::vector<int> ok(8, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      int good = 0;
      for (int i = 0; i < 25; ++i) good += bit_identical(s.run(in), ref);
      ok[static_cast<size_t>(t)] = good;
    });
  for (auto& th : pool) th.join();
  for (int v : ok) CHECK(v == 25);
}

TEST_CASE("wrong inputs get errors naming the input and what is wrong") {
  Session s(kExample);
  NamedTensors in = example_inputs(1, 4);
  CHECK(error_of([&] { s.run({in[0]}); }).find("input 'img' is missing") != std::string::npos);
  NamedTensors bad_name = in;
  bad_name[1].first = "image";
  CHECK(error_of([&] { s.run(bad_name); }).find("unknown input 'image'; the model's inputs are: x, img") !=
        std::string::npos);
  NamedTensors bad_dtype = in;
  bad_dtype[0].second = Tensor(DType::Float64, {1, 4, 64});
  CHECK(error_of([&] { s.run(bad_dtype); }).find("input 'x' has dtype float64, the model expects float32") !=
        std::string::npos);
  NamedTensors bad_shape = in;
  bad_shape[0].second = random_tensor({1, 4, 63}, 3);
  CHECK(error_of([&] { s.run(bad_shape); }).find("input 'x' has shape [1,4,63], the model expects [-1,-1,64]") !=
        std::string::npos);
  NamedTensors bad_rank = in;
  bad_rank[1].second = random_tensor({8, 16, 16}, 3);
  CHECK(error_of([&] { s.run(bad_rank); }).find("input 'img' has shape [8,16,16]") != std::string::npos);
  NamedTensors twice = in;
  twice.push_back(in[0]);
  CHECK(error_of([&] { s.run(twice); }).find("given twice") != std::string::npos);
  SessionOptions neg;
  neg.threads = -1;
  CHECK(error_of([&] { Session bad(kExample, neg); }).find("threads must be >= 0") != std::string::npos);
}

TEST_CASE("shape errors inside the graph name the node") {
  auto dir = test::temp_dir("shapes");
  test::ModelBuilder m;
  m.input("a", {2, 3}).input("b", {-1, 4}).output("y");
  m.node("Add", {"a", "b"}, {"y"});
  Session s(m.save(dir / "add.onnx"));
  std::string e = error_of([&] {
    s.run({{"a", Tensor(DType::Float32, {2, 3})}, {"b", Tensor(DType::Float32, {2, 4})}});
  });
  CHECK(e.find("node 'Add_1' (Add)") != std::string::npos);
  CHECK(e.find("do not broadcast") != std::string::npos);
}
