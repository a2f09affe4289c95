// JsonWriter: a tiny JSON writer (objects, arrays, strings, numbers, bools) for `--json` output
// and the HTTP API's replies. Contract: produces valid JSON (strings escaped by ferry/JsonEscape.hpp,
// well-formed UTF-8 preserved); the caller pairs begin/end calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/JsonEscape.hpp"

namespace ferry {

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view name) {
    separator();
    out_ += escape(name);
    out_.push_back(':');
    need_comma_ = false;
    return *this;
  }
  JsonWriter& value(std::string_view text) { return raw(escape(text)); }
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number) { return raw(std::to_string(number)); }
  JsonWriter& value(std::uint64_t number) { return raw(std::to_string(number)); }
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(unsigned number) { return value(static_cast<std::uint64_t>(number)); }
  JsonWriter& value(bool flag) { return raw(flag ? "true" : "false"); }
  JsonWriter& null() { return raw("null"); }
  const std::string& str() const { return out_; }

  static std::string escape(std::string_view text) { return json_quote(text); }

 private:
  void separator() {
    if (need_comma_) out_.push_back(',');
  }
  JsonWriter& open(char c) {
    separator();
    out_.push_back(c);
    need_comma_ = false;
    return *this;
  }
  JsonWriter& close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    return *this;
  }
  JsonWriter& raw(std::string_view json) {
    separator();
    out_ += json;
    need_comma_ = true;
    return *this;
  }
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace ferry
