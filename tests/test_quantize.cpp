// normrt::quantize_dynamic (the `normrt quantize` rewrite): the nodes it
// writes, --exclude / --min-size, per-tensor and per-channel weight scales,
// and the quantized model's outputs against a plain simulation of the same
// integer arithmetic (int32 products exactly, float outputs within rounding);
// a quantized BERT-style model against its float32 outputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int64_t M = 5, K = 24;

std::vector<float> values(int64_t n, uint64_t seed, float scale = 1.f) {
  const Tensor t = test::random_tensor({n}, seed);
  std::vector<float> v(t.data<float>(), t.data<float>() + n);
  for (float& x : v) x *= scale;
  return v;
}

// y1 = x·W1 [24, 40]; y2 = Gemm(x, W2 [16, 24], C, transB=1); y3 = x·Ws [24, 3]
// (72 elements); y4 = x·W4 [24, 8] in node "keep_me".
ModelBuilder linear_model(int64_t opset = 13) {
  ModelBuilder m(opset);
  m.input("x", {M, K}).output("y1").output("y2").output("y3").output("y4");
  m.init_f("W1", {K, 40}, values(K * 40, 11));
  m.init_f("W2", {16, K}, values(16 * K, 12, 0.3f));
  m.init_f("C", {16}, values(16, 13));
  m.init_f("Wsmall", {K, 3}, values(K * 3, 14));
  m.init_f("W4", {K, 8}, values(K * 8, 15));
  m.node("MatMul", {"x", "W1"}, {"y1"})->set_name("mm1");
  auto* gemm = m.node("Gemm", {"x", "W2", "C"}, {"y2"});
  gemm->set_name("gemm");
  ModelBuilder::attr_i(gemm, "transB", 1);
  m.node("MatMul", {"x", "Wsmall"}, {"y3"})->set_name("small");
  m.node("MatMul", {"x", "W4"}, {"y4"})->set_name("keep_me");
  return m;
}

onnx::ModelProto load_proto(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  onnx::ModelProto m;
  REQUIRE(m.ParseFromIstream(&f));
  return m;
}

std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> c;
  for (auto& n : m.graph().node()) ++c[n.op_type()];
  return c;
}

