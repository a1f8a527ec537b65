// Data movement, for every dtype (elements moved as bytes of their size):
//   Transpose (perm), Gather, GatherElements, GatherND, Split, Expand, Tile,
//   Trilu, OneHot, Range.
// Each is one pass writing the output in order; the source offset of each
// contiguous run is computed once per run (Transpose: by an odometer, and in
// 4×4 blocks when the output's last dim is strided in x). Large outputs split
// over rows.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#include "broadcast.h"
#include "dispatch.h"
#include "op.h"
#include "parallel.h"
#include "scratch.h"
#include "sse2_blocks.h"

namespace normrt {

namespace {

int64_t prod(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t d = from; d < to; ++d) p *= s[d];
  return p;
}

// Reads index element i of an int32/int64 tensor.
int64_t index_at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::Int64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
}

// An index into a dim of size n, negatives counting from the end; throws if out of range.
int64_t checked_index(int64_t v, int64_t n, const char* op) {
  if (v < -n || v >= n)
    throw Error(ErrorCode::InvalidArgument, std::string(op) + ": index " + std::to_string(v) +
                                                " is out of range for a dimension of size " + std::to_string(n));
  return v < 0 ? v + n : v;
}

// ---- Transpose: y[i0..ir] = x[i_perm] ------------------------------------------
// At planning, dims of size 1 are dropped and output dims that are adjacent in
// x too are merged ([1, S, H, D] → [H, S, D] for perm 0 2 1 3). Then either the
// last output dim is contiguous in x, and each output row is one copy, or it is
// not, and y is a batch of 2-D transposes (the output dim that is contiguous
// in x against the last one), done in 4×4 blocks: one pass over x and y.

struct TransposePlan {
  std::vector<int64_t> out, st, yst;  // the merged output dims, each one's stride in x and in y
  int64_t q = -1;                     // the output dim contiguous in x when it is not the last, else −1
};

TransposePlan plan_transpose_dims(const Shape& in, const std::vector<int64_t>& perm) {
  const size_t r = in.size();
  std::vector<int64_t> in_stride(r);
  for (size_t d = r, s = 1; d-- > 0;) {
    in_stride[d] = static_cast<int64_t>(s);
    s *= static_cast<size_t>(in[d]);
  }
  TransposePlan tp;
  int64_t prev = -2;  // the input dim of the last kept output dim
  for (size_t d = 0; d < r; ++d) {
    const int64_t p = perm[d];
    if (in[static_cast<size_t>(p)] == 1) continue;
    if (p == prev + 1 && !tp.out.empty()) {  // x's dims prev, p are adjacent: one dim
      tp.out.back() *= in[static_cast<size_t>(p)];
      tp.st.back() = in_stride[static_cast<size_t>(p)];
    } else {
      tp.out.push_back(in[static_cast<size_t>(p)]);
      tp.st.push_back(in_stride[static_cast<size_t>(p)]);
    }
    prev = p;
  }
  if (tp.out.empty()) tp.out = {1}, tp.st = {1};
  for (size_t d = 0; d + 1 < tp.out.size(); ++d)
    if (tp.st[d] == 1) tp.q = static_cast<int64_t>(d);
  tp.yst.resize(tp.out.size());
  for (size_t d = tp.out.size(), s = 1; d-- > 0;) {
    tp.yst[d] = static_cast<int64_t>(s);
    s *= static_cast<size_t>(tp.out[d]);
  }
  return tp;
}

