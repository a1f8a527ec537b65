// Einsum, the scatter family, DepthToSpace/SpaceToDepth, Det, the losses and
// the small ops (BitShift, EyeLike, ReverseSequence, Shrink, Upsample) through
// one-node models, against plain loops or hand-computed values, and their
// error cases.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

NamedTensors run(ModelBuilder& m, const NamedTensors& in, const std::string& tag) {
  auto dir = test::temp_dir(tag);
  Session s(m.save(dir / "m.onnx"));
  return s.run(in);
}

Tensor floats(const Shape& shape, const std::vector<float>& v) {
  Tensor t(DType::Float32, shape);
  REQUIRE(static_cast<size_t>(t.numel()) == v.size());
  std::memcpy(t.raw(), v.data(), v.size() * sizeof(float));
  return t;
}

Tensor int64s(const Shape& shape, const std::vector<int64_t>& v) {
  Tensor t(DType::Int64, shape);
  REQUIRE(static_cast<size_t>(t.numel()) == v.size());
  std::memcpy(t.raw(), v.data(), v.size() * sizeof(int64_t));
  return t;
}

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

void check_close(const Tensor& got, const std::vector<float>& want, float tol = 1e-4f) {
  REQUIRE(static_cast<size_t>(got.numel()) == want.size());
  for (size_t i = 0; i < want.size(); ++i)
    CHECK_MESSAGE(std::fabs(got.data<float>()[i] - want[i]) <= tol * (1.f + std::fabs(want[i])),
                  "element " << i << ": " << got.data<float>()[i] << " vs " << want[i]);
}

// Runs Einsum(equation) on the given float inputs.
Tensor einsum(const std::string& eq, const std::vector<Tensor>& xs) {
  ModelBuilder m(12);
  std::vector<std::string> names;
  NamedTensors in;
  for (size_t k = 0; k < xs.size(); ++k) {
    names.push_back("x" + std::to_string(k));
    m.input(names.back(), xs[k].shape(), xs[k].dtype() == DType::Int64 ? 7 : 1);
    in.emplace_back(names.back(), xs[k]);
  }
  m.output("y", xs[0].dtype() == DType::Int64 ? 7 : 1);
  ModelBuilder::attr_s(m.node("Einsum", names, {"y"}), "equation", eq);
  return run(m, in, "einsum")[0].second;
}

// A row-major index helper: offset of idx in shape.
int64_t at(const Shape& s, std::initializer_list<int64_t> idx) {
  int64_t off = 0;
  size_t d = 0;
  for (int64_t i : idx) off = off * s[d++] + i;
  return off;
}

}  // namespace

// ---- Einsum -----------------------------------------------------------------------

TEST_CASE("Einsum matches plain loops: matmul, batched, transposed output, outer product, 3 operands") {
  const int64_t I = 9, J = 17, K = 8, B = 3;
  const Tensor a = test::random_tensor({I, J}, 1), b = test::random_tensor({J, K}, 2);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  std::vector<float> mm(static_cast<size_t>(I * K), 0.f);
  for (int64_t i = 0; i < I; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < J; ++j) mm[static_cast<size_t>(i * K + k)] += pa[i * J + j] * pb[j * K + k];
  check_close(einsum("ij,jk->ik", {a, b}), mm);
  check_close(einsum("ij,jk", {a, b}), mm);  // implicit output: i, k
  // Transposed output ki (the product permuted after the GEMM).
  std::vector<float> mt(static_cast<size_t>(I * K));
  for (int64_t i = 0; i < I; ++i)
    for (int64_t k = 0; k < K; ++k) mt[static_cast<size_t>(k * I + i)] = mm[static_cast<size_t>(i * K + k)];
  check_close(einsum("ij,jk->ki", {a, b}), mt);
  // Batched with the batch label last in the output: bij,bjk->ikb.
  const Tensor ba = test::random_tensor({B, I, J}, 3), bb = test::random_tensor({B, J, K}, 4);
  std::vector<float> bm(static_cast<size_t>(I * K * B), 0.f);
  for (int64_t n = 0; n < B; ++n)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < J; ++j)
          bm[static_cast<size_t>((i * K + k) * B + n)] +=
              ba.data<float>()[(n * I + i) * J + j] * bb.data<float>()[(n * J + j) * K + k];
  check_close(einsum("bij,bjk->ikb", {ba, bb}), bm);
  // Outer product.
  const Tensor u = test::random_tensor({7}, 5), v = test::random_tensor({16}, 6);
  std::vector<float> outer;
  for (int64_t i = 0; i < 7; ++i)
    for (int64_t j = 0; j < 16; ++j) outer.push_back(u.data<float>()[i] * v.data<float>()[j]);
  check_close(einsum("i,j->ij", {u, v}), outer);
  // Three operands: ij,jk,kl->il.
  const Tensor c = test::random_tensor({K, 5}, 7);
  std::vector<float> three(static_cast<size_t>(I * 5), 0.f);
  for (int64_t i = 0; i < I; ++i)
    for (int64_t l = 0; l < 5; ++l)
      for (int64_t k = 0; k < K; ++k)
        three[static_cast<size_t>(i * 5 + l)] += mm[i * K + k] * c.data<float>()[k * 5 + l];
  check_close(einsum("ij,jk,kl->il", {a, b, c}), three, 1e-3f);
  // A label summed in one operand only (i): falls back to the reference loop.
  std::vector<float> colsum(static_cast<size_t>(K), 0.f);
  for (int64_t i = 0; i < I; ++i)
    for (int64_t k = 0; k < K; ++k) colsum[static_cast<size_t>(k)] += mm[static_cast<size_t>(i * K + k)];
  check_close(einsum("ij,jk->k", {a, b}), colsum, 1e-3f);
}

