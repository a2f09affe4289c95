#include "mta/smtp/AddressParser.hpp"

#include "ferry/text/Ascii.hpp"
#include "ferry/text/IpAddress.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers

const char* to_string(AddressError error) noexcept {
  switch (error) {
    case AddressError::None:
      return "ok";
    case AddressError::Syntax:
      return "syntax error";
    case AddressError::LocalPartTooLong:
      return "local part too long";
    case AddressError::DomainTooLong:
      return "domain too long";
    case AddressError::PathTooLong:
      return "path too long";
    case AddressError::Utf8NotAllowed:
      return "UTF-8 address without SMTPUTF8";
  }
  return "unknown";
}

namespace {

// RFC 5322 §3.2.3 atext.
bool is_atext(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool utf8 = false;
  bool bad_utf8 = false;

  bool done() const { return i >= s.size(); }
  char peek() const { return i < s.size() ? s[i] : '\0'; }
  // Consumes one UTF-8 sequence if a well-formed non-ASCII one starts here.
  bool take_utf8() {
    if (done() || !is_non_ascii(s[i])) return false;
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      bad_utf8 = true;
      return false;
    }
    i += n;
    utf8 = true;
    return true;
  }
};

// sub-domain = Let-dig [Ldh-str] (§4.1.2), or a U-label (RFC 6531 §3.3: any UTF-8 here).
bool parse_subdomain(Cursor& c) {
  const std::size_t start = c.i;
  char last = '\0';
  while (!c.done()) {
    const char ch = c.peek();
    if (is_alnum(ch) || ch == '-') {
      last = ch;
      ++c.i;
    } else if (is_non_ascii(ch)) {
      if (!c.take_utf8()) return false;
      last = 'x';
    } else {
      break;
    }
  }
  if (c.i == start) return false;
  if (c.s[start] == '-' || last == '-') return false;
  return true;
}

bool parse_domain(Cursor& c) {
  if (!parse_subdomain(c)) return false;
  while (c.peek() == '.') {
    ++c.i;
    if (!parse_subdomain(c)) return false;
  }
  return true;
}

bool parse_literal(Cursor& c) {
  const std::size_t start = c.i;
  const std::size_t close = c.s.find(']', start);
  if (close == std::string_view::npos) return false;
  if (!is_valid_address_literal(c.s.substr(start, close - start + 1))) return false;
  c.i = close + 1;
  return true;
}

bool parse_dot_string(Cursor& c) {
  // Dot-string = Atom *("." Atom); RFC 6531 §3.3 adds UTF8-non-ascii to atext.
  bool need_atom = true;
  while (!c.done()) {
    const char ch = c.peek();
    if (is_atext(ch)) {
      ++c.i;
      need_atom = false;
    } else if (is_non_ascii(ch)) {
      if (!c.take_utf8()) return false;
      need_atom = false;
    } else if (ch == '.') {
      if (need_atom) return false;  // leading or doubled dot
      ++c.i;
      need_atom = true;
    } else {
      break;
    }
  }
  return !need_atom;
}

bool parse_quoted_string(Cursor& c) {
  // Quoted-string = DQUOTE *QcontentSMTP DQUOTE (§4.1.2).
  ++c.i;  // opening quote
  while (!c.done()) {
    const auto ch = static_cast<unsigned char>(c.peek());
    if (ch == '"') {
      ++c.i;
      return true;
    }
    if (ch == '\\') {
      // quoted-pairSMTP = %d92 %d32-126
      if (c.i + 1 >= c.s.size()) return false;
      const auto n = static_cast<unsigned char>(c.s[c.i + 1]);
      if (n < 32 || n > 126) return false;
      c.i += 2;
    } else if (ch >= 0x80) {
      if (!c.take_utf8()) return false;
    } else if ((ch >= 32 && ch <= 33) || (ch >= 35 && ch <= 91) || (ch >= 93 && ch <= 126)) {
      ++c.i;  // qtextSMTP
    } else {
      return false;
    }
  }
  return false;
}

}  // namespace

