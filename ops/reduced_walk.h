// The walk shared by the reductions and MeanVarianceNormalization: x in
// order, each element with the offset of its group — its index with the
// reduced dims dropped (an odometer: no division per element).
#pragma once
#include <cstdint>
#include <vector>

#include "normrt/tensor.h"

namespace normrt {

// f(k, g) for every element k of x (shape `in`), g = the offset of its group
// (its output element).
template <class F>
void for_each_reduced(const Shape& in, const std::vector<char>& reduced, F&& f) {
  const size_t r = in.size();
  std::vector<int64_t> ost(r, 0);
  int64_t s = 1;
  for (size_t d = r; d-- > 0;) {
    if (!reduced[d]) {
      ost[d] = s;
      s *= in[d];
    }
  }
  int64_t n = 1;
  for (int64_t d : in) n *= d;
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (int64_t k = 0; k < n; ++k) {
    f(k, off);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < in[d]) {
        off += ost[d];
        break;
      }
      off -= ost[d] * (in[d] - 1);
      idx[d] = 0;
    }
  }
}

}  // namespace normrt