const onnx::TensorProto* initializer(const onnx::ModelProto& m, const std::string& name) {
  for (auto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

template <class T>
std::vector<T> raw(const onnx::TensorProto& t) {
  std::vector<T> v(t.raw_data().size() / sizeof(T));
  std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
  return v;
}

// DynamicQuantizeLinear as ONNX defines it, in float32.
void dynamic_quantize(const std::vector<float>& x, float* scale, int* zp, std::vector<int>* q) {
  float lo = 0.f, hi = 0.f;
  for (float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
  *scale = (hi - lo) / 255.f;
  *zp = static_cast<int>(std::nearbyint(std::clamp(0.f - lo / *scale, 0.f, 255.f)));
  q->clear();
  for (float v : x) q->push_back(static_cast<int>(std::clamp(std::nearbyint(v / *scale) + *zp, 0.f, 255.f)));
}

struct Quantized {
  std::string path;
  QuantizeReport report;
};

Quantized quantize(ModelBuilder& m, const std::string& tag, const QuantizeOptions& opt) {
  const auto dir = test::temp_dir("quant_" + tag);
  const std::string in = m.save(dir / "float.onnx"), out = (dir / "int8.onnx").string();
  return {out, quantize_dynamic(in, out, opt)};
}

// Makes the int32 MatMulInteger outputs graph outputs too, to compare them exactly.
std::string expose_products(const std::string& path) {
  onnx::ModelProto m = load_proto(path);
  for (auto& n : m.graph().node())
    if (n.op_type() == "MatMulInteger") {
      auto* o = m.mutable_graph()->add_output();
      o->set_name(n.output(0));
      o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT32);
    }
  const std::string out = path + ".products.onnx";
  std::ofstream f(out, std::ios::binary);
  m.SerializeToOstream(&f);
  return out;
}

}  // namespace

TEST_CASE("quantize: MatMul and Gemm become DynamicQuantizeLinear, MatMulInteger, Cast, Mul (+ Add); the rest stays") {
  ModelBuilder m = linear_model(10);
  QuantizeOptions opt;
  opt.min_size = 100;
  opt.exclude = {"keep_me", "no_such_node"};
  const Quantized q = quantize(m, "nodes", opt);
  REQUIRE(q.report.quantized.size() == 2);
  CHECK(q.report.quantized[0].name == "mm1");
  CHECK(q.report.quantized[0].weight_shape == std::vector<int64_t>{K, 40});
  CHECK(q.report.quantized[1].name == "gemm");
  CHECK(q.report.quantized[1].weight_shape == std::vector<int64_t>{16, K});
  REQUIRE(q.report.skipped.size() == 2);
  CHECK(q.report.skipped[0].first == "small");
  CHECK(q.report.skipped[0].second.find("under --min-size 100") != std::string::npos);
  CHECK(q.report.skipped[1] == std::make_pair(std::string("keep_me"), std::string("excluded")));
  CHECK(q.report.activation_quantizers == 1);  // both read x: one DynamicQuantizeLinear
  CHECK(q.report.opset_before == 10);
  CHECK(q.report.opset_after == 11);
  CHECK(q.report.bytes_after < q.report.bytes_before);
  bool noted = false;
  for (auto& n : q.report.notes) noted = noted || n.find("no_such_node") != std::string::npos;
  CHECK(noted);

  const onnx::ModelProto out = load_proto(q.path);
  const auto ops = op_counts(out);
  CHECK(ops.at("DynamicQuantizeLinear") == 1);
  CHECK(ops.at("MatMulInteger") == 2);
  CHECK(ops.at("Cast") == 2);
  CHECK(ops.at("Mul") == 4);
  CHECK(ops.at("Add") == 1);
  CHECK(ops.at("MatMul") == 2);
  CHECK(!ops.count("Gemm"));
  CHECK(out.producer_name() == "normrt-tests");  // the rest of the model as it was
  CHECK(initializer(out, "W1") == nullptr);      // replaced by its int8 copy
  CHECK(initializer(out, "W2") == nullptr);
  CHECK(initializer(out, "Wsmall") != nullptr);
  CHECK(initializer(out, "W4") != nullptr);
  const onnx::TensorProto* w2q = initializer(out, "W2_transposed_quantized");
  REQUIRE(w2q != nullptr);
  CHECK(w2q->data_type() == onnx::TensorProto::INT8);
  CHECK(std::vector<int64_t>(w2q->dims().begin(), w2q->dims().end()) == std::vector<int64_t>{K, 16});
  for (auto& n : out.graph().node())
    if (n.op_type() == "MatMulInteger") CHECK(n.input_size() == 4);
}

TEST_CASE("quantize: weights, int32 products and outputs match a simulation of the integer arithmetic") {
  for (bool per_channel : {false, true}) {
    CAPTURE(per_channel);
    ModelBuilder m = linear_model();
    QuantizeOptions opt;
    opt.min_size = 100;
    opt.per_channel = per_channel;
    const Quantized q = quantize(m, per_channel ? "sim_pc" : "sim_pt", opt);
    const onnx::ModelProto out = load_proto(q.path);
    const Tensor x = test::random_tensor({M, K}, 7, 0.3f);
    const std::vector<float> xv(x.data<float>(), x.data<float>() + x.numel());
    float xs;
    int xzp;
    std::vector<int> xq;
    dynamic_quantize(xv, &xs, &xzp, &xq);

    Session s(expose_products(q.path));
    const NamedTensors got = s.run({{"x", x}});
    auto output = [&](const std::string& name) -> const Tensor& {
      for (auto& [n, t] : got)
        if (n == name) return t;
      FAIL("no output " << name);
      return got[0].second;
    };
    struct Case {
      const char* w;
      bool trans;
      int64_t N;
      const char* y;
      const char* wq;
    };
    for (const Case& c :
         {Case{"W1", false, 40, "y1", "W1_quantized"}, Case{"W2", true, 16, "y2", "W2_transposed_quantized"}}) {
      CAPTURE(c.y);
      const int64_t N = c.N;
      const std::vector<float> w = c.trans ? values(16 * K, 12, 0.3f) : values(K * 40, 11);
      auto wat = [&](int64_t k, int64_t n) {
        return c.trans ? w[static_cast<size_t>(n * K + k)] : w[static_cast<size_t>(k * N + n)];
      };
      // Scales: max |w| / 127 per column or per tensor; zero points 0.
      std::vector<float> ws(per_channel ? N : 1, 0.f);
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) {
          float& a = ws[per_channel ? n : 0];
          a = std::max(a, std::fabs(wat(k, n)));
        }
      for (float& a : ws) a = static_cast<float>(a / 127.0);
      const std::string stem = std::string(c.wq).substr(0, std::string(c.wq).size() - 10);  // drop "_quantized"
      const auto got_ws = raw<float>(*initializer(out, stem + "_scale"));
      REQUIRE(got_ws.size() == ws.size());
      for (size_t i = 0; i < ws.size(); ++i) CHECK(got_ws[i] == doctest::Approx(ws[i]).epsilon(1e-7));
      const auto zps = raw<int8_t>(*initializer(out, stem + "_zero_point"));
      CHECK(zps == std::vector<int8_t>(ws.size(), 0));
      const auto wq = raw<int8_t>(*initializer(out, c.wq));
      REQUIRE(wq.size() == static_cast<size_t>(K * N));
      int mismatched_weights = 0;
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) {
          const float want = std::clamp(std::nearbyint(wat(k, n) / got_ws[per_channel ? n : 0]), -127.f, 127.f);
          mismatched_weights += wq[static_cast<size_t>(k * N + n)] != static_cast<int8_t>(want);
        }
      CHECK(mismatched_weights == 0);
      // int32 products exactly; the float output within rounding of acc · xs · ws (+ C).
      const Tensor& acc = output(std::string(c.y) + "_output_quantized");
      const Tensor& y = output(c.y);
      REQUIRE(acc.dtype() == DType::Int32);
      const std::vector<float> bias = values(16, 13);
      int wrong_products = 0;
      double worst = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t n = 0; n < N; ++n) {
          int64_t sum = 0;
          for (int64_t k = 0; k < K; ++k)
            sum += static_cast<int64_t>(xq[static_cast<size_t>(i * K + k)] - xzp) * wq[static_cast<size_t>(k * N + n)];
          wrong_products += acc.data<int32_t>()[i * N + n] != sum;
          double want = static_cast<double>(sum) * xs * got_ws[per_channel ? n : 0] + (c.trans ? bias[n] : 0.0);
          worst = std::max(worst, std::fabs(y.data<float>()[i * N + n] - want) / std::max(1.0, std::fabs(want)));
        }
      CHECK(wrong_products == 0);
      CHECK(worst < 1e-6);
    }
  }
}

