// BatchNormalization (versions 7, 9, 14, 15) on X = N×C×D1…Dn.
// Inference: y = (x - mean[c]) / sqrt(var[c] + eps) · scale[c] + B[c], folded
// once (at session creation when the parameters are constants) into
// y = x·a[c] + b[c] with a = scale/sqrt(var + eps), b = B - mean·a — one pass.
// Training (training_mode=1): batch statistics per channel over N and D…
// (fp64, centred, two passes), running_mean = mean_in·momentum + mean·(1-momentum),
// likewise running_var; y uses the batch statistics.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "fp16.h"
#include "kernel_set.h"
#include "normalization.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

void channel_affine_fast(const float* x, float* y, int64_t planes, int64_t channels, int64_t plane, const float* a,
                         const float* b, const NormKernels& k) {
  parallel_rows(planes, plane, [&](int64_t begin, int64_t end) {
    k.scale_shift_planes(x + begin * plane, y + begin * plane, static_cast<size_t>(end - begin),
                         static_cast<size_t>(plane), a, b, static_cast<size_t>(begin), static_cast<size_t>(channels));
  });
}

namespace {

// Reference inference: the ONNX formula per element in fp64.
template <class T>
void batch_norm_reference(const T* x, T* y, int64_t planes, int64_t channels, int64_t plane, const T* scale,
                          const T* bias, const T* mean, const T* var, double eps) {
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t c = p % channels;
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
    for (int64_t i = 0; i < plane; ++i) {
      const double v = (static_cast<double>(x[p * plane + i]) - static_cast<double>(mean[c])) * inv;
      y[p * plane + i] = static_cast<T>(v * static_cast<double>(scale[c]) + static_cast<double>(bias[c]));
    }
  }
}

struct Folded {
  std::vector<float> a, b;
};

Folded fold(const Tensor& scale_in, const Tensor& bias_in, const Tensor& mean_in, const Tensor& var_in, double eps) {
  const Tensor scale = to_float32(scale_in), bias = to_float32(bias_in), mean = to_float32(mean_in),
               var = to_float32(var_in);
  const int64_t C = scale.numel();
  Folded f;
  f.a.resize(static_cast<size_t>(C));
  f.b.resize(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const double a = scale.data<float>()[c] / std::sqrt(static_cast<double>(var.data<float>()[c]) + eps);
    f.a[static_cast<size_t>(c)] = static_cast<float>(a);
    f.b[static_cast<size_t>(c)] = static_cast<float>(bias.data<float>()[c] - mean.data<float>()[c] * a);
  }
  return f;
}

template <class T>
void batch_norm_training(KernelIO& io, int64_t N, int64_t C, int64_t plane, double eps, double momentum) {
  const T* x = io.in[0]->data<T>();
  const T* scale = io.in[1]->data<T>();
  const T* bias = io.in[2]->data<T>();
  const T* in_mean = io.in[3]->data<T>();
  const T* in_var = io.in[4]->data<T>();
  T* y = io.out[0]->data<T>();
  parallel_rows(C, N * plane * 3, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      double sum = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < plane; ++i) sum += static_cast<double>(x[(n * C + c) * plane + i]);
      const double count = static_cast<double>(N * plane);
      const double mean = count > 0 ? sum / count : 0.0;
      double sq = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < plane; ++i) {
          const double d = static_cast<double>(x[(n * C + c) * plane + i]) - mean;
          sq += d * d;
        }
      const double var = count > 0 ? sq / count : 0.0;
      const double a = static_cast<double>(scale[c]) / std::sqrt(var + eps);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < plane; ++i) {
          const int64_t k = (n * C + c) * plane + i;
          y[k] = static_cast<T>((static_cast<double>(x[k]) - mean) * a + static_cast<double>(bias[c]));
        }
      if (io.out.size() > 1 && io.out[1])
        io.out[1]->data<T>()[c] = static_cast<T>(static_cast<double>(in_mean[c]) * momentum + mean * (1 - momentum));
      if (io.out.size() > 2 && io.out[2])
        io.out[2]->data<T>()[c] = static_cast<T>(static_cast<double>(in_var[c]) * momentum + var * (1 - momentum));
    }
  });
}