// dst[j·ldd + i] = src[i·lds + j] for i < rows, j < cols (bit-exact for any element type).
template <class E>
void transpose_2d(const E* src, int64_t rows, int64_t cols, int64_t lds, E* dst, int64_t ldd) {
  int64_t j = 0;
#ifdef __SSE2__
  if constexpr (sizeof(E) == 4) {  // 4×4 blocks through shuffles (pure data movement)
    float* d = reinterpret_cast<float*>(dst);
    j = for_each_transposed_4x4(
        reinterpret_cast<const float*>(src), rows, cols, lds,
        [&](int64_t i, int64_t jt, __m128 t0, __m128 t1, __m128 t2, __m128 t3) {
          float* o = d + jt * ldd + i;
          _mm_storeu_ps(o, t0);
          _mm_storeu_ps(o + ldd, t1);
          _mm_storeu_ps(o + 2 * ldd, t2);
          _mm_storeu_ps(o + 3 * ldd, t3);
        },
        [&](int64_t i, int64_t jj) { dst[jj * ldd + i] = src[i * lds + jj]; });
  }
#endif
  for (; j < cols; ++j)
    for (int64_t i = 0; i < rows; ++i) dst[j * ldd + i] = src[i * lds + j];
}

template <class E>
void transpose_kernel(const Tensor& X, Tensor& Y, const TransposePlan& tp) {
  const E* x = static_cast<const E*>(X.raw());
  E* y = static_cast<E*>(Y.raw());
  const size_t r = tp.out.size();
  const int64_t inner = tp.out[r - 1], is = tp.st[r - 1];
  const int64_t* yst = tp.yst.data();
  // f(x offset, y offset) for blocks [first, last) in order: the output dims
  // before the last, except `skip`, counted by an odometer (no division per block).
  const auto for_blocks = [&](int64_t first, int64_t last, size_t skip, auto&& f) {
    Scratch<int64_t> idx(r);  // no heap allocation in a steady-state run
    int64_t rem = first, xo = 0, yo = 0;
    for (size_t d = r - 1; d-- > 0;) {
      if (d == skip) continue;
      idx[d] = rem % tp.out[d];
      rem /= tp.out[d];
      xo += idx[d] * tp.st[d];
      yo += idx[d] * yst[d];
    }
    for (int64_t b = first; b < last; ++b) {
      f(xo, yo);
      for (size_t d = r - 1; d-- > 0;) {
        if (d == skip) continue;
        xo += tp.st[d], yo += yst[d];
        if (++idx[d] < tp.out[d]) break;
        xo -= idx[d] * tp.st[d], yo -= idx[d] * yst[d];
        idx[d] = 0;
      }
    }
  };
  if (tp.q < 0) {  // rows of `inner` elements, each contiguous in x
    const int64_t rows = Y.numel() / std::max<int64_t>(inner, 1);
    parallel_rows(rows, inner, [&](int64_t first, int64_t last) {
      for_blocks(first, last, r,
                 [&](int64_t xo, int64_t yo) { std::memcpy(y + yo, x + xo, static_cast<size_t>(inner) * sizeof(E)); });
    });
    return;
  }
  // Blocks of out[q] × inner elements: y's dim q (contiguous in x) against its last dim (is apart in x).
  const size_t q = static_cast<size_t>(tp.q);
  const int64_t cols = tp.out[q], blocks = Y.numel() / std::max<int64_t>(inner * cols, 1);
  parallel_rows(blocks, inner * cols, [&](int64_t first, int64_t last) {
    for_blocks(first, last, q, [&](int64_t xo, int64_t yo) { transpose_2d(x + xo, inner, cols, is, y + yo, yst[q]); });
  });
}

