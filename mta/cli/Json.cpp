// Json: see Json.hpp. Control characters are escaped; bytes >= 0x80 pass through (UTF-8).
#include "mta/cli/Json.hpp"

#include <cstdio>

namespace ferry::cli {

std::string JsonWriter::escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

void JsonWriter::separator() {
  if (need_comma_) out_.push_back(',');
}

JsonWriter& JsonWriter::begin_object() { separator(); out_.push_back('{'); need_comma_ = false; return *this; }
JsonWriter& JsonWriter::end_object() { out_.push_back('}'); need_comma_ = true; return *this; }
JsonWriter& JsonWriter::begin_array() { separator(); out_.push_back('['); need_comma_ = false; return *this; }
JsonWriter& JsonWriter::end_array() { out_.push_back(']'); need_comma_ = true; return *this; }
JsonWriter& JsonWriter::key(std::string_view name) {
  separator();
  out_ += escape(name);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view text) { separator(); out_ += escape(text); need_comma_ = true; return *this; }
JsonWriter& JsonWriter::value(std::int64_t n) { separator(); out_ += std::to_string(n); need_comma_ = true; return *this; }
JsonWriter& JsonWriter::value(std::uint64_t n) { separator(); out_ += std::to_string(n); need_comma_ = true; return *this; }
JsonWriter& JsonWriter::value(bool b) { separator(); out_ += b ? "true" : "false"; need_comma_ = true; return *this; }
JsonWriter& JsonWriter::null() { separator(); out_ += "null"; need_comma_ = true; return *this; }

}  // namespace ferry::cli
