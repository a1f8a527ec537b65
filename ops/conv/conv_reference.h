// Conv as the formula, a plain loop: every fast path (conv_path.h) is held to
// it by the tests.
//   y[n, m, o] = b[m] + Σ_{c < C/G, t} w[m, c, t] · x[n, g·C/G + c, o·s − pb + t·d]
// with g = m / (M/G) and the positions outside x skipped (zero padding); one
// pass over the taps per output, nothing precomputed.
#pragma once
#include "conv_common.h"

namespace normrt::conv {

// x [N, C, in], w [M, C/G, k], b [M] (or nullptr), y [N, M, out]; T = float or double.
template <class T>
void conv_reference(const T* x, const T* w, const T* b, const Window& win, const ConvShape& cs, T* y);

}  // namespace normrt::conv
