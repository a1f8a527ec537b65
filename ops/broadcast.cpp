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
  if (!broadcasts_to(t.shape(), out))
    throw Error(ErrorCode::InvalidArgument, "cannot broadcast " + shape_str(t.shape()) + " to " + shape_str(out));
  Tensor r = Tensor::uninitialized(t.dtype(), out);
  const size_t es = dtype_size(t.dtype());
  const int64_t n = r.numel();
  if (n == 0) return r;
  auto st = broadcast_strides(t.shape(), out);
  const char* src = static_cast<const char*>(t.raw());
  char* dst = static_cast<char*>(r.raw());
  std::vector<int64_t> idx(out.size(), 0);
  int64_t off = 0;
  for (int64_t k = 0; k < n; ++k) {
    std::memcpy(dst + static_cast<size_t>(k) * es, src + static_cast<size_t>(off) * es, es);
    for (size_t d = out.size(); d-- > 0;) {
      if (++idx[d] < out[d]) {
        off += st[d];
        break;
      }
      off -= st[d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
  return r;
}

BroadcastWalk::BroadcastWalk(const Shape& out, const std::vector<const Shape*>& inputs) {
  const size_t r = out.size(), k = inputs.size();
  // Each input's dims padded to the output rank.
  std::vector<Shape> in(k, Shape(r, 1));
  for (size_t j = 0; j < k; ++j) {
    const Shape& s = *inputs[j];
    for (size_t i = 0; i < s.size(); ++i) in[j][r - s.size() + i] = s[i];
  }
  // Merge dims: drop size-1 output dims; join d into the previous merged dim
  // when every input is whole on both or broadcast on both.
  Shape mdims;
  std::vector<std::vector<char>> mwhole(k);  // per input, per merged dim: whole (1) or broadcast (0)
  for (size_t d = 0; d < r; ++d) {
    if (out[d] == 1) continue;
    bool can_merge = !mdims.empty();
    for (size_t j = 0; j < k && can_merge; ++j) can_merge = mwhole[j].back() == (in[j][d] != 1);
    if (can_merge) {
      mdims.back() *= out[d];
    } else {
      mdims.push_back(out[d]);
      for (size_t j = 0; j < k; ++j) mwhole[j].push_back(in[j][d] != 1);
    }
  }
  if (mdims.empty()) {
    mdims.push_back(1);
    for (size_t j = 0; j < k; ++j) mwhole[j].push_back(1);
  }
  inner = mdims.back();
  inner_stride.resize(k);
  for (size_t j = 0; j < k; ++j) inner_stride[j] = mwhole[j].back() ? 1 : 0;
  dims_.assign(mdims.begin(), mdims.end() - 1);
  stride_.assign(k, std::vector<int64_t>(dims_.size(), 0));
  for (size_t j = 0; j < k; ++j) {
    int64_t s = mwhole[j].back() ? inner : 1;
    for (size_t d = dims_.size(); d-- > 0;) {
      stride_[j][d] = mwhole[j][d] ? s : 0;
      if (mwhole[j][d]) s *= dims_[d];
    }
  }
  rows = 1;
  for (int64_t d : dims_) rows *= d;
}

void BroadcastWalk::offsets(int64_t row, int64_t* off) const {
  const size_t k = stride_.size();
  for (size_t j = 0; j < k; ++j) off[j] = 0;
  for (size_t d = dims_.size(); d-- > 0;) {
    const int64_t idx = row % dims_[d];
    row /= dims_[d];
    for (size_t j = 0; j < k; ++j) off[j] += idx * stride_[j][d];
  }
}

}  // namespace normrt
