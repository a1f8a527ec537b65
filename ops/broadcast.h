// numpy-style broadcasting helpers shared by the elementwise ops and by the
// normalization ops' Scale/B inputs.
#pragma once
#include <initializer_list>
#include <vector>

#include "normrt/tensor.h"

namespace normrt {

// Multidirectional broadcast of a and b; false if incompatible.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);
// True if `from` broadcasts to `to` (unidirectional).
bool broadcasts_to(const Shape& from, const Shape& to);
// Element strides of `in` viewed in `out`'s index space (0 along broadcast dims).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);
// Element `i` of `out` (row-major) as offsets into two inputs whose strides in
// out's index space are sa and sb (from broadcast_strides).
inline void broadcast_offsets(const Shape& out, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb,
                              int64_t i, int64_t* oa, int64_t* ob) {
  int64_t rem = i, a = 0, b = 0;
  for (size_t d = out.size(); d-- > 0;) {
    const int64_t idx = rem % out[d];
    rem /= out[d];
    a += idx * sa[d];
    b += idx * sb[d];
  }
  *oa = a, *ob = b;
}
// A contiguous copy of t broadcast to `out` (any dtype); expand_into writes
// it into an existing tensor of the target shape.
Tensor expand_to(const Tensor& t, const Shape& out);
void expand_into(const Tensor& t, Tensor& out);
void expand_into(const Tensor& t, const Shape& out, void* dst);  // dst holds numel(out) elements

// Walks an n-ary broadcast as rows of a contiguous innermost block. Adjacent
// output dims are merged where every input is either whole or broadcast along
// both, so [N,C,H,W] + [C,1,1] walks rows of H·W with one offset per row.
//   BroadcastWalk w(out, {&a, &b});
//   w.offsets(row, off);  // element offset of each input at the row's start
//   element i of the row: input k at off[k] + i * w.inner_stride[k]
struct BroadcastWalk {
  static constexpr size_t kMaxInputs = 3, kMaxDims = 16;  // merged dims; no heap use per call
  BroadcastWalk(const Shape& out, std::initializer_list<const Shape*> inputs);
  int64_t rows = 0, inner = 1;
  int64_t inner_stride[kMaxInputs] = {};  // per input: 1, or 0 when broadcast along the row
  void offsets(int64_t row, int64_t* off) const;

 private:
  size_t k_ = 0, nd_ = 0;
  int64_t dims_[kMaxDims] = {};                // merged outer dims (without the row dim)
  int64_t stride_[kMaxInputs][kMaxDims] = {};  // per input, per merged outer dim
};

// y[i] = f(a[.], b[.]) over the broadcast of A and B into Y's shape.
template <class TA, class TB, class TY, class F, class Split>
void broadcast_binary(const Tensor& A, const Tensor& B, Tensor& Y, F&& f, Split&& split_rows) {
  const TA* a = static_cast<const TA*>(A.raw());
  const TB* b = static_cast<const TB*>(B.raw());
  TY* y = static_cast<TY*>(Y.raw());
  const int64_t n = Y.numel();
  if (n == 0) return;
  if (A.numel() == n && B.numel() == n) {
    split_rows(n, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = f(a[i], b[i]);
    });
    return;
  }
  if (A.numel() == n && B.numel() == 1) {
    const TB bv = b[0];
    split_rows(n, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = f(a[i], bv);
    });
    return;
  }
  if (B.numel() == n && A.numel() == 1) {
    const TA av = a[0];
    split_rows(n, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = f(av, b[i]);
    });
    return;
  }
  const BroadcastWalk w(Y.shape(), {&A.shape(), &B.shape()});
  const int64_t inner = w.inner, sa = w.inner_stride[0], sb = w.inner_stride[1];
  split_rows(w.rows, inner, [&](int64_t s, int64_t e) {
    int64_t off[2];
    for (int64_t row = s; row < e; ++row) {
      w.offsets(row, off);
      TY* yr = y + row * inner;
      const TA* ar = a + off[0];
      const TB* br = b + off[1];
      if (sa && sb)
        for (int64_t i = 0; i < inner; ++i) yr[i] = f(ar[i], br[i]);
      else if (sa)
        for (int64_t i = 0; i < inner; ++i) yr[i] = f(ar[i], br[0]);
      else if (sb)
        for (int64_t i = 0; i < inner; ++i) yr[i] = f(ar[0], br[i]);
      else
        for (int64_t i = 0; i < inner; ++i) yr[i] = f(ar[0], br[0]);
    }
  });
}

}  // namespace normrt