TEST_CASE("quantize: nothing to quantize leaves the opset; bad input is an Error") {
  ModelBuilder m = linear_model(10);
  QuantizeOptions opt;  // default --min-size 4096: every weight here is smaller
  const Quantized q = quantize(m, "none", opt);
  CHECK(q.report.quantized.empty());
  CHECK(q.report.skipped.size() == 4);
  CHECK(q.report.opset_after == 10);
  CHECK(op_counts(load_proto(q.path)).at("MatMul") == 3);
  const auto dir = test::temp_dir("quant_bad");
  CHECK_THROWS_AS(quantize_dynamic((dir / "missing.onnx").string(), (dir / "o.onnx").string()), Error);
  std::ofstream((dir / "junk.onnx").string()) << "not a model";
  CHECK_THROWS_AS(quantize_dynamic((dir / "junk.onnx").string(), (dir / "o.onnx").string()), Error);
  opt.min_size = -1;
  CHECK_THROWS_AS(quantize_dynamic(q.path, (dir / "o.onnx").string(), opt), Error);
}

TEST_CASE("quantize: the BERT-style model test keeps cosine similarity >= 0.99 at every optimization level") {
  const std::string dir = std::string(NORMRT_SOURCE_DIR) + "/models/tests/bert_opset17/";
  const auto tmp = test::temp_dir("quant_bert");
  for (bool per_channel : {false, true}) {
    CAPTURE(per_channel);
    QuantizeOptions opt;
    opt.per_channel = per_channel;
    const std::string out = (tmp / "q.onnx").string();
    const QuantizeReport r = quantize_dynamic(dir + "model.onnx", out, opt);
    CHECK(r.quantized.size() == 13);  // 6 per layer and the pooler's Gemm
    CHECK(r.bytes_after * 2 < r.bytes_before);
    for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
      SessionOptions so;
      so.optimization = level;
      Session s(out, so);
      NamedTensors in;
      for (size_t i = 0; i < s.inputs().size(); ++i)
        in.emplace_back(s.inputs()[i].name,
                        read_tensor_file(dir + "test_data_set_0/input_" + std::to_string(i) + ".pb"));
      const NamedTensors outs = s.run(in);
      for (size_t o = 0; o < s.outputs().size(); ++o) {
        const Tensor want = read_tensor_file(dir + "test_data_set_0/output_" + std::to_string(o) + ".pb");
        const Tensor& got = outs[o].second;
        REQUIRE(got.shape() == want.shape());
        double dot = 0, a = 0, b = 0;
        for (int64_t i = 0; i < got.numel(); ++i) {
          const double g = got.data<float>()[i], w = want.data<float>()[i];
          dot += g * w, a += g * g, b += w * w;
        }
        CHECK(dot / std::sqrt(a * b) >= 0.99);
      }
    }
    // At --optimize all the 13 quantized MatMuls run as DynamicQuantizeMatMuls: com.microsoft's,
    // or ai.normrt's when the FFN's Gelu joined its epilogue (one per layer); each layer's Q, K
    // and V projections merge into one ai.normrt node with three outputs: 13 − 2·2 = 9 nodes.
    int fused = 0, with_act = 0;
    for (auto& [op, n] : summarize_model(out, true).op_counts) {
      if (op == "com.microsoft::DynamicQuantizeMatMul") fused = n;
      if (op == "ai.normrt::DynamicQuantizeMatMul") with_act = n;
    }
    CHECK(fused + with_act == 9);
    CHECK(with_act == 2 + 2);
  }
}

