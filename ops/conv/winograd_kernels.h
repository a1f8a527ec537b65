// The Winograd F(4×4, 3×3) transforms of Conv's winograd path (winograd.cpp),
// one table per ISA (winograd_kernels_impl.hpp built in one translation unit
// per ISA), handed to Conv through the session's KernelSet (ops/kernel_set.h).
// Both run across tiles: lane j is tile j of a run of tiles in one tile row,
// so every load and store is contiguous. With the points 0, 1, −1, 1/2, −2, ∞
// (in fp32 about a third of the error of Lavin's 0, ±1, ±2):
//   V = Bᵀ·d·B (d: a 6×6 input patch), Y = Aᵀ·m·A (m: 6×6 products → 4×4 outputs)
//   Bᵀ = [1 −1.5 −2 1.5 1 0; 0 −1 0.5 2.5 1 0; 0 1 −2.5 0.5 1 0;
//         0 −2 −1 2 1 0; 0 0.5 −1 −0.5 1 0; 0 1 −1.5 −2 1.5 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 0.5 −2 0; 0 1 1 0.25 4 0; 0 1 −1 0.125 −8 1]
// The weights' G·g·Gᵀ is done once at planning (winograd.cpp).
#pragma once
#include <cstdint>

namespace normrt {

// Floats past a run's last tile that the kernels may read and write (whole vectors).
inline constexpr int64_t kWinogradSlack = 16;

struct WinogradKernels {
  const char* isa;
  // V for tiles j < n of one channel: the input rows r < 6 of the tile row,
  // split into column phases, element (r, q) of tile j at
  // p[(r·4 + q mod 4)·ps + j + q / 4] (so ps > n); V[ξ = 6·i + k] of tile j is
  // written to v[ξ·vs + j]. Tiles up to j < n + kWinogradSlack may be read and
  // written (so ps > n + kWinogradSlack).
  void (*input)(const float* p, int64_t ps, int64_t n, float* v, int64_t vs);
  // Y + bias for tiles j < n of one output channel: m[ξ·ms + j] holds product
  // ξ of tile j; output (i, k) of tile j (row i, column k) goes to o[(i·4 + k)·os + j].
  // Tiles up to j < n + kWinogradSlack may be read and written.
  void (*output)(const float* m, int64_t ms, int64_t n, float bias, float* o, int64_t os);
};

const WinogradKernels* winograd_kernels_sse2();
const WinogradKernels* winograd_kernels_avx2();
const WinogradKernels* winograd_kernels_avx512();
// The scalar table (isa "reference"): the same formulas one tile at a time.
const WinogradKernels* winograd_kernels_reference();

}  // namespace normrt
