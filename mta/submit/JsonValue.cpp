// JsonValue: see JsonValue.hpp. A recursive-descent parser over RFC 8259's grammar; recursion is
// bounded by max_depth, so a hostile "[[[[..." cannot exhaust the stack.
#include "mta/submit/JsonValue.hpp"

#include <cstdint>

namespace ferry::submit {

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& [name, value] : members)
    if (name == key) return &value;
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits) : s_(text), limits_(limits) {}

  Result<JsonValue> document() {
    if (s_.size() > limits_.max_bytes)
      return fail("document larger than " + std::to_string(limits_.max_bytes) + " bytes");
    JsonValue v;
    skip_ws();
    if (!value(v, 0)) return std::move(error_);
    skip_ws();
    if (pos_ != s_.size()) return fail("unexpected data after the value");
    return v;
  }

 private:
  std::string_view s_;
  const JsonLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t values_ = 0;
  Error error_;

  Error fail(std::string what) {
    error_ = Error{ErrorKind::Invalid, "offset " + std::to_string(pos_) + ": " + std::move(what)};
    return error_;
  }
  bool failed(std::string what) {
    fail(std::move(what));
    return false;
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  // RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D )
  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return failed("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool value(JsonValue& v, std::size_t depth) {
    if (++values_ > limits_.max_values)
      return failed("more than " + std::to_string(limits_.max_values) + " values");
    switch (peek()) {
      case '{':
        return object(v, depth + 1);
      case '[':
        return array(v, depth + 1);
      case '"':
        v.kind = JsonValue::Kind::String;
        return string(v.text);
      case 't':
        v.kind = JsonValue::Kind::Bool;
        v.boolean = true;
        return literal("true");
      case 'f':
        v.kind = JsonValue::Kind::Bool;
        return literal("false");
      case 'n':
        v.kind = JsonValue::Kind::Null;
        return literal("null");
      default:
        v.kind = JsonValue::Kind::Number;
        return number(v.text);
    }
  }

  bool object(JsonValue& v, std::size_t depth) {
    if (depth > limits_.max_depth) return failed("nested deeper than " + std::to_string(limits_.max_depth));
    v.kind = JsonValue::Kind::Object;
    ++pos_;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (peek() != '"') return failed("expected a string key");
      std::string key;
      if (!string(key)) return false;
      // RFC 8259 §4 leaves duplicate names to the implementation; two "to" members would make
      // the request mean what the last (or first) one says: refused.
      if (v.find(key)) return failed("duplicate key");
      skip_ws();
      if (peek() != ':') return failed("expected ':'");
      ++pos_;
      skip_ws();
      JsonValue member;
      if (!value(member, depth)) return false;
      v.members.push_back(JsonMember{std::move(key), std::move(member)});
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or '}'");
    }
  }

  bool array(JsonValue& v, std::size_t depth) {
    if (depth > limits_.max_depth) return failed("nested deeper than " + std::to_string(limits_.max_depth));
    v.kind = JsonValue::Kind::Array;
    ++pos_;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      JsonValue item;
      if (!value(item, depth)) return false;
      v.items.push_back(std::move(item));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or ']'");
    }
  }

  // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool number(std::string& out) {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0')
      ++pos_;
    else if (digits() == 0)
      return failed("invalid value");
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) return failed("invalid number");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) return failed("invalid number");
    }
    if (pos_ - start > 64) return failed("number longer than 64 characters");
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(std::uint32_t& out) {
    if (s_.size() - pos_ < 4) return failed("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return failed("invalid \\u escape");
    }
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // RFC 8259 §7: a surrogate pair is one code point; a lone surrogate encodes no character and
  // has no UTF-8 form (RFC 3629 §3), so it is refused rather than passed on.
  bool escape_u(std::string& out) {
    std::uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return failed("lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") return failed("high surrogate without its low half");
      pos_ += 2;
      std::uint32_t low = 0;
      if (!hex4(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) return failed("high surrogate without its low half");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
    return true;
  }

  // The length of the well-formed UTF-8 sequence at pos_ (RFC 3629 §4), 0 when ill-formed:
  // overlong forms, surrogates and code points above U+10FFFF are refused.
  std::size_t utf8_length() const {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s_[pos_ + i]); };
    const std::size_t left = s_.size() - pos_;
    const unsigned char c = b(0);
    auto cont = [&](std::size_t i) { return i < left && (b(i) & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return 0;
      if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
      if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
      return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
      if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
      return 4;
    }
    return 0;
  }

  bool string(std::string& out) {
    ++pos_;  // the opening quote
    for (;;) {
      if (out.size() > limits_.max_string)
        return failed("string longer than " + std::to_string(limits_.max_string));
      if (at_end()) return failed("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return failed("control character in a string");  // RFC 8259 §7
      if (c >= 0x80) {
        const std::size_t n = utf8_length();
        if (n == 0) return failed("invalid UTF-8");  // RFC 8259 §8.1
        out.append(s_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (!escape(out)) return false;
    }
  }

  bool escape(std::string& out) {
    ++pos_;
    if (at_end()) return failed("unterminated string");
    const char e = s_[pos_++];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        return escape_u(out);
      default:
        --pos_;
        return failed("invalid escape");
    }
  }
};

}  // namespace

Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits) {
  return Parser(text, limits).document();
}

}  // namespace ferry::submit
