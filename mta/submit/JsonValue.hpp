// JsonValue: a strict RFC 8259 JSON parser for request bodies from the network.
// Contract: pure; the input is hostile: UTF-8 is validated, depth, value count and string length
// are bounded, duplicate object keys are refused, and the first problem is an error naming its offset.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Result.hpp"

namespace ferry::submit {

struct JsonMember;

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;  // a String's decoded UTF-8, or a Number's literal as written
  std::vector<JsonValue> items;
  std::vector<JsonMember> members;  // in document order, names unique

  bool is(Kind k) const { return kind == k; }
  const JsonValue* find(std::string_view key) const;  // an Object's member, or null
};

struct JsonMember {
  std::string name;
  JsonValue value;
};

struct JsonLimits {
  std::size_t max_bytes = 64u << 20;   // the whole document
  std::size_t max_depth = 16;          // nested arrays/objects
  std::size_t max_values = 100000;     // every value, members and items included
  std::size_t max_string = 64u << 20;  // decoded octets of one string
};

// Parses exactly one JSON value surrounded by optional whitespace (RFC 8259 §2).
Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits = {});

}  // namespace ferry::submit