void plan_transpose(PlanCtx& c) {
  c.require_inputs(1, 1);
  const Shape& in = c.input(0).shape;
  const size_t r = in.size();
  std::vector<int64_t> perm = c.node.attr_ints("perm");
  if (perm.empty()) {
    perm.resize(r);
    for (size_t d = 0; d < r; ++d) perm[d] = static_cast<int64_t>(r - 1 - d);
  }
  if (perm.size() != r) c.fail("perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(r));
  std::vector<char> seen(r, 0);
  Shape out(r);
  for (size_t d = 0; d < r; ++d) {
    int64_t p = perm[d] < 0 ? perm[d] + static_cast<int64_t>(r) : perm[d];
    if (p < 0 || p >= static_cast<int64_t>(r) || seen[static_cast<size_t>(p)]) c.fail("perm is not a permutation");
    seen[static_cast<size_t>(p)] = 1;
    perm[d] = p;
    out[d] = in[static_cast<size_t>(p)];
  }
  c.set_output(0, c.input(0).dtype, out);
  const TransposePlan tp = plan_transpose_dims(in, perm);
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [tp, es](KernelIO& io) {
    if (io.out[0]->numel() == 0) return;
    by_element_size(es, [&](auto tag) { transpose_kernel<decltype(tag)>(*io.in[0], *io.out[0], tp); });
  };
}

// ---- Gather: y[outer, idx..., inner] = x[outer, indices[idx...], inner] -----

void plan_gather(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(1, {DType::Int64, DType::Int32});
  const Shape& data = c.input(0).shape;
  const Shape& ind = c.input(1).shape;
  const int64_t r = static_cast<int64_t>(data.size());
  if (r == 0) c.fail("data must have rank >= 1");
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", 0), r));
  Shape out(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), ind.begin(), ind.end());
  out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.end());
  c.set_output(0, c.input(0).dtype, out);
  const int64_t outer = prod(data, 0, axis), n = data[axis], inner = prod(data, axis + 1, data.size());
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [=](KernelIO& io) {
    const Tensor& I = *io.in[1];
    const int64_t k = I.numel();
    Scratch<int64_t> idx(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) idx[static_cast<size_t>(i)] = checked_index(index_at(I, i), n, "Gather");
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    const size_t block = static_cast<size_t>(inner) * es;
    parallel_rows(outer * k, inner, [&](int64_t first, int64_t last) {
      for (int64_t row = first; row < last; ++row) {
        const int64_t o = row / std::max<int64_t>(k, 1), j = row % std::max<int64_t>(k, 1);
        std::memcpy(y + static_cast<size_t>(row) * block,
                    x + (static_cast<size_t>(o * n + idx[static_cast<size_t>(j)])) * block, block);
      }
    });
  };
}

// ---- GatherElements: y[i] = x[i with i[axis] := indices[i]] ------------------

void plan_gather_elements(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(1, {DType::Int64, DType::Int32});
  const Shape& data = c.input(0).shape;
  const Shape& ind = c.input(1).shape;
  const int64_t r = static_cast<int64_t>(data.size());
  if (static_cast<int64_t>(ind.size()) != r) c.fail("indices must have the rank of data");
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", 0), r));
  for (size_t d = 0; d < data.size(); ++d)  // off the axis, indices' positions are read from data as they are
    if (d != axis && ind[d] > data[d])
      c.fail("indices " + shape_str(ind) + " exceed data " + shape_str(data) + " in dim " + std::to_string(d));
  c.set_output(0, c.input(0).dtype, ind);
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [=](KernelIO& io) {
    const Tensor& I = *io.in[1];
    std::vector<int64_t> dstride(data.size());
    int64_t s = 1;
    for (size_t d = data.size(); d-- > 0;) {
      dstride[d] = s;
      s *= data[d];
    }
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    const int64_t n = I.numel();
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (size_t d = ind.size(); d-- > 0;) {
        const int64_t id = rem % ind[d];
        rem /= ind[d];
        off += (d == axis ? checked_index(index_at(I, i), data[axis], "GatherElements") : id) * dstride[d];
      }
      std::memcpy(y + static_cast<size_t>(i) * es, x + static_cast<size_t>(off) * es, es);
    }
  };
}

// ---- GatherND: y[b, i...] = x[b, indices[b, i..., :] ...] --------------------

