// Conv as the formula (conv_reference.h), a plain loop over outputs and taps.
#include "conv_reference.h"

namespace normrt::conv {

template <class T>
void conv_reference(const T* x, const T* w, const T* b, const Window& win, const ConvShape& cs, T* y) {
  const int64_t cg = cs.C / cs.G, mg = cs.M / cs.G, isz = win.in_size(), osz = win.out_size();
  for (int64_t n = 0; n < cs.N; ++n)
    for (int64_t m = 0; m < cs.M; ++m) {
      const int64_t g = m / mg;
      const T* wm = w + m * cg * win.k_size();
      T* ym = y + (n * cs.M + m) * osz;
      for (int64_t o0 = 0; o0 < win.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < win.out[1]; ++o1)
          for (int64_t o2 = 0; o2 < win.out[2]; ++o2) {
            T acc = b ? b[m] : T(0);
            for (int64_t c = 0; c < cg; ++c) {
              const T* xc = x + (n * cs.C + g * cg + c) * isz;
              const T* wc = wm + c * win.k_size();
              for (int64_t k0 = 0; k0 < win.k[0]; ++k0)
                for (int64_t k1 = 0; k1 < win.k[1]; ++k1)
                  for (int64_t k2 = 0; k2 < win.k[2]; ++k2) {
                    const int64_t i0 = o0 * win.s[0] - win.pb[0] + k0 * win.d[0];
                    const int64_t i1 = o1 * win.s[1] - win.pb[1] + k1 * win.d[1];
                    const int64_t i2 = o2 * win.s[2] - win.pb[2] + k2 * win.d[2];
                    if (i0 < 0 || i0 >= win.in[0] || i1 < 0 || i1 >= win.in[1] || i2 < 0 || i2 >= win.in[2]) continue;
                    acc += wc[(k0 * win.k[1] + k1) * win.k[2] + k2] * xc[(i0 * win.in[1] + i1) * win.in[2] + i2];
                  }
            }
            ym[(o0 * win.out[1] + o1) * win.out[2] + o2] = acc;
          }
    }
}

template void conv_reference<float>(const float*, const float*, const float*, const Window&, const ConvShape&, float*);
template void conv_reference<double>(const double*, const double*, const double*, const Window&, const ConvShape&,
                                     double*);

}  // namespace normrt::conv
