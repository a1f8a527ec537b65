// Cast between string tensors and numbers, as ONNX's Cast and CastLike
// (and the ONNX reference implementation, which is numpy's astype):
//   number → string  floats as numpy's str(): the shortest digits that read
//                    back to the same value of the source type, positional
//                    for 1e-4 <= |x| < 1e16 ("0.9767611", "3.0", "100000.0"),
//                    else scientific ("1e-05", "1.5e+20"); "NaN", "INF",
//                    "-INF"; integers in decimal; bools "True" / "False"
//   string → number  plain and scientific literals ("3.14", "1E8"), spaces
//                    around them and a leading '+' allowed, "INF", "+INF",
//                    "-INF", "Infinity" and "NaN" in any case; integer
//                    targets read integer literals exactly and others
//                    through double (truncated, saturated); bool targets
//                    read "True"/"False" or a number (non-zero is true).
//                    Anything else is an Error naming the element.
// One pass over the elements; locale-independent (<charconv>).
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "dispatch.h"
#include "op.h"
#include "string_ops.h"

namespace normrt {

namespace {

// The decimal digits d1 d2 … (no trailing zeros) and exponent e of a
// scientific literal "d1.d2…e±E" from to_chars: value = d1.d2… × 10^e.
struct Decimal {
  std::string digits;
  int exp = 0;
};

Decimal decimal_of(const char* s, const char* end) {
  Decimal d;
  if (s < end && *s == '-') ++s;
  for (; s < end && *s != 'e'; ++s)
    if (*s != '.') d.digits += *s;
  if (s < end) std::from_chars(s + 1 + (s[1] == '+'), end, d.exp);
  while (d.digits.size() > 1 && d.digits.back() == '0') d.digits.pop_back();
  return d;
}

// numpy's str() of a finite value from its shortest digits.
std::string numpy_style(bool negative, const Decimal& d, double magnitude) {
  std::string s = negative ? "-" : "";
  const int n = static_cast<int>(d.digits.size());
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    if (d.exp >= 0) {
      s += d.digits.substr(0, static_cast<size_t>(std::min(n, d.exp + 1)));
      if (n < d.exp + 1) s.append(static_cast<size_t>(d.exp + 1 - n), '0');
      s += '.';
      if (n > d.exp + 1)
        s.append(d.digits, static_cast<size_t>(d.exp + 1), std::string::npos);
      else
        s += '0';
    } else {
      s += "0.";
      s.append(static_cast<size_t>(-d.exp - 1), '0');
      s += d.digits;
    }
    return s;
  }
  s += d.digits[0];
  if (n > 1) {
    s += '.';
    s.append(d.digits, 1, std::string::npos);
  }
  const int e = std::abs(d.exp);
  s += d.exp < 0 ? "e-" : "e+";
  if (e < 10) s += '0';
  s += std::to_string(e);
  return s;
}

std::string special_string(double v) {
  if (std::isnan(v)) return "NaN";
  return v < 0 ? "-INF" : "INF";
}

template <class T>  // float or double: to_chars gives the type's shortest round-trip digits
std::string float_to_string(T v) {
  if (!std::isfinite(v)) return special_string(static_cast<double>(v));
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  return numpy_style(v < 0, decimal_of(buf, r.ptr), std::fabs(static_cast<double>(v)));
}

// float16 / bfloat16 bits: the fewest digits whose float, narrowed, gives the bits back.
std::string narrow_to_string(uint16_t bits, float (*widen)(uint16_t), uint16_t (*narrow)(float)) {
  const float v = widen(bits);
  if (!std::isfinite(v)) return special_string(static_cast<double>(v));
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  std::to_chars_result r{};
  for (int precision = 0; precision < 9; ++precision) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, precision);
    float back = 0;
    std::from_chars(buf, r.ptr, back);
    if (narrow(back) == bits) break;
  }
  return numpy_style(v < 0, decimal_of(buf, r.ptr), std::fabs(static_cast<double>(v)));
}

// The element for error messages: its first bytes, unprintable ones as '?'.
std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (size_t i = 0; i < s.size() && i < 40; ++i) q += s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
  q += s.size() > 40 ? "…\"" : "\"";
  return q;
}

[[noreturn]] void not_a_number(const std::string& s, int64_t i, const char* to) {
  throw Error(ErrorCode::InvalidArgument, "Cast: string element " + std::to_string(i) + ", " + quoted(s) +
                                              ", is not a number (cast to " + to + ")");
}