void plan_gather_nd(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(1, {DType::Int64});
  const Shape& data = c.input(0).shape;
  const Shape& ind = c.input(1).shape;
  const int64_t b = c.node.attr_int("batch_dims", 0);
  if (ind.empty() || data.empty()) c.fail("data and indices must have rank >= 1");
  const int64_t q = static_cast<int64_t>(ind.size()), r = static_cast<int64_t>(data.size());
  const int64_t last = ind.back();
  if (b < 0 || b >= std::min(q, r) || last < 1 || last > r - b) c.fail("batch_dims or indices' last dim is invalid");
  for (int64_t d = 0; d < b; ++d)
    if (ind[static_cast<size_t>(d)] != data[static_cast<size_t>(d)]) c.fail("batch dims of data and indices differ");
  Shape out(ind.begin(), ind.end() - 1);
  out.insert(out.end(), data.begin() + b + last, data.end());
  c.set_output(0, c.input(0).dtype, out);
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [=](KernelIO& io) {
    const int64_t* I = io.in[1]->data<int64_t>();
    const int64_t batches = prod(data, 0, static_cast<size_t>(b));
    const int64_t per_batch = prod(ind, static_cast<size_t>(b), ind.size() - 1);
    const int64_t slice = prod(data, static_cast<size_t>(b + last), data.size());
    const int64_t batch_size = prod(data, static_cast<size_t>(b), data.size());
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    for (int64_t bi = 0; bi < batches; ++bi)
      for (int64_t j = 0; j < per_batch; ++j) {
        const int64_t* v = I + (bi * per_batch + j) * last;
        int64_t off = 0;
        for (int64_t k = 0; k < last; ++k) {
          const int64_t dim = data[static_cast<size_t>(b + k)];
          off = off * dim + checked_index(v[k], dim, "GatherND");
        }
        std::memcpy(y + static_cast<size_t>((bi * per_batch + j) * slice) * es,
                    x + static_cast<size_t>(bi * batch_size + off * slice) * es, static_cast<size_t>(slice) * es);
      }
  };
}

// ---- Split -------------------------------------------------------------------

void plan_split(PlanCtx& c) {
  c.require_inputs(1, 2);
  const Shape& in = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(in.size());
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", 0), r));
  const int64_t outputs = static_cast<int64_t>(c.out.size());
  std::vector<int64_t> split;
  if (c.version >= 13 && c.has_input(1))
    split = int_values(c, 1, "split");
  else if (c.version < 13)
    split = c.node.attr_ints("split");
  if (split.empty()) {
    int64_t parts = outputs;
    if (c.version >= 18 && c.node.has_attr("num_outputs")) parts = c.node.attr_int("num_outputs", outputs);
    if (parts != outputs || parts < 1) c.fail("num_outputs does not match the node's outputs");
    const int64_t chunk = in[axis] / parts + (in[axis] % parts != 0);  // ⌈dim / parts⌉ without overflow
    if (c.version < 18 && in[axis] % parts != 0)
      c.fail("dimension " + std::to_string(in[axis]) + " does not split evenly into " + std::to_string(parts));
    for (int64_t i = 0, left = in[axis]; i < parts; ++i) {  // i · chunk may pass 2^63 for empty tail parts
      split.push_back(std::min(chunk, left));
      left -= split.back();
    }
  }
  if (static_cast<int64_t>(split.size()) != outputs) c.fail("split has a different length than the node's outputs");
  int64_t total = 0;
  for (int64_t v : split) {
    if (v < 0 || v > in[axis]) c.fail("split sizes must be in [0, " + std::to_string(in[axis]) + "]");
    total = checked_add(c, total, v, "the sum of split sizes");
  }
  if (total != in[axis]) c.fail("split sizes sum to " + std::to_string(total) + ", not " + std::to_string(in[axis]));
  for (size_t i = 0; i < split.size(); ++i) {
    Shape s = in;
    s[axis] = split[i];
    if (c.has_output(i)) c.set_output(i, c.input(0).dtype, s);
  }
  const int64_t outer = prod(in, 0, axis), inner = prod(in, axis + 1, in.size());
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [=](KernelIO& io) {
    const char* x = static_cast<const char*>(io.in[0]->raw());
    const size_t in_row = static_cast<size_t>(in[axis] * inner) * es;
    size_t col = 0;
    for (size_t i = 0; i < split.size(); ++i) {
      const size_t row = static_cast<size_t>(split[i] * inner) * es;
      if (i < io.out.size() && io.out[i]) {
        char* y = static_cast<char*>(io.out[i]->raw());
        for (int64_t o = 0; o < outer; ++o)
          std::memcpy(y + static_cast<size_t>(o) * row, x + static_cast<size_t>(o) * in_row + col, row);
      }
      col += row;
    }
  };
}

