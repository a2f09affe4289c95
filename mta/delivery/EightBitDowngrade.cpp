// EightBitDowngrade: see EightBitDowngrade.hpp. An entity (the message, or one body part) is
// header fields, an empty line and a body (RFC 2045 §2.4, RFC 2046 §5.1.1); the converter walks
// entities recursively and rebuilds only those it changes.
#include "mta/delivery/EightBitDowngrade.hpp"
#include "ferry/text/Ascii.hpp"

#include <vector>

namespace ferry::delivery {

namespace {

constexpr std::size_t kMaxDepth = 20;  // nesting of multiparts; deeper is refused, not recursed

bool has_8bit(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return true;
  return false;
}

std::string lowered(std::string_view s) { return text::to_lower(s); }
using text::iequals;

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

struct Field {
  std::string_view name;
  std::string_view value;  // after the colon, continuation lines included
  std::string_view raw;    // the whole field with its final CRLF
};

struct Entity {
  std::string_view header;  // the header fields, each with its CRLF (no empty line)
  std::string_view body;
  bool separated = false;  // an empty line was present
};

Entity split_entity(std::string_view e) {
  if (e.substr(0, 2) == "\r\n") return {{}, e.substr(2), true};
  const std::size_t end = e.find("\r\n\r\n");
  if (end == std::string_view::npos) return {e, {}, false};
  return {e.substr(0, end + 2), e.substr(end + 4), true};
}

// RFC 5322 §2.2.3: a line starting with WSP continues the field before it.
std::vector<Field> fields_of(std::string_view header) {
  std::vector<Field> out;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = pos;
    do {
      const std::size_t nl = header.find("\r\n", end);
      end = nl == std::string_view::npos ? header.size() : nl + 2;
    } while (end < header.size() && (header[end] == ' ' || header[end] == '\t'));
    const std::string_view raw = header.substr(pos, end - pos);
    const std::size_t colon = raw.find(':');
    Field f{raw.substr(0, colon == std::string_view::npos ? 0 : colon), {}, raw};
    if (colon != std::string_view::npos) f.value = raw.substr(colon + 1);
    f.name = trim(f.name);
    out.push_back(f);
    pos = end;
  }
  return out;
}

const Field* find_field(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

struct ContentType {
  std::string type = "text";
  std::string subtype = "plain";
  std::string boundary;
};

// The value of parameter `name` in a Content-Type value (RFC 2045 §5.1), quoted or a token.
std::string parameter(std::string_view value, std::string_view name) {
  std::size_t pos = value.find(';');
  while (pos != std::string_view::npos && pos < value.size()) {
    ++pos;
    while (pos < value.size() && is_wsp(value[pos])) ++pos;
    const std::size_t eq = value.find('=', pos);
    if (eq == std::string_view::npos) return {};
    const bool match = iequals(trim(value.substr(pos, eq - pos)), name);
    std::size_t v = eq + 1;
    while (v < value.size() && is_wsp(value[v])) ++v;
    std::string out;
    if (v < value.size() && value[v] == '"') {
      for (++v; v < value.size() && value[v] != '"'; ++v) {
        if (value[v] == '\\' && v + 1 < value.size()) ++v;
        out += value[v];
      }
      pos = value.find(';', v);
    } else {
      const std::size_t end = value.find(';', v);
      const std::size_t n = end == std::string_view::npos ? std::string_view::npos : end - v;
      out = std::string(trim(value.substr(v, n)));
      pos = end;
    }
    if (match) return out;
  }
  return {};
}

ContentType content_type(const std::vector<Field>& fields, const ContentType& fallback) {
  const Field* f = find_field(fields, "Content-Type");
  if (!f) return fallback;
  const std::string_view v = trim(f->value);
  const std::string_view main = trim(v.substr(0, v.find(';')));
  const std::size_t slash = main.find('/');
  if (slash == std::string_view::npos) return fallback;  // RFC 2045 §5.2: invalid → default
  ContentType ct;
  ct.type = lowered(trim(main.substr(0, slash)));
  ct.subtype = lowered(trim(main.substr(slash + 1)));
  if (ct.type == "multipart") ct.boundary = parameter(v, "boundary");
  return ct;
}

std::string encoding_of(const std::vector<Field>& fields) {
  const Field* f = find_field(fields, "Content-Transfer-Encoding");
  return f ? lowered(trim(f->value)) : std::string("7bit");
}

// The header with every Content-Transfer-Encoding replaced by `cte` (appended last).
std::string with_encoding(const std::vector<Field>& fields, std::string_view cte, bool add_mime_version) {
  std::string out;
  for (const Field& f : fields)
    if (!iequals(f.name, "Content-Transfer-Encoding")) out += f.raw;
  if (add_mime_version) out += "MIME-Version: 1.0\r\n";
  out += "Content-Transfer-Encoding: ";
  out += cte;
  out += "\r\n";
  return out;
}

struct Converter {
  Downgrade& result;

  bool fail(DowngradeFailure why, std::string detail) {
    result.failure = why;
    result.detail = std::move(detail);
    return false;
  }

  // Appends the 7-bit form of `entity` to `out`; `fallback` is the default Content-Type (text/plain,
  // or message/rfc822 inside multipart/digest, RFC 2046 §5.1.5).
  bool entity(std::string_view e, const ContentType& fallback, bool top, std::size_t depth,
              std::string& out) {
    const Entity parts = split_entity(e);
    if (has_8bit(parts.header))
      return fail(DowngradeFailure::EightBitHeader, "8-bit octets in a header field");
    if (!has_8bit(parts.body)) {
      out += e;
      return true;
    }
    if (depth > kMaxDepth) return fail(DowngradeFailure::Malformed, "MIME parts nested too deeply");
    const std::vector<Field> fields = fields_of(parts.header);
    const ContentType ct = content_type(fields, fallback);
    const std::string cte = encoding_of(fields);
    if (cte == "base64" || cte == "quoted-printable")
      return fail(DowngradeFailure::Malformed, "8-bit octets in a part declared " + cte);
    if (ct.type == "multipart") {
      out += parts.header;
      out += "\r\n";
      return multipart(parts.body, ct, depth, out);
    }
    if (ct.type == "message" && ct.subtype == "rfc822") {
      // RFC 2046 §5.2.1: only 7bit, 8bit or binary; once its content is 7-bit it is 7bit.
      out += with_encoding(fields, "7bit", false);
      out += "\r\n";
      return entity(parts.body, ContentType{}, false, depth + 1, out);
    }
    if (ct.type != "text")
      return fail(DowngradeFailure::NotText, "8-bit " + ct.type + "/" + ct.subtype + " part");
    out += with_encoding(fields, "quoted-printable", top && !find_field(fields, "MIME-Version"));
    out += "\r\n";
    out += quoted_printable(parts.body);
    return true;
  }

  bool multipart(std::string_view body, const ContentType& ct, std::size_t depth, std::string& out);
};

struct Delimiter {
  std::size_t start = 0;  // the line's first octet
  std::size_t end = 0;    // after its CRLF
  bool close = false;     // "--boundary--"
};

// RFC 2046 §5.1.1: delimiter lines are "--" boundary, optionally "--", then optional whitespace.
std::vector<Delimiter> delimiters(std::string_view body, const std::string& boundary) {
  std::vector<Delimiter> out;
  const std::string dash = "--" + boundary;
  for (std::size_t pos = 0; pos < body.size();) {
    const std::size_t nl = body.find("\r\n", pos);
    const std::size_t line_end = nl == std::string_view::npos ? body.size() : nl;
    const std::size_t next = nl == std::string_view::npos ? body.size() : nl + 2;
    const std::string_view line = body.substr(pos, line_end - pos);
    if (line.substr(0, dash.size()) == dash) {
      std::string_view rest = line.substr(dash.size());
      const bool close = rest.substr(0, 2) == "--";
      if (close) rest.remove_prefix(2);
      if (trim(rest).empty()) {
        out.push_back({pos, next, close});
        if (close) break;
      }
    }
    pos = next;
  }
  return out;
}

bool Converter::multipart(std::string_view body, const ContentType& ct, std::size_t depth, std::string& out) {
  const std::vector<Delimiter> ds =
      ct.boundary.empty() ? std::vector<Delimiter>{} : delimiters(body, ct.boundary);
  if (ds.empty()) return fail(DowngradeFailure::Malformed, "multipart without its boundary");
  if (has_8bit(body.substr(0, ds.front().start)))
    return fail(DowngradeFailure::NotText, "8-bit multipart preamble");
  out += body.substr(0, ds.front().start);
  ContentType inner;
  if (ct.subtype == "digest") inner = {"message", "rfc822", {}};
  for (std::size_t i = 0; i < ds.size(); ++i) {
    out += body.substr(ds[i].start, ds[i].end - ds[i].start);
    if (ds[i].close) break;
    // The CRLF before the next delimiter belongs to that delimiter (RFC 2046 §5.1.1).
    std::size_t part_end = i + 1 < ds.size() ? ds[i + 1].start : body.size();
    const bool has_next = i + 1 < ds.size();
    if (has_next && part_end >= ds[i].end + 2) part_end -= 2;
    const std::string_view part = body.substr(ds[i].end, part_end > ds[i].end ? part_end - ds[i].end : 0);
    if (!entity(part, inner, false, depth + 1, out)) return false;
    if (has_next && ds[i + 1].start >= ds[i].end + 2) out += "\r\n";
  }
  const std::size_t tail = ds.back().close ? ds.back().end : body.size();
  if (has_8bit(body.substr(tail))) return fail(DowngradeFailure::NotText, "8-bit multipart epilogue");
  out += body.substr(tail);
  return true;
}

}  // namespace

std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find("\r\n", pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::size_t column = 0;
    for (std::size_t i = pos; i < end; ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      const bool last = i + 1 == end;
      char token[3] = {static_cast<char>(c), 0, 0};
      std::size_t n = 1;
      // RFC 2045 §6.7 rules (2) literal representation, (3) white space not at a line end.
      const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      if (!literal) {
        token[0] = '=';
        token[1] = kHex[c >> 4];
        token[2] = kHex[c & 15];
        n = 3;
      }
      // Rule (5): soft line breaks keep encoded lines at 76 octets, the '=' included.
      if (column + n > 75) {
        out += "=\r\n";
        column = 0;
      }
      out.append(token, n);
      column += n;
    }
    if (nl == std::string_view::npos) break;
    out += "\r\n";
    pos = nl + 2;
  }
  return out;
}

Downgrade downgrade_8bit(std::string_view message) {
  Downgrade result;
  Converter c{result};
  std::string out;
  out.reserve(message.size() + message.size() / 8);
  if (c.entity(message, ContentType{}, true, 0, out)) result.message = std::move(out);
  return result;
}

}  // namespace ferry::delivery