// The literal without surrounding spaces and a leading '+' (from_chars takes neither).
std::string_view trimmed(const std::string& s) {
  std::string_view v(s);
  const auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; };
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  if (v.size() > 1 && v[0] == '+' && v[1] != '-' && v[1] != '+') v.remove_prefix(1);
  return v;
}

// A float or double literal, correctly rounded; out-of-range ones are ±inf or ±0.
template <class T>
bool parse_float(std::string_view v, T* out) {
  if (v.empty()) return false;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
  if (r.ptr != v.data() + v.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    const size_t e = v.find_first_of("eE");
    const bool tiny = e != std::string_view::npos && e + 1 < v.size() && v[e + 1] == '-';
    const T mag = tiny ? T(0) : std::numeric_limits<T>::infinity();
    *out = v[0] == '-' ? -mag : mag;
    return true;
  }
  return r.ec == std::errc();
}

template <class I>
bool parse_integer(std::string_view v, I* out) {
  const auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
  return !v.empty() && r.ec == std::errc() && r.ptr == v.data() + v.size();
}

bool iequals(std::string_view a, const char* b) {
  if (a.size() != std::strlen(b)) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

// An integer type's value of a double, truncated toward zero and saturated (NaN → 0).
template <class I>
I saturate(double v) {
  if (!(v == v)) return I(0);
  if (v <= static_cast<double>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

template <class D>
D string_to(const std::string& s, int64_t i, DType to) {
  const std::string_view v = trimmed(s);
  if constexpr (std::is_same_v<D, float> || std::is_same_v<D, double>) {
    D x;
    if (!parse_float(v, &x)) not_a_number(s, i, dtype_name(to));
    return x;
  } else if constexpr (std::is_same_v<D, bool>) {
    if (iequals(v, "true")) return true;
    if (iequals(v, "false")) return false;
    double x;
    if (!parse_float(v, &x)) not_a_number(s, i, dtype_name(to));
    return x != 0;
  } else {
    if constexpr (std::is_unsigned_v<D>) {
      uint64_t u;
      if (parse_integer(v, &u)) return static_cast<D>(u);
    }
    int64_t n;
    if (parse_integer(v, &n)) return static_cast<D>(n);  // wraps as an int64 → D cast does
    double x;
    if (!parse_float(v, &x)) not_a_number(s, i, dtype_name(to));
    return saturate<D>(x);
  }
}

template <class S>
std::string to_string_of(S v) {
  if constexpr (std::is_same_v<S, bool>)
    return v ? "True" : "False";
  else if constexpr (std::is_floating_point_v<S>)
    return float_to_string(v);
  else
    return std::to_string(v);
}

// f(T{}) with the C++ type of a numeric dtype; float16 and bfloat16 give their
// tags (dispatch.h).
template <class F>
void visit_number(DType t, F&& f) {
  if (t == DType::BFloat16) return f(bf16_t{});
  if (t == DType::Bool) return f(bool{});
  visit_numeric(t, f);
}

}  // namespace

void plan_string_cast(PlanCtx& c, DType src, DType dst) {
  c.set_output(0, dst, c.input(0).shape);
  if (src == DType::String) {
    c.kernel = [dst](KernelIO& io) {
      const std::string* x = io.in[0]->data<std::string>();
      const int64_t n = io.in[0]->numel();
      visit_number(dst, [&](auto tag) {
        using D = decltype(tag);
        D* y = static_cast<D*>(io.out[0]->raw());
        for (int64_t i = 0; i < n; ++i) {
          if constexpr (std::is_same_v<D, half_t>)
            y[i] = half_t{float_to_half(string_to<float>(x[i], i, dst))};
          else if constexpr (std::is_same_v<D, bf16_t>)
            y[i] = bf16_t{float_to_bfloat16(string_to<float>(x[i], i, dst))};
          else
            y[i] = string_to<D>(x[i], i, dst);
        }
      });
    };
    return;
  }
  c.kernel = [src](KernelIO& io) {
    std::string* y = io.out[0]->data<std::string>();
    const int64_t n = io.in[0]->numel();
    visit_number(src, [&](auto tag) {
      using S = decltype(tag);
      const S* x = static_cast<const S*>(io.in[0]->raw());
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<S, half_t>)
          y[i] = narrow_to_string(x[i].bits, half_to_float, float_to_half);
        else if constexpr (std::is_same_v<S, bf16_t>)
          y[i] = narrow_to_string(x[i].bits, bfloat16_to_float, float_to_bfloat16);
        else
          y[i] = to_string_of(x[i]);
      }
    });
  };
}

}  // namespace normrt