TEST_CASE("quantize: external data is read and written inline; Gemm with alpha or transA stays float32") {
  ModelBuilder m(13);
  m.input("x", {M, K}).output("y1").output("y2").output("y3");
  const std::vector<float> w1 = values(K * 40, 11), w2 = values(K * 8, 12);
  const auto dir = test::temp_dir("quant_external");
  {
    std::ofstream f((dir / "weights.bin").string(), std::ios::binary);
    f.write(reinterpret_cast<const char*>(w1.data()), static_cast<std::streamsize>(w1.size() * 4));
  }
  auto* t = m.g->add_initializer();  // W1 [24, 40] in weights.bin
  t->set_name("W1");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(K), t->add_dims(40);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = t->add_external_data();
  loc->set_key("location"), loc->set_value("weights.bin");
  m.init_f("W2", {K, 8}, w2);
  m.init_f("W3", {M, 8}, values(M * 8, 13));
  m.node("MatMul", {"x", "W1"}, {"y1"})->set_name("mm1");
  ModelBuilder::attr_f(m.node("Gemm", {"x", "W2"}, {"y2"}), "alpha", 0.5f);
  ModelBuilder::attr_i(m.node("Gemm", {"x", "W3"}, {"y3"}), "transA", 1);
  const std::string in = m.save(dir / "float.onnx"), out = (dir / "int8.onnx").string();
  QuantizeOptions opt;
  opt.min_size = 1;
  const QuantizeReport r = quantize_dynamic(in, out, opt);
  REQUIRE(r.quantized.size() == 1);
  REQUIRE(r.skipped.size() == 2);
  CHECK(r.skipped[0].second == "Gemm with alpha != 1");
  CHECK(r.skipped[1].second == "Gemm with transA=1");
  CHECK(r.bytes_before == std::filesystem::file_size(in) + w1.size() * 4);
  const onnx::ModelProto q = load_proto(out);
  for (auto& init : q.graph().initializer()) CHECK(init.data_location() != onnx::TensorProto::EXTERNAL);
  // Runs from another folder (nothing external left) and matches the float model within quantization error.
  std::filesystem::create_directories(dir / "moved");
  std::filesystem::copy_file(out, dir / "moved" / "int8.onnx");
  const Tensor x = test::random_tensor({M, K}, 5);
  const NamedTensors want = Session(in).run({{"x", x}}),
                     got = Session((dir / "moved" / "int8.onnx").string()).run({{"x", x}});
  double dot = 0, a = 0, b = 0;
  for (int64_t i = 0; i < want[0].second.numel(); ++i) {
    const double g = got[0].second.data<float>()[i], w = want[0].second.data<float>()[i];
    dot += g * w, a += g * g, b += w * w;
  }
  CHECK(dot / std::sqrt(a * b) > 0.999);
  CHECK(got[1].second.data<float>()[3] == want[1].second.data<float>()[3]);  // the float Gemms as they were
}