bool is_valid_domain(std::string_view domain, bool allow_utf8) {
  Cursor c{domain};
  if (!parse_domain(c) || !c.done()) return false;
  return allow_utf8 || !c.utf8;
}

bool is_valid_address_literal(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  std::string_view inner = literal.substr(1, literal.size() - 2);
  if (istarts_with(inner, "IPv6:")) return IpAddress::parse_v6(inner.substr(5)).has_value();
  if (IpAddress::parse_v4(inner)) return true;
  // General-address-literal = Standardized-tag ":" 1*dcontent; dcontent = %d33-90 / %d94-126.
  const std::size_t colon = inner.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == inner.size()) return false;
  std::string_view tag = inner.substr(0, colon);
  for (char ch : tag)
    if (!is_alnum(ch) && ch != '-') return false;
  if (tag.back() == '-') return false;
  for (char ch : inner.substr(colon + 1)) {
    const auto u = static_cast<unsigned char>(ch);
    if (!((u >= 33 && u <= 90) || (u >= 94 && u <= 126))) return false;
  }
  return true;
}

PathParseResult parse_path(std::string_view text, PathKind kind, bool allow_utf8,
                           const AddressLimits& limits) {
  PathParseResult r;
  auto fail = [&](AddressError e) {
    r.error = e;
    r.path = {};
    r.consumed = 0;
    return r;
  };
  if (text.empty() || text[0] != '<') return fail(AddressError::Syntax);
  if (text.substr(0, 2) == "<>") {
    if (kind != PathKind::Reverse) return fail(AddressError::Syntax);
    r.path.null_path = true;
    r.consumed = 2;
    return r;
  }
  Cursor c{text, 1};

  // A-d-l = At-domain *( "," At-domain ) ":"  — accepted and ignored (§4.1.1.3, Appendix C).
  if (c.peek() == '@') {
    while (true) {
      ++c.i;  // '@'
      if (!parse_domain(c)) return fail(AddressError::Syntax);
      if (c.peek() == ',') {
        ++c.i;
        if (c.peek() != '@') return fail(AddressError::Syntax);
        continue;
      }
      if (c.peek() != ':') return fail(AddressError::Syntax);
      ++c.i;
      break;
    }
  }

  const std::size_t local_start = c.i;
  const bool local_ok = c.peek() == '"' ? parse_quoted_string(c) : parse_dot_string(c);
  if (!local_ok) return fail(AddressError::Syntax);
  std::string_view local = text.substr(local_start, c.i - local_start);

  std::string_view domain;
  if (c.peek() == '>' && kind == PathKind::Forward && iequals(local, "postmaster")) {
    // §4.5.1: "<Postmaster>" without a domain.
  } else {
    if (c.peek() != '@') return fail(AddressError::Syntax);
    ++c.i;
    const std::size_t domain_start = c.i;
    const bool domain_ok = c.peek() == '[' ? parse_literal(c) : parse_domain(c);
    if (!domain_ok) return fail(AddressError::Syntax);
    domain = text.substr(domain_start, c.i - domain_start);
  }
  if (c.peek() != '>') return fail(AddressError::Syntax);
  ++c.i;

  if (local.size() > limits.local_part) return fail(AddressError::LocalPartTooLong);
  if (domain.size() > limits.domain) return fail(AddressError::DomainTooLong);
  if (c.i > limits.path) return fail(AddressError::PathTooLong);
  if (c.utf8 && !allow_utf8) return fail(AddressError::Utf8NotAllowed);

  r.path.local_part = std::string(local);
  r.path.domain = std::string(domain);
  r.path.address = domain.empty() ? r.path.local_part : r.path.local_part + "@" + r.path.domain;
  r.path.utf8 = c.utf8;
  r.consumed = c.i;
  return r;
}

}  // namespace ferry::smtp
