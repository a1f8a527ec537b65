// Ba, Kiros & Hinton 2016, Table 1, forward pass, through the runtime on
// small graphs y = Norm(x·W): which transformations of the weights or the
// data leave the normalized output unchanged. "Invariant" cells assert
// equality within a tolerance; "not invariant" cells assert a real change.
//                          W·δ   W+1γᵀ  one column·δ  data·δ  data+c  one example·δ
//   LayerNorm               yes   yes    no            yes     no      yes
//   BatchNorm (batch stats) yes   no     yes           yes     yes     no
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int64_t B = 8, D = 6, H = 5;

using test::random_tensor;

// y = LayerNormalization(x·W) or BatchNormalization(x·W, training_mode=1), gain 1, bias 0.
Session make_session(bool layer_norm) {
  ModelBuilder m(15);
  m.input("x", {B, D}).input("w", {D, H}).output("y");
  m.init_f("one", {H}, std::vector<float>(H, 1.f));
  m.init_f("zero", {H}, std::vector<float>(H, 0.f));
  m.node("MatMul", {"x", "w"}, {"a"});
  if (layer_norm) {
    m.model.mutable_opset_import(0)->set_version(17);
    m.node("LayerNormalization", {"a", "one", "zero"}, {"y"});
  } else {
    auto* n = m.node("BatchNormalization", {"a", "one", "zero", "zero", "one"}, {"y"});
    ModelBuilder::attr_i(n, "training_mode", 1);
  }
  auto dir = test::temp_dir(layer_norm ? "inv_ln" : "inv_bn");
  return Session(m.save(dir / "m.onnx"));
}

double max_diff(const Tensor& a, const Tensor& b) {
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, std::fabs(double(a.data<float>()[i]) - b.data<float>()[i]));
  return d;
}

struct Case {
  const char* name;
  bool ln_invariant, bn_invariant;
  void (*apply)(Tensor& x, Tensor& w);
};

const Case kCases[] = {
    {"weight matrix re-scaling (W·3)", true, true,
     [](Tensor&, Tensor& w) {
       for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] *= 3.f;
     }},
    {"weight matrix re-centering (W + 1γᵀ)", true, false,
     [](Tensor&, Tensor& w) {
       // The same vector γ added to every hidden unit's weight vector (column of W here).
       for (int64_t k = 0; k < D; ++k)
         for (int64_t i = 0; i < H; ++i) w.data<float>()[k * H + i] += 0.7f * static_cast<float>(k + 1);
     }},
    {"weight vector re-scaling (one column·4)", false, true,
     [](Tensor&, Tensor& w) {
       for (int64_t k = 0; k < D; ++k) w.data<float>()[k * H + 2] *= 4.f;
     }},
    {"dataset re-scaling (x·2.5)", true, true,
     [](Tensor& x, Tensor&) {
       for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] *= 2.5f;
     }},
    {"dataset re-centering (x + c)", false, true,
     [](Tensor& x, Tensor&) {
       for (int64_t j = 0; j < B; ++j)
         for (int64_t k = 0; k < D; ++k) x.data<float>()[j * D + k] += 0.5f * static_cast<float>(k) - 1.f;
     }},
    {"single training case re-scaling (example 3·5)", true, false,
     [](Tensor& x, Tensor&) {
       for (int64_t k = 0; k < D; ++k) x.data<float>()[3 * D + k] *= 5.f;
     }},
};

}  // namespace

TEST_CASE("Table 1 of Ba, Kiros & Hinton 2016: LayerNorm and BatchNorm invariances") {
  const Tensor x0 = random_tensor({B, D}, 11), w0 = random_tensor({D, H}, 12);
  for (bool layer_norm : {true, false}) {
    Session s = make_session(layer_norm);
    const Tensor base = s.run({{"x", x0}, {"w", w0}})[0].second;
    for (const Case& c : kCases) {
      CAPTURE(layer_norm ? "LayerNorm" : "BatchNorm");
      CAPTURE(c.name);
      Tensor x = x0.clone(), w = w0.clone();
      c.apply(x, w);
      const double d = max_diff(s.run({{"x", x}, {"w", w}})[0].second, base);
      if (layer_norm ? c.ln_invariant : c.bn_invariant)
        CHECK(d <= 2e-4);  // equal up to epsilon's effect and rounding
      else
        CHECK(d >= 5e-2);  // a real change
    }
  }
}
