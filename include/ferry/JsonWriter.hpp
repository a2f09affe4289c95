// Json: a tiny JSON writer for `--json` output (objects, arrays, strings, numbers, bools).
// Contract: produces valid UTF-8-preserving JSON; the caller pairs begin/end calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::cli {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(unsigned number) { return value(static_cast<std::uint64_t>(number)); }
  JsonWriter& value(bool flag);
  JsonWriter& null();
  const std::string& str() const { return out_; }

  // The quoted JSON string for text: ferry::json_quote (ferry/JsonEscape.hpp).
  static std::string escape(std::string_view text);

 private:
  void separator();
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace ferry::cli