// ---- Expand, Tile --------------------------------------------------------------

void plan_expand(PlanCtx& c) {
  c.require_inputs(2, 2);
  const std::vector<int64_t> shape = int_values(c, 1, "shape");
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, shape, &out))
    c.fail("shape " + shape_str(shape) + " does not broadcast with input " + shape_str(c.input(0).shape));
  c.set_output(0, c.input(0).dtype, out);
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [es](KernelIO& io) {
    Tensor& Y = *io.out[0];
    if (Y.numel() == 0) return;
    const Tensor& X = *io.in[0];
    const BroadcastWalk w(Y.shape(), {&X.shape()});
    by_element_size(es, [&](auto tag) {
      using E = decltype(tag);
      const E* x = static_cast<const E*>(X.raw());
      E* y = static_cast<E*>(Y.raw());
      const int64_t inner = w.inner, is = w.inner_stride[0];
      parallel_rows(w.rows, inner, [&](int64_t first, int64_t last) {
        int64_t off;
        for (int64_t row = first; row < last; ++row) {
          w.offsets(row, &off);
          E* yr = y + row * inner;
          if (is)
            std::memcpy(yr, x + off, static_cast<size_t>(inner) * sizeof(E));
          else
            std::fill(yr, yr + inner, x[off]);
        }
      });
    });
  };
}

void plan_tile(PlanCtx& c) {
  c.require_inputs(2, 2);
  const Shape& in = c.input(0).shape;
  const std::vector<int64_t> rep = int_values(c, 1, "repeats");
  if (rep.size() != in.size()) c.fail("repeats must have one entry per input dim");
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (rep[d] < 0) c.fail("repeats must be >= 0");
    out[d] = checked_mul(c, in[d], rep[d], "the tiled shape");
  }
  c.set_output(0, c.input(0).dtype, out);
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [=](KernelIO& io) {
    const int64_t n = io.out[0]->numel();
    if (n == 0) return;
    const size_t r = in.size();
    std::vector<int64_t> st(r);
    int64_t s = 1;
    for (size_t d = r; d-- > 0;) {
      st[d] = s;
      s *= in[d];
    }
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (size_t d = r; d-- > 0;) {
        off += (rem % out[d]) % in[d] * st[d];
        rem /= out[d];
      }
      std::memcpy(y + static_cast<size_t>(i) * es, x + static_cast<size_t>(off) * es, es);
    }
  };
}

// ---- Trilu: keep j − i ≥ k (upper) or j − i ≤ k (lower) in the last two dims --

void plan_trilu(PlanCtx& c) {
  c.require_inputs(1, 2);
  const Shape& s = c.input(0).shape;
  if (s.size() < 2) c.fail("input must have rank >= 2");
  if (c.has_input(1)) {
    c.require_dtype(1, {DType::Int64});
    if (shape_numel(c.input(1).shape) != 1) c.fail("k must be a scalar");
  }
  const bool upper = c.node.attr_int("upper", 1) != 0;
  c.set_output(0, c.input(0).dtype, s);
  const int64_t M = s[s.size() - 2], N = s[s.size() - 1];
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [=](KernelIO& io) {
    const int64_t k = io.in.size() > 1 && io.in[1] ? io.in[1]->data<int64_t>()[0] : 0;
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    const int64_t rows = io.out[0]->numel() / std::max<int64_t>(N, 1);
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t i = row % std::max<int64_t>(M, 1);
      for (int64_t j = 0; j < N; ++j) {
        const bool keep = upper ? j - i >= k : j - i <= k;
        const size_t off = static_cast<size_t>(row * N + j) * es;
        if (keep)
          std::memcpy(y + off, x + off, es);
        else
          std::memset(y + off, 0, es);
      }
    }
  };
}

// ---- OneHot: y[..., j, ...] = j == index ? on : off (index < 0 counts from depth)

