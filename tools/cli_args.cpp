#include "cli_args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace normrt::cli {

bool Args::has(const std::string& flag) const {
  return values.count(flag) || std::find(switches.begin(), switches.end(), flag) != switches.end();
}

std::vector<std::string> Args::all(const std::string& flag) const {
  std::vector<std::string> v;
  auto [a, b] = values.equal_range(flag);
  for (auto it = a; it != b; ++it) v.push_back(it->second);
  return v;
}

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  auto v = all(flag);
  return v.empty() ? fallback : v.back();
}

static bool parse_int(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end != '\0') return false;
  *out = v;
  return true;
}

int64_t Args::get_int(const std::string& flag, int64_t fallback, int64_t min, int64_t max) const {
  if (!values.count(flag)) return fallback;
  std::string s = get(flag, "");
  int64_t v;
  if (!parse_int(s, &v) || v < min || v > max)
    throw UsageError{flag + " expects a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                     ", got '" + s + "'"};
  return v;
}

double Args::get_double(const std::string& flag, double fallback, double min) const {
  if (!values.count(flag)) return fallback;
  std::string s = get(flag, "");
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || errno || *end != '\0' || !(v >= min))
    throw UsageError{flag + " expects a number >= " + std::to_string(min) + ", got '" + s + "'"};
  return v;
}

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& with_value,
                const std::vector<std::string>& switches, const std::vector<std::string>& optional_value) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.size() > 2 && s.compare(0, 2, "--") == 0) {
      std::string flag = s, value;
      bool inline_value = false;
      size_t eq = s.find('=');
      if (eq != std::string::npos) {
        flag = s.substr(0, eq);
        value = s.substr(eq + 1);
        inline_value = true;
      }
      if (std::find(optional_value.begin(), optional_value.end(), flag) != optional_value.end()) {
        if (inline_value) {
          if (value.empty()) throw UsageError{flag + "= needs a value after '='"};
          a.values.emplace(flag, value);
        } else {
          a.switches.push_back(flag);
        }
      } else if (std::find(with_value.begin(), with_value.end(), flag) != with_value.end()) {
        if (!inline_value) {
          if (i + 1 >= argc) throw UsageError{flag + " needs a value"};
          value = argv[++i];
        }
        a.values.emplace(flag, value);
      } else if (std::find(switches.begin(), switches.end(), flag) != switches.end() && !inline_value) {
        a.switches.push_back(flag);
      } else {
        throw UsageError{"unknown option '" + s + "'"};
      }
    } else if (s.size() > 1 && s[0] == '-' && s != "-") {
      throw UsageError{"unknown option '" + s + "'"};
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::pair<std::string, std::string> split_assignment(const std::string& s, const std::string& flag) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    throw UsageError{flag + " expects NAME=VALUE, got '" + s + "'"};
  return {s.substr(0, eq), s.substr(eq + 1)};
}

Shape parse_shape(const std::string& s, const std::string& flag) {
  Shape shape;
  size_t start = 0;
  while (true) {
    size_t x = s.find_first_of("x,", start);
    std::string part = s.substr(start, x == std::string::npos ? std::string::npos : x - start);
    int64_t v;
    if (!parse_int(part, &v) || v < 0 || v > (int64_t{1} << 40))
      throw UsageError{flag + ": '" + s + "' is not a shape like 1x128"};
    shape.push_back(v);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  return shape;
}

}  // namespace normrt::cli
