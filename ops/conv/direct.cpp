// direct-rows: Conv on few input channels (the 3-channel stems of image
// networks, 1-channel spectrograms), where a GEMM's K = C·taps is short and
// its panels, stride-phase copies and compaction cost more than the products:
//   y[n, m, o1, o2] = clamp(b[m] + Σ_{c, k1, k2} w[m, c, k1, k2] · xp[c, o1·s1 + k1·d1, o2·s2 + k2·d2] (+ Z))
// with xp the zero-padded input. Output rows are computed in bands: a band's
// input rows (all channels) are copied once into zero padding with their
// columns split into s2 stride phases (padded column q at phase q mod s2,
// index q / s2), so every tap of an output row reads one contiguous run; the
// ISA's rows kernel then holds co_tile output channels × a run of a row's
// vectors in registers over all taps (direct_kernels.h). Passes: x copied once
// (into a cache-sized band), read once per co_tile output channels from cache,
// y written once (Z read once). Bands split over threads.
#include <algorithm>

#include "../kernel_set.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

namespace {

constexpr int64_t kBandRows = 8;  // output rows per band

struct DirectGeometry {
  int64_t phase_len = 0, row_len = 0;  // a padded input row: s2 phases of phase_len floats
  int64_t band_in = 0;                 // input rows a band of kBandRows output rows reads
  int64_t chan = 0;                    // floats per channel in a band
  int64_t buffer = 0;                  // floats of a band, read slack included
  std::vector<int64_t> offs;           // per tap (c, k1, k2): from an output row's start in the band
};

DirectGeometry make_direct_geometry(const Window& w, int64_t C) {
  DirectGeometry g;
  const int64_t s1 = w.s[1], s2 = w.s[2];
  g.phase_len = (w.in[2] + w.pb[2] + w.pe[2] + s2 - 1) / s2;
  g.row_len = s2 * g.phase_len;
  g.band_in = (kBandRows - 1) * s1 + (w.k[1] - 1) * w.d[1] + 1;
  g.chan = g.band_in * g.row_len;
  g.buffer = C * g.chan + kDirectReadSlack;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
      for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
        const int64_t col = k2 * w.d[2];
        g.offs.push_back(c * g.chan + k1 * w.d[1] * g.row_len + (col % s2) * g.phase_len + col / s2);
      }
  return g;
}

// Padded input rows [p0, p0 + g.band_in) of one image's C channels into the band
// (column phases side by side; rows outside x and the padding columns zero).
void copy_band(const DirectConvKernels& kern, const Window& w, const DirectGeometry& g, int64_t C, const float* x,
               int64_t p0, float* band) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t r = 0; r < g.band_in; ++r) {
      float* d = band + c * g.chan + r * g.row_len;
      const int64_t i1 = p0 + r - w.pb[1];
      if (i1 < 0 || i1 >= w.in[1])
        std::fill(d, d + g.row_len, 0.f);
      else
        kern.split_row(x + (c * w.in[1] + i1) * w.in[2], w.in[2], w.pb[2], w.s[2], g.phase_len, d);
    }
}

}  // namespace

bool direct_rows_applies(const Window& w, const ConvShape& cs, bool const_w) {
  return const_w && cs.G == 1 && cs.C <= 4 && w.in[0] == 1 && w.k[0] == 1 && w.pb[0] == 0 && w.pe[0] == 0 &&
         w.k_size() > 1 && cs.C * w.k_size() <= 256 && w.in[2] + w.pb[2] + w.pe[2] <= (int64_t{1} << 16) &&
         w.out[2] >= 8;
}

void plan_conv_direct_rows(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out, const ConvChoice&) {
  const DirectConvKernels& kern = *c.kernels->direct;
  const int64_t co_tile = kern.co_tile, M = cs.M, C = cs.C, osz = w.out_size();
  const int taps = static_cast<int>(C * w.k_size());
  auto geo = std::make_shared<const DirectGeometry>(make_direct_geometry(w, C));
  // W as co_tile-channel blocks of [taps][co_tile] (zero past M), packed once.
  const int64_t blocks = (M + co_tile - 1) / co_tile;
  auto wp = std::make_shared<std::vector<float>>(static_cast<size_t>(blocks * taps * co_tile), 0.f);
  const float* wsrc = constant_weights(c);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t t = 0; t < taps; ++t) (*wp)[(m / co_tile * taps + t) * co_tile + m % co_tile] = wsrc[m * taps + t];
  const int64_t bands = (w.out[1] + kBandRows - 1) / kBandRows;
  c.kernel = [=, &kern](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    const DirectGeometry& g = *geo;
    parallel_rows(cs.N * bands, kBandRows * w.out[2] * M * taps, [&](int64_t first, int64_t last) {
      Scratch<float> band(static_cast<size_t>(g.buffer)), bias(static_cast<size_t>(blocks * co_tile));
      std::fill(bias.data(), bias.data() + blocks * co_tile, 0.f);  // B per block, zero past M
      if (b) std::copy(b, b + M, bias.data());
      std::fill(band.data() + g.buffer - kDirectReadSlack, band.data() + g.buffer, 0.f);
      for (int64_t item = first; item < last; ++item) {
        const int64_t n = item / bands, o1 = item % bands * kBandRows, rows = std::min(kBandRows, w.out[1] - o1);
        copy_band(kern, w, g, C, x + n * C * w.in_size(), o1 * w.s[1], band.data());
        // Row by row, every output channel block: the taps' input rows stay in L1.
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t blk = 0; blk < blocks; ++blk) {
            const int64_t m0 = blk * co_tile, co = std::min(co_tile, M - m0);
            const int64_t at = (o1 + r) * w.out[2];
            const float* z = out.z(io, n, m0, M, osz);
            kern.rows(1, w.out[2], band.data() + r * w.s[1] * g.row_len, 0, taps, g.offs.data(),
                      wp->data() + blk * taps * co_tile, bias.data() + blk * co_tile, static_cast<int>(co), out.lo,
                      out.hi, z ? z + at : nullptr, y + (n * M + m0) * osz + at, osz);
          }
      }
    });
  };
}

}  // namespace normrt::conv
