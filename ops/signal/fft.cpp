// Fft: direct summation (n ≤ 32: an exact table of e^(−2πi·k/n), index j·k mod n),
// radix-2 decimation in time for powers of two (bit reversal, then log2 n
// passes of butterflies over the array), and Bluestein otherwise:
//   X[k] = c[k]·Σ_j (x[j]·c[j])·conj(c[k − j]),  c[k] = e^(−πi·k²/n)
// a linear convolution done by three power-of-two transforms of length m ≥ 2n − 1.
#include "fft.h"

#include <cmath>

namespace normrt {

namespace {

constexpr int64_t kDirectMax = 32;

bool is_power_of_two(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// e^(sign·2πi·num/den) with num reduced mod den first (exact at the quarter turns).
cdouble unit_root(int64_t num, int64_t den, double sign) {
  num %= den;
  const double a = 2.0 * M_PI * static_cast<double>(num) / static_cast<double>(den);
  return {std::cos(a), sign * std::sin(a)};
}

// In-place radix-2 transform of length m (a power of two); tw[k] = e^(−2πi·k/m).
void radix2(cdouble* a, int64_t m, const std::vector<cdouble>& tw, bool inverse) {
  for (int64_t i = 1, j = 0; i < m; ++i) {
    int64_t bit = m >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (int64_t len = 2; len <= m; len <<= 1) {
    const int64_t half = len / 2, stride = m / len;
    for (int64_t s = 0; s < m; s += len)
      for (int64_t k = 0; k < half; ++k) {
        const cdouble w =
            inverse ? std::conj(tw[static_cast<size_t>(k * stride)]) : tw[static_cast<size_t>(k * stride)];
        const cdouble u = a[s + k], v = a[s + k + half] * w;
        a[s + k] = u + v;
        a[s + k + half] = u - v;
      }
  }
}

}  // namespace

Fft::Fft(int64_t n) : n_(n) {
  if (n <= kDirectMax) {
    for (int64_t k = 0; k < n; ++k) twiddle_.push_back(unit_root(k, n, -1.0));
    work_.resize(static_cast<size_t>(n));
    return;
  }
  if (is_power_of_two(n)) {
    for (int64_t k = 0; k < n / 2; ++k) radix2_twiddle_.push_back(unit_root(k, n, -1.0));
    return;
  }
  m_ = 1;
  while (m_ < 2 * n - 1) m_ <<= 1;
  for (int64_t k = 0; k < m_ / 2; ++k) radix2_twiddle_.push_back(unit_root(k, m_, -1.0));
  // c[k] = e^(−πi·k²/n) = e^(−2πi·(k² mod 2n)/(2n))
  for (int64_t k = 0; k < n; ++k) chirp_.push_back(unit_root((k * k) % (2 * n), 2 * n, -1.0));
  chirp_fft_.assign(static_cast<size_t>(m_), cdouble(0));
  chirp_fft_[0] = std::conj(chirp_[0]);
  for (int64_t k = 1; k < n; ++k)
    chirp_fft_[static_cast<size_t>(k)] = chirp_fft_[static_cast<size_t>(m_ - k)] =
        std::conj(chirp_[static_cast<size_t>(k)]);
  radix2(chirp_fft_.data(), m_, radix2_twiddle_, false);
  work_.resize(static_cast<size_t>(m_));
}

void Fft::transform(cdouble* data, bool inverse) {
  const int64_t n = n_;
  if (n <= kDirectMax) {
    for (int64_t k = 0; k < n; ++k) {
      cdouble s = 0;
      for (int64_t j = 0; j < n; ++j) {
        const cdouble w = twiddle_[static_cast<size_t>((j * k) % n)];
        s += data[j] * (inverse ? std::conj(w) : w);
      }
      work_[static_cast<size_t>(k)] = s;
    }
    std::copy(work_.begin(), work_.begin() + n, data);
    return;
  }
  if (m_ == 0) {
    radix2(data, n, radix2_twiddle_, inverse);
    return;
  }
  // Bluestein; the inverse is the forward transform of the conjugate, conjugated.
  std::fill(work_.begin(), work_.end(), cdouble(0));
  for (int64_t j = 0; j < n; ++j) {
    const cdouble x = inverse ? std::conj(data[j]) : data[j];
    work_[static_cast<size_t>(j)] = x * chirp_[static_cast<size_t>(j)];
  }
  radix2(work_.data(), m_, radix2_twiddle_, false);
  for (int64_t k = 0; k < m_; ++k) work_[static_cast<size_t>(k)] *= chirp_fft_[static_cast<size_t>(k)];
  radix2(work_.data(), m_, radix2_twiddle_, true);
  const double inv_m = 1.0 / static_cast<double>(m_);
  for (int64_t k = 0; k < n; ++k) {
    const cdouble v = work_[static_cast<size_t>(k)] * inv_m * chirp_[static_cast<size_t>(k)];
    data[k] = inverse ? std::conj(v) : v;
  }
}

std::vector<cdouble> dft_naive(const std::vector<cdouble>& x, bool inverse) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<cdouble> y(x.size());
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < n; ++j)
      y[static_cast<size_t>(k)] += x[static_cast<size_t>(j)] * unit_root(j * k % n, n, inverse ? 1.0 : -1.0);
  return y;
}

}  // namespace normrt
