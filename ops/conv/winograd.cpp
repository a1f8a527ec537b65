// winograd: Conv 2-D, 3×3, stride 1, undilated, one group, constant W, as
// Winograd F(4×4, 3×3) (winograd_kernels.h has Bᵀ, Aᵀ):
//   U[ξ][m, c] = (G·w[m, c]·Gᵀ)[ξ]             once at planning, packed as GEMM A panels
//   V[ξ][c, t] = (Bᵀ·d(c, t)·B)[ξ]              d: the 6×6 input patch of output tile t
//   P[ξ][m, t] = Σ_c U[ξ][m, c]·V[ξ][c, t]      36 GEMMs, V read in place as B
//   y(m, t)   = clamp(Aᵀ·P[·][m, t]·A + b[m] (+ Z))    the 4×4 outputs of tile t
// 16 outputs take 36 products instead of 144. The output's 4×4 tiles (over
// images, tile rows, tile columns; partial tiles at the right and bottom
// edges computed whole and cut) are cut into blocks of T tiles, T a multiple
// of the GEMM's NR chosen so V and P of a block stay near L2. Per block and
// channel, the input rows of the block's tile rows are split once into 4
// column phases inside zero padding (so tile j's patch is element j of
// contiguous runs), then V; the 36 GEMMs; per output channel and tile row, Y
// into 16 phase runs, interleaved into y's rows with Z and the clamp.
// Passes per block: x's rows read once (twice at a block's shared tile row),
// V written once and read by the GEMMs, P written by them and read once, y
// written once. Blocks split over threads; with fewer blocks than threads the
// output channels split too, each part transforming the block's input itself.
#include <algorithm>

#include "../parallel.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

namespace {

constexpr int64_t kXi = 36;  // products per tile (6×6)

// U[ξ][m][c] = (G·w[m, c]·Gᵀ)[i][k], ξ = 6·i + k, in double: G's row j is
// (1, p_j, p_j²) / Π_{l≠j} (p_j − p_l) for the finite points p (winograd_kernels.h), (0, 0, 1) for ∞.
std::vector<float> transform_weights(const float* w, int64_t M, int64_t C) {
  static const double pts[5] = {0, 1, -1, 0.5, -2};
  double G[6][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 1}};
  for (int j = 0; j < 5; ++j) {
    double f = 1;
    for (int l = 0; l < 5; ++l)
      if (l != j) f *= pts[j] - pts[l];
    G[j][0] = 1 / f, G[j][1] = pts[j] / f, G[j][2] = pts[j] * pts[j] / f;
  }
  std::vector<float> u(static_cast<size_t>(kXi * M * C));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c) {
      const float* g = w + (m * C + c) * 9;
      double t[6][3];  // G·g
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 3; ++j) t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
      for (int i = 0; i < 6; ++i)
        for (int k = 0; k < 6; ++k)
          u[static_cast<size_t>(((i * 6 + k) * M + m) * C + c)] =
              static_cast<float>(t[i][0] * G[k][0] + t[i][1] * G[k][1] + t[i][2] * G[k][2]);
    }
  return u;
}

// Columns cv … cv + 3 of the input row xr (W floats), zero outside it: a load,
// shifted in its register at the row's ends (no copy through memory, whose
// stores the loads would wait for).
inline __m128 load4(const float* xr, int64_t W, int64_t cv) {
  if (cv >= 0 && cv + 4 <= W) return _mm_loadu_ps(xr + cv);
  if (cv + 4 <= 0 || cv >= W) return _mm_setzero_ps();
  if (W >= 4) {
    if (cv < 0) {  // (0…, x0, …): x0 … x3 moved up −cv lanes
      const __m128i v = _mm_castps_si128(_mm_loadu_ps(xr));
      return _mm_castsi128_ps(cv == -1   ? _mm_slli_si128(v, 4)
                              : cv == -2 ? _mm_slli_si128(v, 8)
                                         : _mm_slli_si128(v, 12));
    }
    // (…, x[W − 1], 0…): x[W − 4] … x[W − 1] moved down cv + 4 − W lanes
    const __m128i v = _mm_castps_si128(_mm_loadu_ps(xr + W - 4));
    const int64_t shift = cv + 4 - W;
    return _mm_castsi128_ps(shift == 1   ? _mm_srli_si128(v, 4)
                            : shift == 2 ? _mm_srli_si128(v, 8)
                                         : _mm_srli_si128(v, 12));
  }
  const auto at = [&](int64_t i) { return i >= 0 && i < W ? xr[i] : 0.f; };
  return _mm_setr_ps(at(cv), at(cv + 1), at(cv + 2), at(cv + 3));
}

