#include "broadcast.h"

#include <cstring>

namespace normrt {

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  size_t r = std::max(a.size(), b.size());
  Shape s(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    s[i] = da == 1 ? db : da;
  }
  *out = std::move(s);
  return true;
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[off + i]) return false;
  return true;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  size_t off = out.size() - in.size();
  int64_t s = 1;
  for (size_t i = in.size(); i-- > 0;) {
    st[off + i] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  return st;
}

Tensor expand_to(const Tensor& t, const Shape& out) {
  Tensor r = Tensor::uninitialized(t.dtype(), out);
  expand_into(t, r);
  return r;
}

void expand_into(const Tensor& t, Tensor& r) {
  if (t.dtype() != r.dtype())
    throw Error(ErrorCode::InvalidArgument, "cannot broadcast " + shape_str(t.shape()) + " to " + shape_str(r.shape()));
  expand_into(t, r.shape(), r.raw());
}

void expand_into(const Tensor& t, const Shape& out, void* dst_raw) {
  if (!broadcasts_to(t.shape(), out))
    throw Error(ErrorCode::InvalidArgument, "cannot broadcast " + shape_str(t.shape()) + " to " + shape_str(out));
  const size_t es = dtype_size(t.dtype());
  int64_t n = 1;
  for (int64_t d : out) n *= d;
  if (n == 0) return;
  const BroadcastWalk w(out, {&t.shape()});
  const char* src = static_cast<const char*>(t.raw());
  char* dst = static_cast<char*>(dst_raw);
  const int64_t inner = w.inner;
  int64_t off;
  for (int64_t row = 0; row < w.rows; ++row) {
    w.offsets(row, &off);
    char* d = dst + static_cast<size_t>(row * inner) * es;
    if (w.inner_stride[0])
      std::memcpy(d, src + static_cast<size_t>(off) * es, static_cast<size_t>(inner) * es);
    else
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(d + static_cast<size_t>(i) * es, src + static_cast<size_t>(off) * es, es);
  }
}

BroadcastWalk::BroadcastWalk(const Shape& out, std::initializer_list<const Shape*> inputs) {
  const size_t r = out.size();
  k_ = inputs.size();
  if (k_ > kMaxInputs) throw Error(ErrorCode::Internal, "BroadcastWalk: too many inputs");
  const Shape* in[kMaxInputs];
  size_t j = 0;
  for (const Shape* s : inputs) in[j++] = s;
  // in[j]'s dim d of the output's index space (1 where it has no such dim).
  const auto dim = [&](size_t jj, size_t d) {
    const Shape& s = *in[jj];
    return d < r - s.size() ? int64_t{1} : s[d - (r - s.size())];
  };
  // Merge dims: drop size-1 output dims; join d into the previous merged dim
  // when every input is whole on both or broadcast on both.
  int64_t mdims[64];
  bool whole[kMaxInputs][64];
  size_t m = 0;
  for (size_t d = 0; d < r; ++d) {
    if (out[d] == 1) continue;
    bool merge = m > 0;
    for (size_t jj = 0; jj < k_ && merge; ++jj) merge = whole[jj][m - 1] == (dim(jj, d) != 1);
    if (merge) {
      mdims[m - 1] *= out[d];
      continue;
    }
    if (m == 64 || m > kMaxDims) throw Error(ErrorCode::UnsupportedOp, "broadcast over more than 16 distinct dims");
    mdims[m] = out[d];
    for (size_t jj = 0; jj < k_; ++jj) whole[jj][m] = dim(jj, d) != 1;
    ++m;
  }
  if (m == 0) {
    mdims[0] = 1;
    for (size_t jj = 0; jj < k_; ++jj) whole[jj][0] = true;
    m = 1;
  }
  inner = mdims[m - 1];
  nd_ = m - 1;
  for (size_t jj = 0; jj < k_; ++jj) {
    inner_stride[jj] = whole[jj][m - 1] ? 1 : 0;
    int64_t s = whole[jj][m - 1] ? inner : 1;
    for (size_t d = nd_; d-- > 0;) {
      stride_[jj][d] = whole[jj][d] ? s : 0;
      if (whole[jj][d]) s *= mdims[d];
    }
  }
  rows = 1;
  for (size_t d = 0; d < nd_; ++d) {
    dims_[d] = mdims[d];
    rows *= mdims[d];
  }
}

void BroadcastWalk::offsets(int64_t row, int64_t* off) const {
  for (size_t j = 0; j < k_; ++j) off[j] = 0;
  for (size_t d = nd_; d-- > 0;) {
    const int64_t idx = row % dims_[d];
    row /= dims_[d];
    for (size_t j = 0; j < k_; ++j) off[j] += idx * stride_[j][d];
  }
}

}  // namespace normrt
