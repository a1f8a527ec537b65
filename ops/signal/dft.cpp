// DFT (versions 17, 20) and STFT (17), in double (fft.h).
// DFT: input [batch, signal..., 1 | 2] (real, or real and imaginary parts).
// Along `axis` (an attribute in 17, default 1; an input in 20, default −2)
// each line is cut or zero-padded to n = dft_length (default: its length) and
//   X[k] = Σ_j x[j]·e^(−2πi·jk/n)      inverse: x[j] = (1/n)·Σ_k X[k]·e^(+2πi·jk/n)
// onesided keeps k ≤ n/2 (as ONNX's reference, also after an inverse).
// Output [..., n or n/2 + 1, ...][2]. One gather, transform and scatter per line.
// STFT: signal [batch, length, 1 | 2]; frames f < 1 + (length − frame_length)/frame_step
// of window-length samples from f·frame_step (zeros past the end), times the
// window (default ones), each a DFT of frame_length; onesided (default 1)
// keeps frame_length/2 + 1 bins. Output [batch, frames, bins, 2].
#include <algorithm>
#include <vector>

#include "../fp16.h"
#include "../op.h"
#include "../parallel.h"
#include "fft.h"

namespace normrt {

namespace {

// dft_length and frame lengths beyond this are refused (the transform's scratch is ~4 n).
constexpr int64_t kMaxFftLength = int64_t{1} << 20;

double read_value(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::Float32:
      return t.data<float>()[i];
    case DType::Float64:
      return t.data<double>()[i];
    default:
      return half_to_float(t.data<uint16_t>()[i]);
  }
}

void write_value(Tensor& t, int64_t i, double v) {
  switch (t.dtype()) {
    case DType::Float32:
      t.data<float>()[i] = static_cast<float>(v);
      break;
    case DType::Float64:
      t.data<double>()[i] = v;
      break;
    default:
      t.data<uint16_t>()[i] = float_to_half(static_cast<float>(v));
  }
}

// One integer from a scalar or one-element constant input.
int64_t scalar_input(const PlanCtx& c, size_t i, const char* what) {
  const std::vector<int64_t> v = int_values(c, i, what);
  if (v.size() != 1) c.fail(std::string(what) + " must hold one value");
  return v[0];
}

int64_t fft_length(const PlanCtx& c, int64_t n, const char* what) {
  if (n <= 0) c.fail(std::string(what) + " must be positive, got " + std::to_string(n));
  if (n > kMaxFftLength) c.fail(std::string(what) + " " + std::to_string(n) + " is beyond 2^20");
  return n;
}

struct DftParams {
  int64_t outer = 1, len = 0, inner = 1;  // input lines: [outer, len, inner] complex values
  int64_t n = 0, out_len = 0;             // transform length, kept bins
  int64_t in_parts = 1;                   // 1 real, 2 complex
  bool inverse = false;
};

void run_dft(const Tensor& x, Tensor& y, const DftParams& p) {
  parallel_rows(p.outer, work_mul(p.inner, p.n * 8), [&](int64_t first, int64_t last) {
    Fft fft(p.n);
    std::vector<cdouble> line(static_cast<size_t>(p.n));
    const int64_t kept = std::min(p.len, p.n);
    const double scale = p.inverse ? 1.0 / static_cast<double>(p.n) : 1.0;
    for (int64_t o = first; o < last; ++o)
      for (int64_t i = 0; i < p.inner; ++i) {
        std::fill(line.begin(), line.end(), cdouble(0));
        for (int64_t j = 0; j < kept; ++j) {
          const int64_t at = ((o * p.len + j) * p.inner + i) * p.in_parts;
          line[static_cast<size_t>(j)] = {read_value(x, at), p.in_parts == 2 ? read_value(x, at + 1) : 0.0};
        }
        fft.transform(line.data(), p.inverse);
        for (int64_t k = 0; k < p.out_len; ++k) {
          const int64_t at = ((o * p.out_len + k) * p.inner + i) * 2;
          write_value(y, at, line[static_cast<size_t>(k)].real() * scale);
          write_value(y, at + 1, line[static_cast<size_t>(k)].imag() * scale);
        }
      }
  });
}

void plan_dft(PlanCtx& c) {
  c.require_inputs(1, c.version >= 20 ? 3 : 2);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  const Shape& X = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(X.size());
  if (r < 2 || (X.back() != 1 && X.back() != 2)) c.fail("input must be [batch, signal..., 1 or 2]");
  // A negative axis counts from the back of the whole input (−2: the last signal axis).
  int64_t axis = c.version >= 20 ? (c.has_input(2) ? scalar_input(c, 2, "axis") : -2) : c.node.attr_int("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2) c.fail("axis is out of range for an input of rank " + std::to_string(r));
  DftParams p;
  p.in_parts = X.back();
  p.len = X[static_cast<size_t>(axis)];
  for (int64_t d = 0; d < axis; ++d) p.outer = checked_mul(c, p.outer, X[static_cast<size_t>(d)], "the DFT size");
  for (int64_t d = axis + 1; d < r - 1; ++d)
    p.inner = checked_mul(c, p.inner, X[static_cast<size_t>(d)], "the DFT size");
  const bool has_length = c.has_input(1);
  p.n = fft_length(c, has_length ? scalar_input(c, 1, "dft_length") : p.len, "dft_length");
  p.inverse = c.node.attr_int("inverse", 0) != 0;
  const bool onesided = c.node.attr_int("onesided", 0) != 0;
  p.out_len = onesided ? p.n / 2 + 1 : p.n;
  Shape out = X;
  out[static_cast<size_t>(axis)] = p.out_len;
  out.back() = 2;
  c.set_output(0, c.input(0).dtype, out);
  c.kernel = [p](KernelIO& io) { run_dft(*io.in[0], *io.out[0], p); };
}

struct StftParams {
  int64_t batch = 0, len = 0, parts = 1;
  int64_t step = 0, frames = 0, window_len = 0, n = 0, bins = 0;
  bool has_window = false;
};

void run_stft(const Tensor& x, const Tensor* window, Tensor& y, const StftParams& p) {
  parallel_rows(p.batch * p.frames, p.n * 8, [&](int64_t first, int64_t last) {
    Fft fft(p.n);
    std::vector<cdouble> line(static_cast<size_t>(p.n));
    const int64_t kept = std::min(p.window_len, p.n);
    for (int64_t row = first; row < last; ++row) {
      const int64_t b = row / p.frames, f = row % p.frames;
      std::fill(line.begin(), line.end(), cdouble(0));
      for (int64_t j = 0; j < kept; ++j) {
        const int64_t s = f * p.step + j;
        if (s >= p.len) break;
        const double w = p.has_window ? read_value(*window, j) : 1.0;
        const int64_t at = (b * p.len + s) * p.parts;
        line[static_cast<size_t>(j)] = {w * read_value(x, at), p.parts == 2 ? w * read_value(x, at + 1) : 0.0};
      }
      fft.transform(line.data(), false);
      for (int64_t k = 0; k < p.bins; ++k) {
        write_value(y, (row * p.bins + k) * 2, line[static_cast<size_t>(k)].real());
        write_value(y, (row * p.bins + k) * 2 + 1, line[static_cast<size_t>(k)].imag());
      }
    }
  });
}

void plan_stft(PlanCtx& c) {
  c.require_inputs(2, 4);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  const Shape& X = c.input(0).shape;
  if (X.size() != 3 || (X[2] != 1 && X[2] != 2)) c.fail("signal must be [batch, length, 1 or 2]");
  StftParams p;
  p.batch = X[0];
  p.len = X[1];
  p.parts = X[2];
  p.step = scalar_input(c, 1, "frame_step");
  if (p.step <= 0) c.fail("frame_step must be positive, got " + std::to_string(p.step));
  p.has_window = c.has_input(2);
  if (p.has_window) {
    if (c.input(2).dtype != c.input(0).dtype) c.fail("window must have the signal's dtype");
    if (c.input(2).shape.size() != 1) c.fail("window must be 1-D");
    p.window_len = c.input(2).shape[0];
  }
  int64_t frame_length = c.has_input(3) ? scalar_input(c, 3, "frame_length") : p.has_window ? p.window_len : p.len;
  p.n = fft_length(c, frame_length, "frame_length");
  if (!p.has_window) p.window_len = p.n;
  if (p.window_len <= 0) c.fail("the window must not be empty");
  if (p.len < p.n)
    c.fail("the signal (" + std::to_string(p.len) + " samples) is shorter than frame_length " + std::to_string(p.n));
  p.frames = 1 + (p.len - p.n) / p.step;
  const bool onesided = c.node.attr_int("onesided", 1) != 0;
  p.bins = onesided ? p.n / 2 + 1 : p.n;
  c.set_output(0, c.input(0).dtype, {p.batch, p.frames, p.bins, 2});
  c.kernel = [p](KernelIO& io) { run_stft(*io.in[0], p.has_window ? io.in[2] : nullptr, *io.out[0], p); };
}

}  // namespace

void register_dft_ops(OpRegistry& r) {
  r.add("", "DFT", {17, 20}, plan_dft);
  r.add("", "STFT", {17}, plan_stft);
}

}  // namespace normrt