TEST_CASE("Einsum: trace, diagonal, transpose, sum, ellipsis broadcast, int64") {
  const int64_t n = 6;
  const Tensor sq = test::random_tensor({n, n}, 11);
  const float* s = sq.data<float>();
  float trace = 0;
  std::vector<float> diag, tr;
  for (int64_t i = 0; i < n; ++i) trace += s[i * n + i], diag.push_back(s[i * n + i]);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < n; ++i) tr.push_back(s[i * n + j]);
  const Tensor t1 = einsum("ii->", {sq});
  CHECK(t1.shape().empty());
  check_close(t1, {trace});
  check_close(einsum("ii", {sq}), {trace});  // implicit: i is used twice, so summed
  check_close(einsum("ii->i", {sq}), diag);
  check_close(einsum("ij->ji", {sq}), tr);
  check_close(einsum("ji", {sq}), tr);  // implicit output is sorted: i, j
  // Ellipsis: [2,1,3,4] x [5,4,6] -> [2,5,3,6] (batch dims broadcast).
  const Tensor ea = test::random_tensor({2, 1, 3, 4}, 12), eb = test::random_tensor({5, 4, 6}, 13);
  const Tensor ey = einsum("...ij,...jk->...ik", {ea, eb});
  REQUIRE(ey.shape() == Shape{2, 5, 3, 6});
  std::vector<float> want;
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t q = 0; q < 5; ++q)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t k = 0; k < 6; ++k) {
          float acc = 0;
          for (int64_t j = 0; j < 4; ++j)
            acc += ea.data<float>()[at({2, 1, 3, 4}, {p, 0, i, j})] * eb.data<float>()[at({5, 4, 6}, {q, j, k})];
          want.push_back(acc);
        }
  check_close(ey, want);
  // Batch diagonal with an ellipsis: ...ii->...i.
  const Tensor bd = test::random_tensor({3, 5, 5}, 14);
  std::vector<float> bdiag;
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t i = 0; i < 5; ++i) bdiag.push_back(bd.data<float>()[(b * 5 + i) * 5 + i]);
  check_close(einsum("... i i -> ... i", {bd}), bdiag);
  // Integers: exact.
  const Tensor ia = int64s({2, 3}, {1, 2, 3, 4, 5, 6}), ib = int64s({3, 2}, {7, 8, 9, 10, 11, 12});
  const Tensor iy = einsum("ij,jk->ik", {ia, ib});
  REQUIRE(iy.dtype() == DType::Int64);
  CHECK(std::vector<int64_t>(iy.data<int64_t>(), iy.data<int64_t>() + 4) == std::vector<int64_t>{58, 64, 139, 154});
  // A summed label of size 0: every sum is empty, so zeros (not garbage).
  const Tensor z = einsum("ij,jk->ik", {test::random_tensor({3, 0}, 15), test::random_tensor({0, 2}, 16)});
  REQUIRE(z.shape() == Shape{3, 2});
  CHECK(values(z) == std::vector<float>(6, 0.f));
}

