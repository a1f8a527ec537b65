// A minimal streaming JSON writer (objects, arrays, strings, numbers, bools)
// that places commas itself. Non-finite numbers are written as null.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace normrt::cli {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(const std::string& k) {
    separator();
    string(k);
    out_ << ':';
    after_key_ = true;
  }
  void value(const std::string& v) {
    separator();
    string(v);
  }
  void value(const char* v) { value(std::string(v)); }
  void value(double v) {
    separator();
    if (!std::isfinite(v)) {
      out_ << "null";
      return;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out_ << buf;
  }
  void value(int64_t v) {
    separator();
    out_ << v;
  }
  void value(bool v) {
    separator();
    out_ << (v ? "true" : "false");
  }
  template <class T>
  void field(const std::string& k, const T& v) {
    key(k);
    value(v);
  }
  void field(const std::string& k, int v) = delete;  // say int64_t or double

 private:
  void open(char c) {
    separator();
    out_ << c;
    first_.push_back(true);
  }
  void close(char c) {
    out_ << c;
    first_.pop_back();
  }
  void separator() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ << ',';
      first_.back() = false;
    }
  }
  void string(const std::string& s) {
    out_ << '"';
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out_ << '\\' << c;
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out_ << buf;
      } else {
        out_ << c;
      }
    }
    out_ << '"';
  }

  std::ostream& out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace normrt::cli