// Padded columns 16·g … 16·g + 15 of input row xr (x's column = padded − pl) as
// 4 phases: dst[q·ps + u] = column 16·g + 4·u + q (a 4×4 transpose).
inline void split16(const float* xr, int64_t W, int64_t c0, int64_t ps, float* dst) {
  __m128 a0 = load4(xr, W, c0), a1 = load4(xr, W, c0 + 4), a2 = load4(xr, W, c0 + 8), a3 = load4(xr, W, c0 + 12);
  _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
  _mm_storeu_ps(dst, a0);
  _mm_storeu_ps(dst + ps, a1);
  _mm_storeu_ps(dst + 2 * ps, a2);
  _mm_storeu_ps(dst + 3 * ps, a3);
}

// What a run needs, fixed at planning.
struct WinogradPlan {
  int64_t N, C, M, H, W, Ho, Wo, pt, pl;  // pt, pl: padding above and left
  int64_t ntr, ntc, per_image;            // tile rows and columns, tiles per image
  int64_t split;                          // phase elements filled per row: ntc + 1 rounded up to 4
  int64_t ps, os;  // phase run lengths (multiples of 4): input (> ntc + slack), output (≥ ntc + slack)
  int64_t upanel;  // floats of one packed U[ξ]
  float lo, hi;
  bool residual;
};

// Floats from one of V's or P's 36 matrices (rows of ld floats) to the next:
// an odd number of cache lines past the rows, so the 36 stores of a tile's
// transform do not all fall into one L1 set (rows·ld is often a multiple of 4 KiB).
inline int64_t xi_stride(int64_t rows, int64_t ld) { return (rows * ld + 15) / 32 * 32 + 16; }

// A run of tiles inside one tile row: image n, tile row tr, columns [tc, tc + len).
struct TileRun {
  int64_t n, tr, tc, len;
};
template <class F>
void for_each_run(const WinogradPlan& p, int64_t t0, int64_t t1, F&& f) {
  for (int64_t t = t0; t < t1;) {
    const int64_t n = t / p.per_image, r = t % p.per_image, tr = r / p.ntc, tc = r % p.ntc;
    const int64_t len = std::min(p.ntc - tc, t1 - t);
    f(TileRun{n, tr, tc, len}, t - t0);
    t += len;
  }
}

// The input rows of tile rows [tr0, tr1] of plane x (4·(tr1 − tr0) + 6 rows
// from padded row 4·tr0), zero-padded, split into column phases:
// rows[(r·4 + q)·ps + j] = padded row 4·tr0 + r, column 4·j + q, for the
// j < split the tiles use (the kernels' slack reads past them: unused sums).
// Tile row tr's 6 rows start at row 4·(tr − tr0): each input row is split once.
void fill_rows(const WinogradPlan& p, const float* x, int64_t tr0, int64_t tr1, float* rows) {
  for (int64_t r = 0; r < 4 * (tr1 - tr0) + 6; ++r) {
    float* dst = rows + r * 4 * p.ps;
    const int64_t ir = tr0 * 4 - p.pt + r;
    if (ir < 0 || ir >= p.H) {
      for (int q = 0; q < 4; ++q) zero_few(dst + q * p.ps, p.split);
      continue;
    }
    for (int64_t j = 0; j < p.split; j += 4) split16(x + ir * p.W, p.W, 4 * j - p.pl, p.ps, dst + j);
  }
}