TEST_CASE("Einsum rejects bad equations naming the node") {
  const Tensor a = test::random_tensor({2, 3}, 1), b = test::random_tensor({3, 4}, 2);
  CHECK_THROWS_WITH_AS(einsum("ij,jk->i$", {a, b}), doctest::Contains("unexpected '$'"), Error);
  CHECK_THROWS_WITH_AS(einsum("ij->i", {a, b}), doctest::Contains("1 operand terms for 2 inputs"), Error);
  CHECK_THROWS_WITH_AS(einsum("ijk,jk->ik", {a, b}), doctest::Contains("has rank 2"), Error);
  CHECK_THROWS_WITH_AS(einsum("ij,ik->jk", {a, b}), doctest::Contains("label 'i' has sizes 2 and 3"), Error);
  CHECK_THROWS_WITH_AS(einsum("ij,jk->iz", {a, b}), doctest::Contains("'z' is in no input"), Error);
  CHECK_THROWS_WITH_AS(einsum("ij,jk->ii", {a, b}), doctest::Contains("is repeated"), Error);
  CHECK_THROWS_WITH_AS(einsum("i....j,jk->ik", {a, b}), doctest::Contains("Einsum"), Error);
}

// ---- Scatter family -----------------------------------------------------------------

namespace {

Tensor scatter_elements(const std::string& reduction, const Tensor& data, const Tensor& idx, const Tensor& upd,
                        int64_t axis) {
  ModelBuilder m(18);
  m.input("d", data.shape()).input("i", idx.shape(), 7).input("u", upd.shape()).output("y");
  auto* n = m.node("ScatterElements", {"d", "i", "u"}, {"y"});
  ModelBuilder::attr_i(n, "axis", axis);
  ModelBuilder::attr_s(n, "reduction", reduction);
  return run(m, {{"d", data}, {"i", idx}, {"u", upd}}, "scatter_el")[0].second;
}

Tensor scatter_nd(const std::string& reduction, const Tensor& data, const Tensor& idx, const Tensor& upd) {
  ModelBuilder m(18);
  m.input("d", data.shape()).input("i", idx.shape(), 7).input("u", upd.shape()).output("y");
  ModelBuilder::attr_s(m.node("ScatterND", {"d", "i", "u"}, {"y"}), "reduction", reduction);
  return run(m, {{"d", data}, {"i", idx}, {"u", upd}}, "scatter_nd")[0].second;
}

}  // namespace