void plan_batch_norm(PlanCtx& c) {
  c.require_inputs(5, 5);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Float16});
  const ValueDesc& X = c.input(0);
  const DType T = X.dtype;
  if (X.shape.size() < 2) c.fail("X must have rank >= 2 (N×C×…), got " + shape_str(X.shape));
  const int64_t N = X.shape[0], C = X.shape[1];
  int64_t plane = 1;
  for (size_t d = 2; d < X.shape.size(); ++d) plane *= X.shape[d];
  static const char* names[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i < 5; ++i) {
    const bool ok =
        T == DType::Float64 ? c.in[i].dtype == T : (c.in[i].dtype == DType::Float32 || c.in[i].dtype == DType::Float16);
    if (!ok)
      c.unsupported(std::string(names[i]) + " has dtype " + dtype_name(c.in[i].dtype) + " with X " + dtype_name(T));
    if (c.in[i].shape != Shape{C})
      c.fail(std::string(names[i]) + " must have shape [" + std::to_string(C) + "], got " + shape_str(c.in[i].shape));
  }
  if (c.version == 7 && c.node.attr_int("spatial", 1) == 0) c.unsupported("spatial=0 is not supported");
  const double eps = c.node.attr_float("epsilon", 1e-5f);
  const double momentum = c.node.attr_float("momentum", 0.9f);
  const bool training = c.version >= 14 && c.node.attr_int("training_mode", 0) != 0;
  size_t outputs = 0;
  for (size_t i = 0; i < c.out.size(); ++i) outputs += c.has_output(i);
  if (!training && outputs > 1) c.unsupported("outputs beyond Y need training_mode=1 (BatchNormalization-14 or later)");
  if (training && c.out.size() > 3) c.fail("has more than 3 outputs");
  c.set_output(0, T, X.shape);
  if (c.has_output(1)) c.set_output(1, c.in[3].dtype, {C});
  if (c.has_output(2)) c.set_output(2, c.in[4].dtype, {C});

  if (training) {
    c.kernel = [=](KernelIO& io) {
      if (T == DType::Float64) return batch_norm_training<double>(io, N, C, plane, eps, momentum);
      // float32, or float16 computed in float32: run on float32 copies, store back.
      std::vector<Tensor> in32, out32;
      KernelIO io32;
      for (const Tensor* t : io.in) in32.push_back(to_float32(*t));
      for (Tensor* t : io.out) out32.push_back(t ? float32_target(*t) : Tensor());
      for (auto& t : in32) io32.in.push_back(&t);
      for (size_t i = 0; i < out32.size(); ++i) io32.out.push_back(io.out[i] ? &out32[i] : nullptr);
      batch_norm_training<float>(io32, N, C, plane, eps, momentum);
      for (size_t i = 0; i < out32.size(); ++i)
        if (io.out[i]) store_from_float32(out32[i], *io.out[i]);
    };
    return;
  }
  const bool c_clamp = c.node.domain == "ai.normrt";
  const double c_lo = c.node.attr_float("clip_min", -std::numeric_limits<float>::infinity());
  const double c_hi = c.node.attr_float("clip_max", std::numeric_limits<float>::infinity());
  if (T == DType::Float64) {
    c.kernel = [=](KernelIO& io) {
      batch_norm_reference(io.in[0]->data<double>(), io.out[0]->data<double>(), N * C, C, plane,
                           io.in[1]->data<double>(), io.in[2]->data<double>(), io.in[3]->data<double>(),
                           io.in[4]->data<double>(), eps);
      if (c_clamp) {
        double* y = io.out[0]->data<double>();
        for (int64_t i = 0; i < io.out[0]->numel(); ++i) y[i] = std::min(std::max(y[i], c_lo), c_hi);
      }
    };
    return;
  }
  std::shared_ptr<Folded> folded;
  if (c.in[1].value && c.in[2].value && c.in[3].value && c.in[4].value)
    folded = std::make_shared<Folded>(fold(*c.in[1].value, *c.in[2].value, *c.in[3].value, *c.in[4].value, eps));
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  // ai.normrt BatchNormalization (made by the optimizer from BN → Relu | Clip
  // when BN cannot fold into a producer): y = clamp(a·x + b, lo, hi), clamped
  // plane by plane right after the affine pass, while the plane is in cache.
  const bool clamp = c.node.domain == "ai.normrt";
  const float lo = c.node.attr_float("clip_min", -std::numeric_limits<float>::infinity());
  const float hi = c.node.attr_float("clip_max", std::numeric_limits<float>::infinity());
  c.kernel = [=](KernelIO& io) {
    std::shared_ptr<Folded> f = folded;
    if (!f) f = std::make_shared<Folded>(fold(*io.in[1], *io.in[2], *io.in[3], *io.in[4], eps));
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    if (!clamp) {
      channel_affine_fast(x.data<float>(), y.data<float>(), N * C, C, plane, f->a.data(), f->b.data(), kern);
    } else {
      const float* xp = x.data<float>();
      float* yp = y.data<float>();
      parallel_rows(N * C, plane, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          kern.scale_shift_planes(xp + p * plane, yp + p * plane, 1, static_cast<size_t>(plane), f->a.data(),
                                  f->b.data(), static_cast<size_t>(p), static_cast<size_t>(C));
          float* yr = yp + p * plane;
          for (int64_t i = 0; i < plane; ++i) yr[i] = std::min(std::max(yr[i], lo), hi);
        }
      });
    }
    store_from_float32(y, *io.out[0]);
  };
}

}  // namespace

void register_batch_norm(OpRegistry& r) {
  r.add("", "BatchNormalization", {7, 9, 14, 15}, plan_batch_norm);
  r.add("ai.normrt", "BatchNormalization", {1}, plan_batch_norm);  // inference BN + Relu/Clip (clip_min, clip_max)
}

}  // namespace normrt
