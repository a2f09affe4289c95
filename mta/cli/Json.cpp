// Json: see Json.hpp. Strings are escaped by ferry/JsonEscape.hpp, shared with the JSON log lines.
#include "mta/cli/Json.hpp"

#include "ferry/JsonEscape.hpp"

namespace ferry::cli {

std::string JsonWriter::escape(std::string_view text) { return json_quote(text); }

void JsonWriter::separator() {
  if (need_comma_) out_.push_back(',');
}

JsonWriter& JsonWriter::begin_object() {
  separator();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  separator();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view name) {
  separator();
  out_ += escape(name);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view text) {
  separator();
  out_ += escape(text);
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(std::int64_t n) {
  separator();
  out_ += std::to_string(n);
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(std::uint64_t n) {
  separator();
  out_ += std::to_string(n);
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(bool b) {
  separator();
  out_ += b ? "true" : "false";
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::null() {
  separator();
  out_ += "null";
  need_comma_ = true;
  return *this;
}

}  // namespace ferry::cli