// Output row i of a run's tiles (phases o[(i·4 + k)·os + j]) into y's row yr
// from column 4·tc: yr = clamp(· (+ zr)), columns past Wo dropped.
void store_row(const WinogradPlan& p, const float* o, int64_t i, const TileRun& run, float* yr, const float* zr) {
  const __m128 vlo = _mm_set1_ps(p.lo), vhi = _mm_set1_ps(p.hi);
  const float* o0 = o + i * 4 * p.os;
  for (int64_t j = 0; j < run.len; j += 4) {  // 4 tiles: 16 columns (o's slack past the run)
    __m128 a[4] = {_mm_loadu_ps(o0 + j), _mm_loadu_ps(o0 + p.os + j), _mm_loadu_ps(o0 + 2 * p.os + j),
                   _mm_loadu_ps(o0 + 3 * p.os + j)};
    _MM_TRANSPOSE4_PS(a[0], a[1], a[2], a[3]);
    const int64_t col = 4 * (run.tc + j), cols = std::min({int64_t{16}, 4 * (run.len - j), p.Wo - col});
    if (cols == 16) {
      for (int u = 0; u < 4; ++u) {
        __m128 v = zr ? _mm_add_ps(a[u], _mm_loadu_ps(zr + col + 4 * u)) : a[u];
        _mm_storeu_ps(yr + col + 4 * u, _mm_min_ps(vhi, _mm_max_ps(vlo, v)));  // max/min keep a NaN
      }
      continue;
    }
    alignas(16) float part[16];
    for (int u = 0; u < 4; ++u) _mm_store_ps(part + 4 * u, a[u]);
    for (int64_t k = 0; k < cols; ++k) {
      float v = part[k] + (zr ? zr[col + k] : 0.f);
      v = v < p.lo ? p.lo : v;
      yr[col + k] = v > p.hi ? p.hi : v;
    }
  }
}

// One block of tiles [t0, t1) (T columns in V and P, rows T + kWinogradSlack
// apart), output channels [m0, m1) (m0 a multiple of the tile's MR): V (unless
// v already holds this block's), the GEMMs, y.
void run_block(const WinogradPlan& p, const linalg::GemmKernels& gk, const WinogradKernels& wk, const float* u,
               const KernelIO& io, int64_t t0, int64_t t1, int64_t T, int64_t m0, int64_t m1, bool fill_v,
               const int64_t* offs, float* v, float* prod, float* rows, float* o) {
  const float* x = io.in[0]->data<float>();
  const float* b = conv_bias(io);
  const float* z = p.residual ? io.in[3]->data<float>() : nullptr;
  float* y = io.out[0]->data<float>();
  const int64_t cnt = t1 - t0, ld = T + kWinogradSlack, vs = xi_stride(p.C, ld), ms = xi_stride(p.M, ld);
  for (int64_t c = 0; c < p.C && fill_v; ++c) {
    int64_t image = -1, tr0 = 0;  // the image and first tile row whose input rows are in `rows`
    for_each_run(p, t0, t1, [&](const TileRun& run, int64_t col) {
      if (run.n != image) {  // the block's tile rows of this image: [run.tr, the last one]
        image = run.n, tr0 = run.tr;
        const int64_t last = std::min(t1, (image + 1) * p.per_image) - 1 - image * p.per_image;
        fill_rows(p, x + (image * p.C + c) * p.H * p.W, tr0, last / p.ntc, rows);
      }
      wk.input(rows + 16 * (run.tr - tr0) * p.ps + run.tc, p.ps, run.len, v + c * ld + col, vs);
    });
  }
  const int64_t mr = gk.mr, nr = gk.nr, mpanels = (p.M + mr - 1) / mr, panels = (cnt + nr - 1) / nr;
  for (int64_t xi = 0; xi < kXi; ++xi)
    for (int64_t pc = 0; pc < p.C; pc += linalg::kGemmKC) {
      const int64_t kc = std::min(linalg::kGemmKC, p.C - pc);
      const float* ap = u + xi * p.upanel + pc * mpanels * mr + m0 / mr * kc * mr;
      for (int64_t jp = 0; jp < panels; ++jp)
        gk.micro_indirect(kc, ap, v + xi * vs + jp * nr, offs + pc, prod + xi * ms + m0 * ld + jp * nr, ld,
                          static_cast<int>(m1 - m0), static_cast<int>(std::min(nr, cnt - jp * nr)), pc > 0, nullptr);
    }
  for (int64_t m = m0; m < m1; ++m)
    for_each_run(p, t0, t1, [&](const TileRun& run, int64_t col) {
      wk.output(prod + m * ld + col, ms, run.len, b ? b[m] : 0.f, o, p.os);
      const int64_t plane = (run.n * p.M + m) * p.Ho * p.Wo;
      for (int64_t i = 0; i < 4 && run.tr * 4 + i < p.Ho; ++i) {
        const int64_t at = plane + (run.tr * 4 + i) * p.Wo;
        store_row(p, o, i, run, y + at, z ? z + at : nullptr);
      }
    });
}

}  // namespace

