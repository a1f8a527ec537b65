// Einsum (numeric dtypes): y[out labels] = Σ over the other labels of
// Π_k x_k[its labels], for an equation "ab,bc->ac" with any number of operands,
// implicit output (the labels used once, sorted, after the ellipsis dims),
// "..." (broadcast dims, numpy-style right-aligned) and repeated labels in one
// operand (diagonals and traces: their dims' strides add up).
//   Reference: one loop over all labels, output labels outermost, with an
//     offset per operand (odometer); sums in double (floats) or wrapping
//     uint64 (integers). One pass over the output, Π(label sizes) products.
//   Two float operands whose labels are each batch (both + output), M (first
//     + output), N (second + output) or K (both, summed): the operands gathered
//     into [batch, M, K] and [batch, K, N], one GEMM per batch (linalg/gemm.h),
//     and the product permuted into the output unless already in its order.
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "dispatch.h"
#include "kernel_set.h"
#include "linalg/gemm.h"
#include "op.h"

namespace normrt {

namespace {

// A label: the ellipsis dims are 0..E-1, letter ch is E + letter_index(ch).
int letter_index(char ch) { return ch >= 'a' && ch <= 'z' ? ch - 'a' + 26 : ch - 'A'; }  // uppercase first

struct Term {
  std::string letters;  // the letters in order, with '.' standing for the ellipsis
  bool ellipsis = false;
};

struct EinsumPlan {
  size_t ops = 0;
  std::vector<int64_t> sizes;                 // per label, in loop order (output labels first)
  size_t n_out = 0;                           // how many of them are the output's
  std::vector<std::vector<int64_t>> strides;  // per operand, per label (0 where absent)
  // The GEMM path (gemm = true): element offsets to gather each operand and scatter the product.
  bool gemm = false;
  int64_t batch = 1, M = 1, N = 1, K = 1;
  std::vector<int64_t> a_sizes, a_strides, b_sizes, b_strides, c_sizes, c_strides;
  bool c_direct = false;  // the product [batch, M, N] is already laid out as the output
};

Term parse_term(const PlanCtx& c, const std::string& eq, const std::string& s) {
  Term t;
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
      t.letters += ch;
    } else if (ch == '.' && s.compare(i, 3, "...") == 0 && !t.ellipsis) {
      t.ellipsis = true;
      t.letters += '.';
      i += 2;
    } else {
      c.fail("equation '" + eq + "': unexpected '" + std::string(1, ch) + "' in term '" + s +
             "' (labels are letters, with at most one '...' per term)");
    }
  }
  return t;
}

// dst (contiguous) = src walked by sizes/strides, last dim fastest.
template <class T>
void gather_strided(const T* src, T* dst, const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides) {
  const size_t r = sizes.size();
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  if (n == 0) return;
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    dst[i] = src[off];
    for (size_t d = r; d-- > 0;) {
      off += strides[d];
      if (++idx[d] < sizes[d]) break;
      off -= idx[d] * strides[d];
      idx[d] = 0;
    }
  }
}

template <class T>
void einsum_reference(const std::vector<const T*>& x, T* y, const EinsumPlan& p) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  const size_t L = p.sizes.size(), n_out = p.n_out, ops = p.ops;
  int64_t out_count = 1, inner_count = 1;
  for (size_t l = 0; l < L; ++l) (l < n_out ? out_count : inner_count) *= p.sizes[l];
  std::vector<int64_t> idx(L, 0), off(ops, 0);
  // Advances the odometer over labels [first, last).
  const auto step = [&](size_t first, size_t last) {
    for (size_t l = last; l-- > first;) {
      for (size_t k = 0; k < ops; ++k) off[k] += p.strides[k][l];
      if (++idx[l] < p.sizes[l]) return;
      for (size_t k = 0; k < ops; ++k) off[k] -= idx[l] * p.strides[k][l];
      idx[l] = 0;
    }
  };
  for (int64_t o = 0; o < out_count; ++o) {
    Acc acc = 0;
    for (int64_t q = 0; q < inner_count; ++q) {
      Acc prod = 1;
      for (size_t k = 0; k < ops; ++k) {
        if constexpr (std::is_floating_point_v<T>)
          prod *= static_cast<double>(x[k][off[k]]);
        else
          prod *= static_cast<uint64_t>(static_cast<int64_t>(x[k][off[k]]));
      }
      acc += prod;
      step(n_out, L);
    }
    y[o] = static_cast<T>(acc);
    step(0, n_out);
  }
}

