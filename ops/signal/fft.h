// The discrete Fourier transform of one complex sequence, in double:
//   X[k] = Σ_j x[j] · e^(∓2πi·jk/n)   (− forward, + inverse; no 1/n scaling)
// Direct summation with an exact twiddle table for short lengths, iterative
// radix-2 for powers of two, and Bluestein's chirp-z (through a power-of-two
// convolution) for every other length.
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

namespace normrt {

using cdouble = std::complex<double>;

// A plan for one length: twiddles and scratch sized once, reused per line.
class Fft {
 public:
  explicit Fft(int64_t n);
  int64_t size() const { return n_; }
  // In place over data[0, n).
  void transform(cdouble* data, bool inverse);

 private:
  int64_t n_;
  std::vector<cdouble> twiddle_;    // e^(−2πi·k/n), k < n (direct) or the radix-2 table of size m
  int64_t m_ = 0;                   // Bluestein's power-of-two length (0 unless Bluestein)
  std::vector<cdouble> chirp_;      // e^(−πi·k²/n), k < n
  std::vector<cdouble> chirp_fft_;  // FFT of the conjugate chirp, padded and wrapped to m
  std::vector<cdouble> work_;
  std::vector<cdouble> radix2_twiddle_;  // e^(−2πi·k/m), k < m/2, for the length-m transforms
};

// The transform by the defining sum (the oracle for tests), in double.
std::vector<cdouble> dft_naive(const std::vector<cdouble>& x, bool inverse);

}  // namespace normrt