void plan_one_hot(PlanCtx& c) {
  c.require_inputs(3, 3);
  const Tensor& depth_t = c.constant_input(1);
  if (depth_t.numel() != 1) c.fail("depth must be a scalar");
  int64_t depth = 0;
  visit_numeric(depth_t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, half_t>)
      c.fail("depth must not be float16");
    else {
      const double v = static_cast<double>(depth_t.data<T>()[0]);
      if (!(v >= 0 && v < 1e12)) c.fail("depth must be in [0, 1e12)");
      depth = static_cast<int64_t>(v);
    }
  });
  if (depth < 0) c.fail("depth must be >= 0");
  if (shape_numel(c.input(2).shape) != 2) c.fail("values must hold [off, on]");
  const Shape& ind = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(ind.size()) + 1;
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", -1), r));
  Shape out = ind;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(axis), depth);
  c.set_output(0, c.input(2).dtype, out);
  const DType it = c.input(0).dtype;
  const size_t es = dtype_size(c.input(2).dtype);
  const int64_t outer = prod(ind, 0, axis), inner = prod(ind, axis, ind.size());
  c.kernel = [=](KernelIO& io) {
    const char* vals = static_cast<const char*>(io.in[2]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < depth; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          double v = 0;
          visit_numeric(it, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!std::is_same_v<T, half_t>) v = static_cast<double>(io.in[0]->data<T>()[o * inner + i]);
          });
          int64_t idx =
              std::isfinite(v) && std::fabs(v) < 9e18 ? static_cast<int64_t>(v) : depth;  // out of range: all off
          if (idx < 0) idx += depth;
          std::memcpy(y + static_cast<size_t>((o * depth + j) * inner + i) * es, vals + (idx == j ? es : 0), es);
        }
  };
}

// ---- Range: start, start + delta, ... while < limit (> limit for delta < 0) ------

void plan_range(PlanCtx& c) {
  c.require_inputs(3, 3);
  const DType t = c.input(0).dtype;
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int16, DType::Int32, DType::Int64});
  double v[3];
  for (size_t i = 0; i < 3; ++i) {
    const Tensor& x = c.constant_input(i);
    if (x.numel() != 1 || x.dtype() != t) c.fail("start, limit and delta must be scalars of one dtype");
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, half_t>) v[i] = static_cast<double>(x.data<T>()[0]);
    });
  }
  if (v[2] == 0) c.fail("delta must not be 0");
  const double count = std::ceil((v[1] - v[0]) / v[2]);
  if (!(count < 1e15)) c.fail("range is too long");               // NaN and +inf too
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;  // −1e300 or −inf: empty, never cast
  c.set_output(0, t, {n});
  c.kernel = [t, n](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, half_t> && !std::is_same_v<T, bool>) {
        const T start = io.in[0]->data<T>()[0], delta = io.in[2]->data<T>()[0];
        T* y = io.out[0]->data<T>();
        T val = start;
        for (int64_t i = 0; i < n; ++i) {
          y[i] = val;
          if constexpr (std::is_integral_v<T>)  // wraps instead of signed-overflow UB
            val =
                static_cast<T>(static_cast<std::make_unsigned_t<T>>(val) + static_cast<std::make_unsigned_t<T>>(delta));
          else
            val = static_cast<T>(val + delta);
        }
      }
    });
  };
}

}  // namespace

void register_data_movement_ops(OpRegistry& r) {
  r.add("", "Transpose", {1, 13, 21, 23}, plan_transpose);
  r.add("", "Gather", {1, 11, 13}, plan_gather);
  r.add("", "GatherElements", {11, 13}, plan_gather_elements);
  r.add("", "GatherND", {11, 12, 13}, plan_gather_nd);
  r.add("", "Split", {2, 11, 13, 18}, plan_split);
  r.add("", "Expand", {8, 13}, plan_expand);
  r.add("", "Tile", {6, 13}, plan_tile);
  r.add("", "Trilu", {14}, plan_trilu);
  r.add("", "OneHot", {9, 11}, plan_one_hot);
  r.add("", "Range", {11}, plan_range);
}

}  // namespace normrt
