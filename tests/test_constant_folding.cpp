// Constant folding computes with the session's kernels: a session pinned to an
// ISA path folds constants with that path's tables, bit for bit as they would
// run (fold_constants used the process default before KernelSet).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/kernel_set.h"

using namespace normrt;
using test::ModelBuilder;
using test::random_tensor;

TEST_CASE("constant folding computes with the session's own ISA path (SessionOptions::isa), not the process default") {
  // y = x + Erf(c) + Tanh(c) + Sigmoid(c): with c an initializer the three fold at session creation; with c
  // an input they run at run time. A session pinned to a path must give the same bits both ways.
  const int64_t n = 4099;
  Tensor c = random_tensor({n}, 21);
  for (int64_t i = 0; i < n; ++i) c.data<float>()[i] *= 3.f;
  const std::vector<float> cv(c.data<float>(), c.data<float>() + n);
  auto build = [&](bool folded) {
    ModelBuilder m(13);
    m.input("x", {n}).output("y");
    if (folded)
      m.init_f("c", {n}, cv);
    else
      m.input("c", {n});
    m.node("Erf", {"c"}, {"e"});
    m.node("Tanh", {"c"}, {"t"});
    m.node("Sigmoid", {"c"}, {"s"});
    m.node("Add", {"e", "t"}, {"et"});
    m.node("Add", {"et", "s"}, {"ets"});
    m.node("Add", {"x", "ets"}, {"y"});
    return m.bytes();
  };
  const std::string folded = build(true), live = build(false);
  NamedTensors x{{"x", Tensor(DType::Float32, {n})}};
  std::fill(x[0].second.data<float>(), x[0].second.data<float>() + n, 0.f);
  std::vector<std::vector<float>> per_isa;
  for (const KernelSet* k : available_kernel_sets()) {
    INFO("isa " << std::string(k->isa));
    SessionOptions o;
    o.isa = k->isa;
    Session sf = Session::from_memory(folded.data(), folded.size(), "", o);
    Session sl = Session::from_memory(live.data(), live.size(), "", o);
    const Tensor yf = sf.run(x)[0].second;
    NamedTensors xl = x;
    xl.emplace_back("c", Tensor::view(const_cast<float*>(cv.data()), DType::Float32, {n}));
    const Tensor yl = sl.run(xl)[0].second;
    CHECK(std::memcmp(yf.data<float>(), yl.data<float>(), static_cast<size_t>(n) * sizeof(float)) == 0);
    per_isa.emplace_back(yl.data<float>(), yl.data<float>() + n);
  }
  // Where the paths' results differ in some bit, the check above tells the paths' folds apart.
  for (size_t i = 1; i < per_isa.size(); ++i)
    if (per_isa[i] != per_isa[0]) MESSAGE("the ISA paths differ in the last bits, so the check above is sharp");
}
