// Session behaviour: input checking, re-planning on new shapes, bit-identical
// results across thread counts and inter-op settings, concurrent runs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/kernel_set.h"

using namespace normrt;

namespace {

const std::string kExample = std::string(NORMRT_SOURCE_DIR) + "/models/example/model.onnx";

using test::random_tensor;

NamedTensors example_inputs(int64_t batch, int64_t seq) {
  return {{"x", random_tensor({batch, seq, 64}, 1, 100.f)}, {"img", random_tensor({batch, 8, 16, 16}, 2)}};
}

// The inputs of a model test folder's test_data_set_0.
NamedTensors test_data_inputs(const std::filesystem::path& folder) {
  NamedTensors in;
  for (int k = 0;; ++k) {
    const auto file = folder / "test_data_set_0" / ("input_" + std::to_string(k) + ".pb");
    if (!std::filesystem::exists(file)) return in;
    std::string name;
    Tensor t = read_tensor_pb(file.string(), &name);
    in.emplace_back(name, t);
  }
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

TEST_CASE("a new input shape re-plans / the old shape still works") {
  Session s(kExample);
  auto a = s.run(example_inputs(1, 5));
  auto b = s.run(example_inputs(3, 17));
  auto c = s.run(example_inputs(1, 5));
  CHECK(a[0].second.shape() == Shape{1, 5, 64});
  CHECK(b[0].second.shape() == Shape{3, 17, 64});
  CHECK(b[1].second.shape() == Shape{3, 8, 16, 16});
  CHECK(bit_identical(a, c));
}

TEST_CASE("one session run from 8 threads x 200 runs gives the single-threaded result, bit for bit") {
  Session s(kExample);
  NamedTensors in = example_inputs(2, 33);
  NamedTensors ref = s.run(in);
  std::vector<int> ok(8, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      int good = 0;
      for (int i = 0; i < 200; ++i) good += bit_identical(s.run(in), ref);
      ok[static_cast<size_t>(t)] = good;
    });
  for (auto& th : pool) th.join();
  for (int v : ok) CHECK(v == 200);
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

TEST_CASE("Session::from_memory: same results as from a file / external data needs a base folder") {
  std::ifstream f(kExample, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Session mem = Session::from_memory(bytes.data(), bytes.size(), "");
  bytes.assign(bytes.size(), '\0');  // the session keeps no reference to the buffer
  NamedTensors in = example_inputs(1, 9);
  CHECK(bit_identical(mem.run(in), Session(kExample).run(in)));
  CHECK(error_of([] { Session::from_memory("nope", 4, ""); }).find("<model in memory>: not a valid ONNX model") !=
        std::string::npos);

  test::ModelBuilder m;
  m.input("x", {2}).output("y");
  auto* w = m.init_f("w", {2}, {});
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = w->add_external_data();
  kv->set_key("location");
  kv->set_value("w.bin");
  m.node("Add", {"x", "w"}, {"y"});
  const std::string model = m.bytes();
  CHECK(error_of([&] {
          Session::from_memory(model.data(), model.size(), "");
        }).find("external data needs the model's folder") != std::string::npos);
  auto dir = test::temp_dir("memext");
  std::ofstream(dir / "w.bin", std::ios::binary).write("\0\0\200?\0\0\0@", 8);  // 1.0f, 2.0f
  Session ok = Session::from_memory(model.data(), model.size(), dir.string());
  Tensor x(DType::Float32, {2});
  auto out = ok.run({{"x", x}});
  CHECK(out[0].second.data<float>()[0] == 1.f);
  CHECK(out[0].second.data<float>()[1] == 2.f);
}

TEST_CASE("run_into writes into caller buffers, checks them, and matches run") {
  Session s(kExample);
  NamedTensors in = example_inputs(2, 7);
  NamedTensors ref = s.run(in);
  std::vector<float> ybuf(2 * 7 * 64), zbuf(2 * 8 * 16 * 16);
  NamedTensors out = {{"z", Tensor::view(zbuf.data(), DType::Float32, {2, 8, 16, 16})},
                      {"y", Tensor::view(ybuf.data(), DType::Float32, {2, 7, 64})}};
  s.run_into(in, out);
  CHECK(std::memcmp(ybuf.data(), ref[0].second.raw(), ybuf.size() * 4) == 0);
  CHECK(std::memcmp(zbuf.data(), ref[1].second.raw(), zbuf.size() * 4) == 0);
  NamedTensors only_y = {{"y", Tensor::view(ybuf.data(), DType::Float32, {2, 7, 64})}};
  s.run_into(in, only_y);  // z computed and dropped
  NamedTensors wrong = {{"y", Tensor::view(ybuf.data(), DType::Float32, {2, 6, 64})}};
  CHECK(error_of([&] { s.run_into(in, wrong); })
            .find("output 'y' buffer is float32[2,6,64], this run produces "
                  "float32[2,7,64]") != std::string::npos);
  NamedTensors unknown = {{"w", Tensor::view(ybuf.data(), DType::Float32, {2, 7, 64})}};
  CHECK(error_of([&] { s.run_into(in, unknown); }).find("unknown output 'w'") != std::string::npos);

  // An output produced by a re-view (Reshape) and one that is a constant both land in the buffer.
  test::ModelBuilder m;
  m.input("x", {2, 3}).output("r").output("c");
  m.init_i64("shape", {3, 2});
  m.node("Reshape", {"x", "shape"}, {"r"});
  m.node("Shape", {"x"}, {"c"});
  auto dir = test::temp_dir("runinto");
  Session rs(m.save(dir / "m.onnx"));
  Tensor x(DType::Float32, {2, 3});
  for (int i = 0; i < 6; ++i) x.data<float>()[i] = static_cast<float>(i);
  std::vector<float> rbuf(6, -1.f);
  std::vector<int64_t> cbuf(2, 0);
  NamedTensors o = {{"r", Tensor::view(rbuf.data(), DType::Float32, {3, 2})},
                    {"c", Tensor::view(cbuf.data(), DType::Int64, {2})}};
  rs.run_into({{"x", x}}, o);
  CHECK(rbuf == std::vector<float>{0, 1, 2, 3, 4, 5});
  CHECK(cbuf == std::vector<int64_t>{2, 3});
}

TEST_CASE("SessionOptions: ISA override, a host-owned arena, the log callback") {
  NamedTensors in = example_inputs(2, 5);
  NamedTensors ref = Session(kExample).run(in);
  for (const char* isa : {"sse2", "avx2", "avx512"}) {
    SessionOptions o;
    o.isa = isa;
    bool runs = false;
    for (const KernelSet* k : available_kernel_sets()) runs = runs || std::string(k->isa) == isa;
    if (!runs) {
      CHECK(error_of([&] { Session s(kExample, o); }).find("is not a path this CPU runs") != std::string::npos);
      continue;
    }
    Session s(kExample, o);
    CHECK(std::string(s.isa()) == isa);
    NamedTensors out = s.run(in);
    for (size_t k = 0; k < out.size(); ++k)
      for (int64_t i = 0; i < out[k].second.numel(); ++i)
        CHECK(std::fabs(out[k].second.data<float>()[i] - ref[k].second.data<float>()[i]) <= 1e-4f);
  }
  tbb::task_arena host(1);
  SessionOptions o;
  o.arena = &host;
  std::vector<std::string> lines;
  o.log = [&](LogLevel, const std::string& msg) { lines.push_back(msg); };
  Session s(kExample, o);
  CHECK(s.threads() == 1);
  CHECK(bit_identical(s.run(in), ref));
  REQUIRE(!lines.empty());
  CHECK(lines[0].find("loaded ") == 0);
  CHECK(lines.back().find("planned input shapes [2,5,64] [2,8,16,16]") == 0);
}

TEST_CASE("Tensor::span checks the element type") {
  Tensor t(DType::Float32, {3});
  CHECK(t.span<float>().size() == 3);
  CHECK(error_of([&] { t.span<int32_t>(); }).find("tensor of dtype float32 viewed with another element type") !=
        std::string::npos);
  Tensor h(DType::Float16, {2});
  CHECK(h.span<uint16_t>().size() == 2);
}

// Run under ThreadSanitizer by scripts/sanitize.sh: a single-threaded session
// runs on its callers' threads with no TBB hand-off, so every synchronisation
// is normrt's own (plan cache, shared plans, per-run state) and visible to TSan.
TEST_CASE("concurrency (tsan): 8 threads create sessions, plan new shapes and run one session at once") {
  SessionOptions o;
  o.threads = 1;
  Session s(kExample, o);
  CHECK(s.threads() == 1);
  std::vector<NamedTensors> inputs;
  std::vector<NamedTensors> refs;
  for (int t = 0; t < 8; ++t) {
    inputs.push_back(example_inputs(1 + t % 3, 3 + t));  // different shapes: concurrent planning
    refs.push_back(Session(kExample, o).run(inputs.back()));
  }
  std::vector<int> ok(8, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      Session own(kExample, o);  // concurrent creation (registry, kernel table)
      int good = bit_identical(own.run(inputs[static_cast<size_t>(t)]), refs[static_cast<size_t>(t)]);
      for (int i = 0; i < 20; ++i)
        good += bit_identical(s.run(inputs[static_cast<size_t>(t)]), refs[static_cast<size_t>(t)]);
      ok[static_cast<size_t>(t)] = good;
    });
  for (auto& th : pool) th.join();
  for (int v : ok) CHECK(v == 21);
}

// Run under ThreadSanitizer by scripts/sanitize.sh in a build with
// NORMRT_TSAN_THREADS (ops/parallel.h): multi-threaded sessions run their
// inter-op task graph and every kernel's row split on std::threads, which TSan
// sees, so races in the executor (dependency counts, release of
// intermediates, the shared workspace) and in kernels' splits are reported.
// Two callers share each session (its arena has two slots).
TEST_CASE("concurrency (tsan): 2-thread sessions run their task graph and row splits, two callers at once") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(NORMRT_SOURCE_DIR) / "models" / "tests";
  for (const char* model : {"bert_opset17", "resnet", "mobilenet_v2", "torch_lstm"}) {
    CAPTURE(model);
    const fs::path m = dir / model;
    const NamedTensors in = test_data_inputs(m);
    REQUIRE(!in.empty());
    SessionOptions o1;
    o1.threads = 1;
    const NamedTensors ref = Session((m / "model.onnx").string(), o1).run(in);
    SessionOptions o;
    o.threads = 2;
    Session s((m / "model.onnx").string(), o);
    std::vector<int> ok(2, 0);
    std::vector<std::thread> callers;
    for (int t = 0; t < 2; ++t)
      callers.emplace_back([&, t] {
        for (int i = 0; i < 3; ++i) ok[static_cast<size_t>(t)] += bit_identical(s.run(in), ref);
      });
    for (auto& th : callers) th.join();
    CHECK(ok[0] == 3);
    CHECK(ok[1] == 3);
  }
}

TEST_CASE("static memory plan: a chain of ops reuses two buffers / branches that run concurrently never share") {
  // x → Neg → Neg → … (8 steps) → y: 7 intermediates of 4 KB live one at a time.
  test::ModelBuilder m(13);
  m.input("x", {1024}).output("y");
  std::string prev = "x";
  for (int i = 0; i < 8; ++i) {
    const std::string next = i == 7 ? "y" : "t" + std::to_string(i);
    m.node("Neg", {prev}, {next});
    prev = next;
  }
  const auto dir = test::temp_dir("memplan");
  Session s(m.save(dir / "chain.onnx"));
  const Session::PlannedMemory pm = s.planned_memory();
  CHECK(pm.steps == 8);
  CHECK(pm.intermediate_bytes == 7 * 4096);
  CHECK(pm.workspace_bytes == 2 * 4096);
  const Tensor x = test::random_tensor({1024}, 1);
  const Tensor y = s.run({{"x", x}})[0].second;
  for (int64_t i = 0; i < 1024; ++i) CHECK(y.data<float>()[i] == x.data<float>()[i]);

  // Two parallel branches a = Neg(Neg(x)), b = Relu(Relu(x)), y2 = a + b: with
  // inter-op parallelism the branches' buffers must not overlap.
  test::ModelBuilder p(13);
  p.input("x", {1024}).output("y2");
  p.node("Neg", {"x"}, {"a1"});
  p.node("Relu", {"x"}, {"b1"});
  p.node("Neg", {"a1"}, {"a2"});
  p.node("Relu", {"b1"}, {"b2"});
  p.node("Add", {"a2", "b2"}, {"y2"});
  SessionOptions o;
  o.threads = 2;
  Session ps(p.save(dir / "branches.onnx"), o);
  CHECK(ps.planned_memory().workspace_bytes >= 3 * 4096);  // a1/b1 and then a2/b2 live across branches
  for (int run = 0; run < 50; ++run) {
    const Tensor y2 = ps.run({{"x", x}})[0].second;
    for (int64_t i = 0; i < 1024; ++i) {
      const float v = x.data<float>()[i];
      REQUIRE(y2.data<float>()[i] == v + std::max(v, 0.f));
    }
  }
}

TEST_CASE("static memory plan: Concat inputs written in place, nested, beside copied ones, at 1 and 2 threads") {
  // (Sibling ops all differ: the optimizer merges identical ones.)
  // k = Concat(a, b, x, c, e) on the channels: a, b, c only read by it (written in place), x a graph
  // input and e read four times (copied); m = Concat(k, f) holds k (so a, b, c too) and f in place;
  // n = Concat(g, h) on the last axis (16 outer rows: copied).
  test::ModelBuilder b(13);
  b.input("x", {1, 16, 16}).output("y").output("y2").output("y3");
  b.node("Neg", {"x"}, {"a"});
  b.node("Relu", {"x"}, {"b"});
  b.node("Abs", {"x"}, {"c"});
  b.node("Floor", {"x"}, {"e"});
  test::ModelBuilder::attr_i(b.node("Concat", {"a", "b", "x", "c", "e"}, {"k"}), "axis", 1);
  b.node("Abs", {"e"}, {"f"});
  test::ModelBuilder::attr_i(b.node("Concat", {"k", "f"}, {"m"}), "axis", -2);
  b.node("Neg", {"m"}, {"y"});
  b.node("Add", {"e", "e"}, {"y2"});
  b.node("Ceil", {"x"}, {"g"});
  b.node("Sign", {"x"}, {"h"});
  test::ModelBuilder::attr_i(b.node("Concat", {"g", "h"}, {"n"}), "axis", 2);
  b.node("Neg", {"n"}, {"y3"});
  const std::string bytes = b.bytes();
  const Tensor x = random_tensor({1, 16, 16}, 3);
  const float* xv = x.data<float>();
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    SessionOptions o;
    o.threads = threads;
    Session s = Session::from_memory(bytes.data(), bytes.size(), "", o);
    // Buffers: e (1 KB), m (6 KB: a, b, c, k, f inside), g, h (1 KB each), n (2 KB); not a, b, c, k, f.
    CHECK(s.planned_memory().intermediate_bytes == 11 * 1024);
    for (int run = 0; run < 20; ++run) {
      const NamedTensors out = s.run({{"x", x}});
      const float *y = out[0].second.data<float>(), *y2 = out[1].second.data<float>(),
                  *y3 = out[2].second.data<float>();
      REQUIRE(out[0].second.shape() == Shape{1, 96, 16});
      for (int64_t i = 0; i < 256; ++i) {
        const float v = xv[i];
        // m = [−x, relu x, x, |x|, ⌊x⌋, |⌊x⌋|] by 16-channel blocks; y = −m
        const float m[6] = {-v, std::max(v, 0.f), v, std::fabs(v), std::floor(v), std::fabs(std::floor(v))};
        for (int j = 0; j < 6; ++j) REQUIRE(y[j * 256 + i] == -m[j]);
        REQUIRE(y2[i] == 2 * std::floor(v));
        const int64_t row = i / 16, col = i % 16;
        REQUIRE(y3[row * 32 + col] == -std::ceil(v));
        REQUIRE(y3[row * 32 + 16 + col] == -static_cast<float>((v > 0) - (v < 0)));
      }
    }
  }
}