bool winograd_window(const Window& w) {
  if (w.in[0] != 1 || w.k[0] != 1 || w.pb[0] != 0 || w.pe[0] != 0) return false;
  for (int a = 1; a < 3; ++a)
    if (w.k[a] != 3 || w.s[a] != 1 || w.d[a] != 1 || w.pb[a] > 1 || w.pe[a] > 1 || w.out[a] < 1 ||
        w.in[a] > (int64_t{1} << 20))
      return false;
  return true;
}

void plan_conv_winograd(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                        const ConvChoice& choice) {
  const linalg::GemmKernels& gk = *choice.gemm;
  const WinogradKernels& wk = *c.kernels->winograd;
  WinogradPlan p{};
  p.N = cs.N, p.C = cs.C, p.M = cs.M, p.H = w.in[1], p.W = w.in[2], p.Ho = w.out[1], p.Wo = w.out[2];
  p.pt = w.pb[1], p.pl = w.pb[2];
  p.ntr = (p.Ho + 3) / 4, p.ntc = (p.Wo + 3) / 4, p.per_image = p.ntr * p.ntc;
  p.split = round_up(p.ntc + 1, 4);
  p.ps = round_up(p.ntc + 1 + kWinogradSlack, 4), p.os = round_up(p.ntc + kWinogradSlack, 4);
  p.upanel = static_cast<int64_t>(linalg::packed_a_size(gk, p.M, p.C));
  p.lo = out.lo, p.hi = out.hi, p.residual = out.residual;
  // U, one packed A per ξ.
  auto u = std::make_shared<std::vector<float>>(static_cast<size_t>(kXi * p.upanel));
  {
    const std::vector<float> plain = transform_weights(constant_weights(c), p.M, p.C);
    for (int64_t xi = 0; xi < kXi; ++xi)
      linalg::pack_a_to(gk, false, p.M, p.C, plain.data() + xi * p.M * p.C, p.C, u->data() + xi * p.upanel);
  }
  const int64_t tiles = checked_mul(c, p.N, p.per_image, "Winograd tiles"), nr = gk.nr;
  // T: V and P of a block in about 1 MiB, at least one panel, no more than the tiles need.
  const int64_t fit = std::max<int64_t>(1, (int64_t{1} << 20) / (kXi * (p.C + p.M) * 4 * nr));
  const int64_t max_t = std::min(fit, (tiles + nr - 1) / nr) * nr;
  c.kernel = [=, &gk, &wk](KernelIO& io) {
    // With fewer blocks than threads, smaller blocks (still whole panels).
    const int64_t threads = intra_op_threads();
    int64_t T = max_t;
    if ((tiles + T - 1) / T < threads) T = std::max(nr, round_up((tiles + threads - 1) / threads, nr));
    const int64_t blocks = (tiles + T - 1) / T;
    // Still fewer: the output channels split too (each part transforms the block's input itself).
    const int64_t mpanels = (p.M + gk.mr - 1) / gk.mr;
    const int64_t mparts = std::min(mpanels, std::max<int64_t>(1, threads / blocks));
    Scratch<int64_t> offs(static_cast<size_t>(p.C));
    for (int64_t ch = 0; ch < p.C; ++ch) offs[static_cast<size_t>(ch)] = ch * (T + kWinogradSlack);
    parallel_rows(blocks * mparts, kXi * p.C * p.M / mparts * T / 8, [&](int64_t first, int64_t last) {
      const int64_t ld = T + kWinogradSlack;  // V's and P's rows: T tiles and the kernels' slack
      Scratch<float> v(static_cast<size_t>(kXi * xi_stride(p.C, ld))),
          prod(static_cast<size_t>(kXi * xi_stride(p.M, ld)));
      // A block's tiles span at most T / ntc + 2 tile rows of an image.
      Scratch<float> rows(static_cast<size_t>((4 * (T / p.ntc + 2) + 6) * 4 * p.ps)), o(static_cast<size_t>(16 * p.os));
      for (int64_t task = first; task < last; ++task) {
        const int64_t blk = task / mparts, part = task % mparts;
        const int64_t m0 = part_start(mpanels, part, mparts) * gk.mr;
        const int64_t m1 = std::min(p.M, part_start(mpanels, part + 1, mparts) * gk.mr);
        run_block(p, gk, wk, u->data(), io, blk * T, std::min(tiles, (blk + 1) * T), T, m0, m1,
                  task == first || part == 0, offs.data(), v.data(), prod.data(), rows.data(), o.data());
      }
    });
  };
}

}  // namespace normrt::conv