template <class T>
void einsum_gemm(const T* a, const T* b, T* y, const EinsumPlan& p, const linalg::GemmKernels* kern) {
  const int64_t batch = p.batch, M = p.M, N = p.N, K = p.K;
  if (batch * M * N == 0) return;
  std::vector<T> ap(static_cast<size_t>(batch * M * K)), bp(static_cast<size_t>(batch * K * N)), cp;
  gather_strided(a, ap.data(), p.a_sizes, p.a_strides);
  gather_strided(b, bp.data(), p.b_sizes, p.b_strides);
  if (!p.c_direct) cp.resize(static_cast<size_t>(batch * M * N));
  T* c = p.c_direct ? y : cp.data();
  for (int64_t bi = 0; bi < batch; ++bi) {
    const T* ab = ap.data() + bi * M * K;
    const T* bb = bp.data() + bi * K * N;
    T* cb = c + bi * M * N;
    if (K == 0) {
      std::fill(cb, cb + M * N, T(0));
    } else if constexpr (std::is_same_v<T, float>) {
      linalg::sgemm(*kern, false, false, M, N, K, 1.f, ab, K, bb, N, 0.f, cb, N);
    } else {
      linalg::gemm_reference<T>(false, false, M, N, K, T(1), ab, K, bb, N, T(0), cb, N);
    }
  }
  if (!p.c_direct) gather_strided(c, y, p.c_sizes, p.c_strides);
}

// Fills the GEMM path's fields when every label is batch, M, N or K and no
// operand repeats a label (`repeats`); leaves p.gemm false otherwise.
void plan_gemm_path(EinsumPlan& p, const std::vector<std::array<int, 2>>& count, bool repeats) {
  if (p.ops != 2 || repeats) return;
  std::vector<size_t> bl, ml, nl, kl;
  for (size_t l = 0; l < p.sizes.size(); ++l) {
    const bool in_a = count[l][0] > 0, in_b = count[l][1] > 0, out = l < p.n_out;
    if (in_a && in_b)
      (out ? bl : kl).push_back(l);
    else if (in_a && out)
      ml.push_back(l);
    else if (in_b && out)
      nl.push_back(l);
    else
      return;  // summed in one operand only
  }
  const auto add = [&](const std::vector<size_t>& ls, int64_t& extent, std::vector<int64_t>& sizes,
                       std::vector<int64_t>& strides, size_t op) {
    for (size_t l : ls) {
      extent *= p.sizes[l];
      sizes.push_back(p.sizes[l]);
      strides.push_back(p.strides[op][l]);
    }
  };
  int64_t unused = 1;
  add(bl, p.batch, p.a_sizes, p.a_strides, 0);
  add(ml, p.M, p.a_sizes, p.a_strides, 0);
  add(kl, p.K, p.a_sizes, p.a_strides, 0);
  add(bl, unused, p.b_sizes, p.b_strides, 1);
  add(kl, unused, p.b_sizes, p.b_strides, 1);
  add(nl, p.N, p.b_sizes, p.b_strides, 1);
  // The product's element strides per label, laid out [batch labels, M labels, N labels].
  std::vector<size_t> c_order = bl;
  c_order.insert(c_order.end(), ml.begin(), ml.end());
  c_order.insert(c_order.end(), nl.begin(), nl.end());
  std::vector<int64_t> c_stride_of(p.sizes.size(), 0);
  for (size_t i = c_order.size(), s = 1; i-- > 0;) {
    c_stride_of[c_order[i]] = static_cast<int64_t>(s);
    s *= static_cast<size_t>(p.sizes[c_order[i]]);
  }
  p.c_direct = true;
  for (size_t l = 0; l < p.n_out; ++l) {
    p.c_sizes.push_back(p.sizes[l]);
    p.c_strides.push_back(c_stride_of[l]);
    if (c_order[l] != l) p.c_direct = false;
  }
  p.gemm = true;
}

