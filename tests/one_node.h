// Helpers for tests that run one-node models through a Session and compare
// with values written out in the test (test_vision_ops.cpp, test_signal_ops.cpp).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

namespace normrt::test::one_node {

using test::random_tensor;

inline NamedTensors run(const ModelBuilder& m, const NamedTensors& in, const std::string& tag) {
  auto dir = test::temp_dir(tag);
  Session s(m.save(dir / "m.onnx"));
  return s.run(in);
}

template <class T>
void check_close(const Tensor& got, const std::vector<T>& want, double tol = 1e-5) {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  double err = 0, mag = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got.dtype() == DType::Float64 ? got.data<double>()[i] : got.data<float>()[i];
    err = std::max(err, std::fabs(g - static_cast<double>(want[i])));
    mag = std::max(mag, std::fabs(static_cast<double>(want[i])));
  }
  CHECK(err <= tol * std::max(1.0, mag));
}

inline Tensor tensor_f(const Shape& shape, const std::vector<float>& v) {
  Tensor t(DType::Float32, shape);
  REQUIRE(t.numel() == static_cast<int64_t>(v.size()));
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

inline Tensor tensor_i64(const Shape& shape, const std::vector<int64_t>& v) {
  Tensor t(DType::Int64, shape);
  REQUIRE(t.numel() == static_cast<int64_t>(v.size()));
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}

}  // namespace normrt::test::one_node