TEST_CASE("ScatterElements reductions apply every duplicate index, negative indices count from the end") {
  const Tensor data = floats({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor idx = int64s({2, 3}, {1, 1, -1, 0, 0, 0});  // row 0: 1 twice and 3; row 1: 0 three times
  const Tensor upd = floats({2, 3}, {10, 20, 30, 2, 3, 4});
  CHECK(values(scatter_elements("add", data, idx, upd, 1)) == std::vector<float>{1, 32, 3, 34, 14, 6, 7, 8});
  CHECK(values(scatter_elements("mul", data, idx, upd, 1)) == std::vector<float>{1, 400, 3, 120, 120, 6, 7, 8});
  CHECK(values(scatter_elements("max", data, idx, upd, 1)) == std::vector<float>{1, 20, 3, 30, 5, 6, 7, 8});
  CHECK(values(scatter_elements("min", data, idx, upd, 1)) == std::vector<float>{1, 2, 3, 4, 2, 6, 7, 8});
  CHECK(values(scatter_elements("none", data, idx, upd, 1)) == std::vector<float>{1, 20, 3, 30, 4, 6, 7, 8});
  // axis 0: y[idx[i][j]][j]
  const Tensor idx0 = int64s({1, 4}, {1, 0, -1, 1});
  const Tensor upd0 = floats({1, 4}, {-1, -2, -3, -4});
  CHECK(values(scatter_elements("none", data, idx0, upd0, 0)) == std::vector<float>{1, -2, 3, 4, -1, 6, -3, -4});
}

TEST_CASE("ScatterND reductions with duplicate index rows") {
  const Tensor data = floats({3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor idx = int64s({3, 1}, {2, 0, 2});
  const Tensor upd = floats({3, 2}, {10, 20, 30, 40, 50, 60});
  CHECK(values(scatter_nd("add", data, idx, upd)) == std::vector<float>{31, 42, 3, 4, 65, 86});
  CHECK(values(scatter_nd("mul", data, idx, upd)) == std::vector<float>{30, 80, 3, 4, 2500, 7200});
  CHECK(values(scatter_nd("max", data, idx, upd)) == std::vector<float>{30, 40, 3, 4, 50, 60});
  CHECK(values(scatter_nd("none", data, idx, upd)) == std::vector<float>{30, 40, 3, 4, 50, 60});
  // Full index tuples (k = rank): single elements, negative indices.
  const Tensor idx2 = int64s({2, 2}, {-1, -1, 0, 1});
  const Tensor upd2 = floats({2}, {100, 200});
  CHECK(values(scatter_nd("add", data, idx2, upd2)) == std::vector<float>{1, 202, 3, 4, 5, 106});
}

TEST_CASE("Scatter ops: out-of-range indices and bad attributes are errors") {
  const Tensor data = floats({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor upd = floats({1, 2}, {1, 1});
  CHECK_THROWS_WITH_AS(scatter_elements("add", data, int64s({1, 2}, {0, 4}), upd, 1),
                       doctest::Contains("index 4 is out of range"), Error);
  CHECK_THROWS_WITH_AS(scatter_elements("add", data, int64s({1, 2}, {-5, 0}), upd, 1),
                       doctest::Contains("index -5 is out of range"), Error);
  CHECK_THROWS_WITH_AS(scatter_elements("avg", data, int64s({1, 2}, {0, 1}), upd, 1),
                       doctest::Contains("reduction 'avg'"), Error);
  CHECK_THROWS_WITH_AS(scatter_elements("none", data, int64s({1, 2}, {0, 1}), upd, 2),
                       doctest::Contains("out of range for rank 2"), Error);
  CHECK_THROWS_WITH_AS(scatter_nd("none", data, int64s({1, 1}, {2}), floats({1, 4}, {0, 0, 0, 0})),
                       doctest::Contains("index 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(scatter_nd("none", data, int64s({1, 1}, {1}), floats({1, 3}, {0, 0, 0})),
                       doctest::Contains("updates [1,3] must have shape [1,4]"), Error);
}

// ---- DepthToSpace / SpaceToDepth ------------------------------------------------------

namespace {

Tensor block_op(const std::string& op, const Tensor& x, int64_t b, const std::string& mode = "") {
  ModelBuilder m(13);
  m.input("x", x.shape()).output("y");
  auto* n = m.node(op, {"x"}, {"y"});
  ModelBuilder::attr_i(n, "blocksize", b);
  if (!mode.empty()) ModelBuilder::attr_s(n, "mode", mode);
  return run(m, {{"x", x}}, "block")[0].second;
}

}  // namespace

TEST_CASE("DepthToSpace DCR and CRD against the formula; SpaceToDepth inverts DCR") {
  const int64_t N = 2, C = 12, H = 3, W = 5, b = 2, Co = C / (b * b);
  const Tensor x = test::random_tensor({N, C, H, W}, 21);
  const Tensor dcr = block_op("DepthToSpace", x, b, "DCR");
  const Tensor crd = block_op("DepthToSpace", x, b, "CRD");
  REQUIRE(dcr.shape() == Shape{N, Co, H * b, W * b});
  const Shape xs{N, C, H, W}, ys{N, Co, H * b, W * b};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < Co; ++c)
      for (int64_t h = 0; h < H * b; ++h)
        for (int64_t w = 0; w < W * b; ++w) {
          const int64_t i = h % b, j = w % b;
          CHECK(dcr.data<float>()[at(ys, {n, c, h, w})] ==
                x.data<float>()[at(xs, {n, (i * b + j) * Co + c, h / b, w / b})]);
          CHECK(crd.data<float>()[at(ys, {n, c, h, w})] ==
                x.data<float>()[at(xs, {n, c * b * b + i * b + j, h / b, w / b})]);
        }
  const Tensor back = block_op("SpaceToDepth", dcr, b);
  CHECK(back.shape() == xs);
  CHECK(values(back) == values(x));
  // Block size 3 on a 9-channel input, the other way round.
  const Tensor z = test::random_tensor({1, 2, 6, 9}, 22);
  CHECK(values(block_op("DepthToSpace", block_op("SpaceToDepth", z, 3), 3, "DCR")) == values(z));
}

TEST_CASE("DepthToSpace / SpaceToDepth reject bad block sizes and modes") {
  const Tensor x = test::random_tensor({1, 8, 3, 4}, 23);
  CHECK_THROWS_WITH_AS(block_op("DepthToSpace", x, 3), doctest::Contains("does not divide C"), Error);
  CHECK_THROWS_WITH_AS(block_op("DepthToSpace", x, 0), doctest::Contains("blocksize must be > 0"), Error);
  CHECK_THROWS_WITH_AS(block_op("DepthToSpace", x, -2), doctest::Contains("blocksize must be > 0"), Error);
  CHECK_THROWS_WITH_AS(block_op("DepthToSpace", x, 2, "RCD"), doctest::Contains("mode 'RCD'"), Error);
  CHECK_THROWS_WITH_AS(block_op("SpaceToDepth", x, 2), doctest::Contains("does not divide H and W"), Error);
  CHECK_THROWS_WITH_AS(block_op("SpaceToDepth", x, int64_t{1} << 40), doctest::Contains("SpaceToDepth"), Error);
}

// ---- Det ----------------------------------------------------------------------------

TEST_CASE("Det of known matrices: 2x2, singular, permutation sign, batched, 0x0") {
  ModelBuilder m(11);
  m.input("x", {5, 3, 3}).output("y");
  m.node("Det", {"x"}, {"y"});
  const Tensor x = floats({5, 3, 3}, {
                                         1, 2, 0, 3, 4, 0, 0, 0, 1,   // [[1,2],[3,4]] ⊕ 1: −2
                                         1, 2, 3, 2, 4, 6, 7, 8, 9,   // rows 0 and 1 dependent: 0
                                         0, 1, 0, 1, 0, 0, 0, 0, 1,   // one swap: −1
                                         0, 1, 0, 0, 0, 1, 1, 0, 0,   // a 3-cycle: +1
                                         0, 0, 2, 0, 3, 5, 4, 7, 11,  // anti-triangular: −(2·3·4)
                                     });
  const Tensor y = run(m, {{"x", x}}, "det")[0].second;
  REQUIRE(y.shape() == Shape{5});
  check_close(y, {-2, 0, -1, 1, -24}, 1e-6f);
  // A 17x17 matrix L·U with known diagonals, rows permuted by one swap: det = −Π diag.
  const int64_t n = 17;
  ModelBuilder m2(11);
  m2.input("x", {n, n}).output("y");
  m2.node("Det", {"x"}, {"y"});
  std::vector<double> L(n * n, 0.0), U(n * n, 0.0);
  double want = -1;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) L[i * n + j] = 0.1 * static_cast<double>((i * 7 + j) % 5) - 0.2;
    L[i * n + i] = 1;
    U[i * n + i] = 1.0 + 0.05 * static_cast<double>(i);
    for (int64_t j = i + 1; j < n; ++j) U[i * n + j] = 0.1 * static_cast<double>((i + 3 * j) % 7) - 0.3;
    want *= U[i * n + i];
  }
  Tensor a(DType::Float32, {n, n});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += L[i * n + k] * U[k * n + j];
      const int64_t row = i == 0 ? 5 : i == 5 ? 0 : i;  // swap rows 0 and 5
      a.data<float>()[row * n + j] = static_cast<float>(s);
    }
  const Tensor d = run(m2, {{"x", a}}, "det17")[0].second;
  CHECK(d.shape().empty());
  CHECK(d.data<float>()[0] == doctest::Approx(want).epsilon(1e-4));
  ModelBuilder m3(11);
  m3.input("x", {2, 3}).output("y");
  m3.node("Det", {"x"}, {"y"});
  CHECK_THROWS_WITH_AS(run(m3, {{"x", test::random_tensor({2, 3}, 1)}}, "det_bad"),
                       doctest::Contains("square matrices"), Error);
}

// ---- Losses -------------------------------------------------------------------------

namespace {

NamedTensors loss(const std::string& op, const std::string& reduction, const Tensor& x, const Tensor& t,
                  const Tensor* w, const int64_t* ignore_index, bool log_prob = false) {
  ModelBuilder m(13);
  m.input("x", x.shape()).input("t", t.shape(), 7).output("y");
  std::vector<std::string> ins{"x", "t"};
  NamedTensors feed{{"x", x}, {"t", t}};
  if (w) {
    m.input("w", w->shape());
    ins.push_back("w");
    feed.emplace_back("w", *w);
  }
  std::vector<std::string> outs{"y"};
  if (log_prob) {
    m.output("lp");
    outs.push_back("lp");
  }
  auto* n = m.node(op, ins, outs);
  ModelBuilder::attr_s(n, "reduction", reduction);
  if (ignore_index) ModelBuilder::attr_i(n, "ignore_index", *ignore_index);
  return run(m, feed, "loss");
}

}  // namespace

TEST_CASE("NegativeLogLikelihoodLoss with ignore_index and weights: hand-computed values") {
  const Tensor x = floats({3, 3}, {-1, -2, -3, -4, -5, -6, -7, -8, -9});
  const Tensor t = int64s({3}, {0, 2, 1});
  const Tensor w = floats({3}, {0.5f, 2.f, 1.f});
  const int64_t ii = 2;
  // n0: −0.5·(−1) = 0.5 (w 0.5); n1 ignored; n2: −2·(−8) = 16 (w 2).
  check_close(loss("NegativeLogLikelihoodLoss", "none", x, t, &w, &ii)[0].second, {0.5f, 0.f, 16.f});
  check_close(loss("NegativeLogLikelihoodLoss", "sum", x, t, &w, &ii)[0].second, {16.5f});
  check_close(loss("NegativeLogLikelihoodLoss", "mean", x, t, &w, &ii)[0].second, {16.5f / 2.5f});
  // No weights, no ignore_index: mean over all: (1 + 6 + 8) / 3.
  check_close(loss("NegativeLogLikelihoodLoss", "mean", x, t, nullptr, nullptr)[0].second, {5.f});
  // A negative ignore_index matches negative targets; [N, C, D] layout.
  const Tensor x3 = floats({1, 2, 3}, {-1, -2, -3, -4, -5, -6});  // x[0, c, d]
  const Tensor t3 = int64s({1, 3}, {1, -1, 0});
  const int64_t neg = -1;
  const NamedTensors r = loss("NegativeLogLikelihoodLoss", "none", x3, t3, nullptr, &neg);
  CHECK(r[0].second.shape() == Shape{1, 3});
  check_close(r[0].second, {4.f, 0.f, 3.f});
  check_close(loss("NegativeLogLikelihoodLoss", "mean", x3, t3, nullptr, &neg)[0].second, {3.5f});
}

TEST_CASE("Losses: out-of-range targets and bad attributes are errors, not crashes") {
  const Tensor x = floats({2, 3}, {0, 1, 2, 3, 4, 5});
  const int64_t ii = 7;
  CHECK_THROWS_WITH_AS(loss("NegativeLogLikelihoodLoss", "mean", x, int64s({2}, {0, 3}), nullptr, &ii),
                       doctest::Contains("target 3 is out of range for 3 classes"), Error);
  CHECK_THROWS_WITH_AS(loss("SoftmaxCrossEntropyLoss", "sum", x, int64s({2}, {-1, 0}), nullptr, nullptr),
                       doctest::Contains("target -1 is out of range"), Error);
  CHECK_THROWS_WITH_AS(loss("NegativeLogLikelihoodLoss", "avg", x, int64s({2}, {0, 1}), nullptr, nullptr),
                       doctest::Contains("reduction 'avg'"), Error);
  CHECK_THROWS_WITH_AS(loss("NegativeLogLikelihoodLoss", "none", x, int64s({3}, {0, 1, 2}), nullptr, nullptr),
                       doctest::Contains("does not match input"), Error);
  const Tensor w = floats({2}, {1, 1});
  CHECK_THROWS_WITH_AS(loss("SoftmaxCrossEntropyLoss", "none", x, int64s({2}, {0, 1}), &w, nullptr),
                       doctest::Contains("weight must have shape [C]"), Error);
}

TEST_CASE("SoftmaxCrossEntropyLoss: log_prob output and loss against a plain log-softmax") {
  const int64_t N = 2, C = 5, D = 3;
  const Tensor x = test::random_tensor({N, C, D}, 31);
  const Tensor t = int64s({N, D}, {0, 4, 2, 1, 3, 3});
  const Tensor w = floats({C}, {1, 2, 3, 4, 5});
  const NamedTensors r = loss("SoftmaxCrossEntropyLoss", "mean", x, t, &w, nullptr, true);
  std::vector<float> lp(static_cast<size_t>(N * C * D));
  double total = 0, wsum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      double s = 0;
      for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(x.data<float>()[(n * C + c) * D + d]));
      for (int64_t c = 0; c < C; ++c)
        lp[static_cast<size_t>((n * C + c) * D + d)] =
            static_cast<float>(x.data<float>()[(n * C + c) * D + d] - std::log(s));
      const int64_t tc = t.data<int64_t>()[n * D + d];
      total -= w.data<float>()[tc] * lp[static_cast<size_t>((n * C + tc) * D + d)];
      wsum += w.data<float>()[tc];
    }
  check_close(r[1].second, lp);
  check_close(r[0].second, {static_cast<float>(total / wsum)});
}

// ---- BitShift, EyeLike, ReverseSequence, Shrink, Upsample ---------------------------------

TEST_CASE("BitShift: broadcasting, shifts of the width or more give 0") {
  ModelBuilder m(11);
  m.input("x", {2, 3}, 2).input("s", {3}, 2).input("x32", {4}, 12).input("s32", {4}, 12).output("l", 2).output("r", 2);
  m.output("l32", 12);
  ModelBuilder::attr_s(m.node("BitShift", {"x", "s"}, {"l"}), "direction", "LEFT");
  ModelBuilder::attr_s(m.node("BitShift", {"x", "s"}, {"r"}), "direction", "RIGHT");
  ModelBuilder::attr_s(m.node("BitShift", {"x32", "s32"}, {"l32"}), "direction", "LEFT");
  Tensor x(DType::UInt8, {2, 3}), s(DType::UInt8, {3}), x32(DType::UInt32, {4}), s32(DType::UInt32, {4});
  const uint8_t xv[] = {1, 255, 16, 3, 128, 200}, sv[] = {7, 8, 2};
  std::memcpy(x.raw(), xv, 6);
  std::memcpy(s.raw(), sv, 3);
  const uint32_t x32v[] = {1, 1, 0xffffffffu, 5}, s32v[] = {31, 32, 4, 200};
  std::memcpy(x32.raw(), x32v, sizeof x32v);
  std::memcpy(s32.raw(), s32v, sizeof s32v);
  const NamedTensors out = run(m, {{"x", x}, {"s", s}, {"x32", x32}, {"s32", s32}}, "bitshift");
  const uint8_t* l = out[0].second.data<uint8_t>();
  const uint8_t* r = out[1].second.data<uint8_t>();
  CHECK(std::vector<uint8_t>(l, l + 6) == std::vector<uint8_t>{128, 0, 64, 128, 0, 32});
  CHECK(std::vector<uint8_t>(r, r + 6) == std::vector<uint8_t>{0, 0, 4, 0, 0, 50});
  const uint32_t* l32 = out[2].second.data<uint32_t>();
  CHECK(std::vector<uint32_t>(l32, l32 + 4) == std::vector<uint32_t>{0x80000000u, 0, 0xfffffff0u, 0});
}

TEST_CASE("EyeLike: k above, below and far outside the matrix; dtype attribute") {
  const auto eye = [](int64_t k, const std::string& tag) {
    ModelBuilder m(9);
    m.input("x", {3, 4}, 7).output("y");
    auto* n = m.node("EyeLike", {"x"}, {"y"});
    ModelBuilder::attr_i(n, "k", k);
    ModelBuilder::attr_i(n, "dtype", 1);
    return values(run(m, {{"x", Tensor(DType::Int64, {3, 4})}}, tag)[0].second);
  };
  CHECK(eye(1, "eye1") == std::vector<float>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
  CHECK(eye(-2, "eye2") == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0});
  CHECK(eye(int64_t{1} << 62, "eye3") == std::vector<float>(12, 0.f));
  CHECK(eye(-(int64_t{1} << 62), "eye4") == std::vector<float>(12, 0.f));
}

TEST_CASE("ReverseSequence reverses each batch entry's prefix; lengths out of range are errors") {
  ModelBuilder m(10);
  m.input("x", {3, 2, 2}).input("len", {2}, 7).output("y");
  auto* n = m.node("ReverseSequence", {"x", "len"}, {"y"});
  ModelBuilder::attr_i(n, "time_axis", 0);
  ModelBuilder::attr_i(n, "batch_axis", 1);
  const Tensor x = floats({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});  // x[t, b, :]
  const NamedTensors out = run(m, {{"x", x}, {"len", int64s({2}, {3, 2})}}, "revseq");
  CHECK(values(out[0].second) == std::vector<float>{8, 9, 6, 7, 4, 5, 2, 3, 0, 1, 10, 11});
  CHECK_THROWS_WITH_AS(run(m, {{"x", x}, {"len", int64s({2}, {4, 0})}}, "revseq_bad"),
                       doctest::Contains("sequence_lens[0] = 4 is out of range"), Error);
  CHECK_THROWS_WITH_AS(run(m, {{"x", x}, {"len", int64s({2}, {1, -1})}}, "revseq_neg"),
                       doctest::Contains("sequence_lens[1] = -1"), Error);
}

TEST_CASE("Shrink on float and int32; Upsample-7 (scales attribute) and Upsample-9") {
  ModelBuilder m(9);
  m.input("x", {6}).input("i", {4}, 6).output("y").output("yi", 6);
  auto* n = m.node("Shrink", {"x"}, {"y"});
  ModelBuilder::attr_f(n, "lambd", 1.5f);
  ModelBuilder::attr_f(n, "bias", 0.5f);
  auto* ni = m.node("Shrink", {"i"}, {"yi"});
  ModelBuilder::attr_f(ni, "lambd", 1.f);
  ModelBuilder::attr_f(ni, "bias", 3.f);
  Tensor iv(DType::Int32, {4});
  const int32_t ivals[] = {-5, -1, 1, 7};
  std::memcpy(iv.raw(), ivals, sizeof ivals);
  const NamedTensors out = run(m, {{"x", floats({6}, {-3, -1.5f, -1, 0, 1.6f, 4})}, {"i", iv}}, "shrink");
  check_close(out[0].second, {-2.5f, 0, 0, 0, 1.1f, 3.5f});
  CHECK(std::vector<int32_t>(out[1].second.data<int32_t>(), out[1].second.data<int32_t>() + 4) ==
        std::vector<int32_t>{-2, 0, 0, 4});

  ModelBuilder u7(7);
  u7.input("x", {1, 1, 2, 2}).output("y");
  auto* un = u7.node("Upsample", {"x"}, {"y"});
  ModelBuilder::attr_s(un, "mode", "nearest");
  auto* sc = un->add_attribute();
  sc->set_name("scales");
  sc->set_type(onnx::AttributeProto::FLOATS);
  for (float f : {1.f, 1.f, 2.f, 1.5f}) sc->add_floats(f);
  const Tensor y7 = run(u7, {{"x", floats({1, 1, 2, 2}, {1, 2, 3, 4})}}, "upsample7")[0].second;
  REQUIRE(y7.shape() == Shape{1, 1, 4, 3});
  CHECK(values(y7) == std::vector<float>{1, 1, 2, 1, 1, 2, 3, 3, 4, 3, 3, 4});

  ModelBuilder u9(9);
  u9.input("x", {1, 1, 1, 2}).output("y");
  u9.init_f("scales", {4}, {1, 1, 1, 2});
  ModelBuilder::attr_s(u9.node("Upsample", {"x", "scales"}, {"y"}), "mode", "linear");
  const Tensor y9 = run(u9, {{"x", floats({1, 1, 1, 2}, {2, 4})}}, "upsample9")[0].second;
  CHECK(values(y9) == std::vector<float>{2, 3, 4, 4});  // asymmetric: x/2, clamped at the edge
}