void plan_einsum(PlanCtx& c) {
  if (c.num_inputs() < 1) c.fail("needs at least one input");
  c.require_inputs(1, c.num_inputs());
  const DType dt = c.input(0).dtype;
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                      DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64});
  for (size_t k = 1; k < c.num_inputs(); ++k)
    if (c.input(k).dtype != dt) c.fail("inputs differ in dtype");
  if (!c.node.has_attr("equation")) c.fail("attribute equation is required");
  const std::string eq = c.node.attr_string("equation", "");
  std::string s;
  for (char ch : eq)
    if (ch != ' ' && ch != '\t' && ch != '\n') s += ch;
  const size_t arrow = s.find("->");
  const bool explicit_out = arrow != std::string::npos;
  const std::string lhs = s.substr(0, arrow), rhs = explicit_out ? s.substr(arrow + 2) : "";
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(parse_term(c, eq, lhs.substr(start, comma == std::string::npos ? comma : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const size_t ops = c.num_inputs();
  if (terms.size() != ops)
    c.fail("equation '" + eq + "' has " + std::to_string(terms.size()) + " operand terms for " + std::to_string(ops) +
           " inputs");
  const Term out_term = parse_term(c, eq, rhs);
  // Ranks: the ellipsis takes the dims the letters leave.
  int64_t E = 0;
  std::vector<int64_t> ell_dims(ops, 0);
  for (size_t k = 0; k < ops; ++k) {
    const int64_t rank = static_cast<int64_t>(c.input(k).shape.size());
    const int64_t letters = static_cast<int64_t>(terms[k].letters.size()) - (terms[k].ellipsis ? 1 : 0);
    if (terms[k].ellipsis ? rank < letters : rank != letters)
      c.fail("equation '" + eq + "': term " + std::to_string(k) + " has " + std::to_string(letters) +
             " labels but input " + std::to_string(k) + " has rank " + std::to_string(rank));
    ell_dims[k] = rank - letters;
    E = std::max(E, ell_dims[k]);
  }
  const size_t n_labels = static_cast<size_t>(E) + 52;
  const auto letter_label = [&](char ch) { return static_cast<size_t>(E) + static_cast<size_t>(letter_index(ch)); };
  // Each label's size (ellipsis dims broadcast numpy-style), and the operands' dim labels.
  std::vector<int64_t> size(n_labels, -1);
  std::vector<int> uses(n_labels, 0);
  std::vector<std::vector<size_t>> dim_label(ops);
  for (size_t k = 0; k < ops; ++k) {
    const Shape& sh = c.input(k).shape;
    for (char ch : terms[k].letters) {
      if (ch == '.') {
        for (int64_t j = 0; j < ell_dims[k]; ++j) dim_label[k].push_back(static_cast<size_t>(E - ell_dims[k] + j));
      } else {
        dim_label[k].push_back(letter_label(ch));
        ++uses[letter_label(ch)];
      }
    }
    for (size_t d = 0; d < sh.size(); ++d) {
      const size_t l = dim_label[k][d];
      int64_t& sz = size[l];
      if (l < static_cast<size_t>(E)) {  // broadcast: 1 gives way to any size
        if (sz == -1 || sz == 1)
          sz = sh[d];
        else if (sh[d] != 1 && sh[d] != sz)
          c.fail("equation '" + eq + "': the '...' dims of the inputs do not broadcast");
      } else if (sz == -1) {
        sz = sh[d];
      } else if (sz != sh[d]) {
        const size_t li = l - static_cast<size_t>(E);
        const char ch = static_cast<char>(li < 26 ? 'A' + li : 'a' + (li - 26));
        c.fail("equation '" + eq + "': label '" + std::string(1, ch) + "' has sizes " + std::to_string(sz) + " and " +
               std::to_string(sh[d]));
      }
    }
  }
  // The output labels.
  std::vector<size_t> out_labels;
  if (explicit_out) {
    for (char ch : out_term.letters) {
      if (ch == '.') {
        for (int64_t j = 0; j < E; ++j) out_labels.push_back(static_cast<size_t>(j));
        continue;
      }
      const size_t l = letter_label(ch);
      if (size[l] < 0) c.fail("equation '" + eq + "': output label '" + std::string(1, ch) + "' is in no input");
      if (std::find(out_labels.begin(), out_labels.end(), l) != out_labels.end())
        c.fail("equation '" + eq + "': output label '" + std::string(1, ch) + "' is repeated");
      out_labels.push_back(l);
    }
  } else {
    for (int64_t j = 0; j < E; ++j) out_labels.push_back(static_cast<size_t>(j));
    for (size_t l = static_cast<size_t>(E); l < n_labels; ++l)
      if (uses[l] == 1) out_labels.push_back(l);
  }
  // Loop order: the output labels, then the summed ones.
  EinsumPlan p;
  p.ops = ops;
  std::vector<size_t> order = out_labels;
  for (size_t l = 0; l < n_labels; ++l)
    if (size[l] >= 0 && std::find(order.begin(), order.end(), l) == order.end()) order.push_back(l);
  p.n_out = out_labels.size();
  Shape out_shape;
  for (size_t l : out_labels) out_shape.push_back(size[l]);
  bool empty = false;
  int64_t work = 1;
  for (size_t l : order) {
    p.sizes.push_back(size[l]);
    empty = empty || size[l] == 0;
  }
  if (!empty)
    for (int64_t sz : p.sizes) work = checked_mul(c, work, sz, "the number of products (Π label sizes)");
  (void)work;
  // Strides: a label's dims' strides add up (diagonals); a broadcast dim has stride 0.
  std::vector<std::array<int, 2>> count(order.size(), {0, 0});
  bool repeats = false;
  p.strides.assign(ops, std::vector<int64_t>(order.size(), 0));
  for (size_t k = 0; k < ops; ++k) {
    const Shape& sh = c.input(k).shape;
    uint64_t st = 1;  // unsigned: an empty tensor's other dims may be huge (never read then)
    for (size_t d = sh.size(); d-- > 0;) {
      const size_t pos = static_cast<size_t>(std::find(order.begin(), order.end(), dim_label[k][d]) - order.begin());
      if (sh[d] == p.sizes[pos]) {
        p.strides[k][pos] += static_cast<int64_t>(st);
        if (k < 2 && ++count[pos][k] > 1) repeats = true;
      }
      st *= static_cast<uint64_t>(sh[d]);
    }
  }
  c.set_output(0, dt, out_shape);
  if (!empty && (dt == DType::Float32 || dt == DType::Float64)) plan_gemm_path(p, count, repeats);
  c.detail = p.gemm ? "batched GEMM" : "reference loop";
  const linalg::GemmKernels* kern = p.gemm && dt == DType::Float32 ? &c.kernels->gemm_for(p.M) : nullptr;
  auto plan = std::make_shared<const EinsumPlan>(std::move(p));
  c.kernel = [plan, dt, kern, empty](KernelIO& io) {
    Tensor& Y = *io.out[0];
    if (Y.numel() == 0) return;
    if (empty) {  // a summed label of size 0: every sum is empty
      std::memset(Y.raw(), 0, Y.nbytes());
      return;
    }
    visit_numeric(dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, half_t>) {
        if constexpr (std::is_floating_point_v<T>) {
          if (plan->gemm) return einsum_gemm<T>(io.in[0]->data<T>(), io.in[1]->data<T>(), Y.data<T>(), *plan, kern);
        }
        std::vector<const T*> x;
        for (const Tensor* t : io.in) x.push_back(t->data<T>());
        einsum_reference<T>(x, Y.data<T>(), *plan);
      }
    });
  };
}

}  // namespace

void register_einsum_ops(OpRegistry& r) { r.add("", "Einsum", {12}, plan_einsum); }

}  // namespace normrt
