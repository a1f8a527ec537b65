// Command-line parsing helpers for the normrt tool: flags with values, and
// the value formats (N, NAME=FILE, NAME=1x128) with errors that name the flag.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "normrt/tensor.h"

namespace normrt::cli {

struct UsageError {
  std::string message;
};

struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> values;  // --flag value (repeatable)
  std::vector<std::string> switches;               // flags without a value

  bool has(const std::string& flag) const;
  std::vector<std::string> all(const std::string& flag) const;
  std::string get(const std::string& flag, const std::string& fallback) const;
  int64_t get_int(const std::string& flag, int64_t fallback, int64_t min, int64_t max) const;
  double get_double(const std::string& flag, double fallback, double min) const;
};

// `with_value`: flags that take a value; `switches`: flags that don't;
// `optional_value`: flags used alone or as --flag=VALUE.
Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& with_value,
                const std::vector<std::string>& switches, const std::vector<std::string>& optional_value = {});

// "NAME=VALUE" → {NAME, VALUE}; the flag names the option in errors.
std::pair<std::string, std::string> split_assignment(const std::string& s, const std::string& flag);
// "1x128x768" → {1,128,768}
Shape parse_shape(const std::string& s, const std::string& flag);

}  // namespace normrt::cli