TEST_CASE("model tests with attention, softmax, reductions and convolutions: bit-identical at 1, 2 and 8 threads") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(NORMRT_SOURCE_DIR) / "models" / "tests";
  for (const char* model : {"bert_opset17", "gpt", "vit", "resnet", "mobilenet_v2", "ln_lstm"}) {
    CAPTURE(model);
    const fs::path m = dir / model;
    const NamedTensors in = test_data_inputs(m);
    REQUIRE(!in.empty());
    SessionOptions o1;
    o1.threads = 1;
    const NamedTensors ref = Session((m / "model.onnx").string(), o1).run(in);
    for (int threads : {2, 8}) {
      CAPTURE(threads);
      SessionOptions o;
      o.threads = threads;
      CHECK(bit_identical(Session((m / "model.onnx").string(), o).run(in), ref));
    }
  }
  // Reductions and softmax over rows long enough to split: along each axis, and over all of x.
  test::ModelBuilder b(18);
  b.input("x", {96, 3000}).output("sum").output("mean").output("l2").output("lse").output("soft").output("all");
  b.init_i64("ax1", {1});
  b.init_i64("ax0", {0});
  b.node("ReduceSum", {"x", "ax1"}, {"sum"});
  b.node("ReduceMean", {"x", "ax0"}, {"mean"});
  b.node("ReduceL2", {"x", "ax1"}, {"l2"});
  b.node("ReduceLogSumExp", {"x", "ax0"}, {"lse"});
  test::ModelBuilder::attr_i(b.node("Softmax", {"x"}, {"soft"}), "axis", 1);
  b.node("ReduceMax", {"x"}, {"all"});
  const std::string bytes = b.bytes();
  const NamedTensors in{{"x", random_tensor({96, 3000}, 7)}};
  SessionOptions o1;
  o1.threads = 1;
  const NamedTensors ref = Session::from_memory(bytes.data(), bytes.size(), "", o1).run(in);
  for (int threads : {2, 8}) {
    CAPTURE(threads);
    SessionOptions o;
    o.threads = threads;
    CHECK(bit_identical(Session::from_memory(bytes.data(), bytes.size(), "", o).run(in), ref));
  }
}
