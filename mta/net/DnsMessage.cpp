// DnsMessage: see DnsMessage.hpp.
#include "mta/net/DnsMessage.hpp"

#include "ferry/text/Ascii.hpp"
#include "ferry/text/IpAddress.hpp"

namespace ferry::net::dns {

namespace {

void put16(std::string& out, unsigned v) {
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}

// Reads from a whole packet; every read is checked against its end.
struct Reader {
  std::string_view p;
  std::size_t pos = 0;

  bool u8(unsigned& v) {
    if (pos + 1 > p.size()) return false;
    v = static_cast<unsigned char>(p[pos++]);
    return true;
  }
  bool u16(unsigned& v) {
    unsigned hi = 0, lo = 0;
    if (!u8(hi) || !u8(lo)) return false;
    v = hi << 8 | lo;
    return true;
  }
  bool u32(std::uint32_t& v) {
    unsigned hi = 0, lo = 0;
    if (!u16(hi) || !u16(lo)) return false;
    v = static_cast<std::uint32_t>(hi) << 16 | lo;
    return true;
  }

  // A possibly compressed name (RFC 1035 §4.1.4). A pointer must point before the place it was
  // read from, so every jump goes strictly backwards and the walk ends; the name is at most
  // 255 octets (§2.3.4).
  bool name(std::string& out) {
    out.clear();
    std::size_t at = pos, limit = pos, wire = 0;
    bool jumped = false;
    for (;;) {
      if (at >= p.size()) return false;
      const unsigned len = static_cast<unsigned char>(p[at]);
      if ((len & 0xC0) == 0xC0) {
        if (at + 1 >= p.size()) return false;
        const std::size_t target = (len & 0x3F) << 8 | static_cast<unsigned char>(p[at + 1]);
        if (!jumped) pos = at + 2;
        if (target >= limit) return false;
        jumped = true;
        limit = target;
        at = target;
        continue;
      }
      if ((len & 0xC0) != 0) return false;  // the 0x40/0x80 label types are obsolete (RFC 6891 §5)
      wire += len + 1;
      if (wire > 255 || at + 1 + len > p.size()) return false;
      if (len == 0) break;
      if (!out.empty()) out += '.';
      out += text::to_lower(p.substr(at + 1, len));
      at += 1 + len;
    }
    if (!jumped) pos = at + 1;
    return true;
  }
};

bool skip_question(Reader& r) {
  std::string ignored;
  unsigned type = 0, klass = 0;
  return r.name(ignored) && r.u16(type) && r.u16(klass);
}

bool read_record(Reader& r, ResourceRecord& rr) {
  unsigned type = 0, klass = 0, rdlen = 0;
  if (!r.name(rr.name) || !r.u16(type) || !r.u16(klass) || !r.u32(rr.ttl) || !r.u16(rdlen)) return false;
  if (r.pos + rdlen > r.p.size()) return false;
  rr.type = static_cast<std::uint16_t>(type);
  rr.rdata = std::string(r.p.substr(r.pos, rdlen));
  if (rr.type == kTypeCname || rr.type == kTypeMx) {
    Reader target{r.p, r.pos};
    unsigned preference = 0;
    if (rr.type == kTypeMx && !target.u16(preference)) return false;
    if (!target.name(rr.target) || target.pos > r.pos + rdlen) return false;
    rr.preference = static_cast<std::uint16_t>(preference);
  }
  r.pos += rdlen;
  return true;
}

std::string normalise(std::string_view name) {
  std::string n = text::to_lower(name);
  while (!n.empty() && n.back() == '.') n.pop_back();
  return n;
}

}  // namespace

std::optional<std::string> build_query(std::uint16_t id, std::string_view name_in, std::uint16_t type,
                                       bool ad) {
  const std::string name = normalise(name_in);
  if (name.empty() || name.size() > 253) return std::nullopt;
  std::string out;
  put16(out, id);
  put16(out, 0x0100 | (ad ? 0x0020 : 0));  // RD (RFC 1035 §4.1.1), AD (RFC 6840 §5.7)
  put16(out, 1);                           // QDCOUNT
  put16(out, 0);
  put16(out, 0);
  put16(out, ad ? 1 : 0);  // ARCOUNT: the OPT record
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::size_t len = dot - start;
    if (len == 0 || len > 63) return std::nullopt;
    out.push_back(static_cast<char>(len));
    out.append(name, start, len);
    start = dot + 1;
  }
  out.push_back('\0');
  put16(out, type);
  put16(out, 1);  // IN
  if (ad) {
    out.push_back('\0');  // root owner
    put16(out, kTypeOpt);
    put16(out, 1232);  // UDP payload size (the DNS flag day 2020 value)
    put16(out, 0);     // extended RCODE, version 0
    put16(out, 0);     // flags: DO clear
    put16(out, 0);     // no options
  }
  return out;
}

std::optional<Response> parse_response(std::string_view packet) {
  Reader r{packet};
  unsigned id = 0, flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
  if (!r.u16(id) || !r.u16(flags) || !r.u16(qd) || !r.u16(an) || !r.u16(ns) || !r.u16(ar))
    return std::nullopt;
  if ((flags & 0x8000) == 0) return std::nullopt;  // QR: not a response
  Response out;
  out.id = static_cast<std::uint16_t>(id);
  out.rcode = static_cast<std::uint8_t>(flags & 0x0F);
  out.authenticated = (flags & 0x0020) != 0;
  out.truncated = (flags & 0x0200) != 0;
  for (unsigned i = 0; i < qd; ++i)
    if (!skip_question(r)) return std::nullopt;
  // Each record takes at least 11 bytes, so `an` is bounded by the packet before any reserve.
  if (an > packet.size() / 11) return std::nullopt;
  out.answers.reserve(an);
  for (unsigned i = 0; i < an; ++i) {
    ResourceRecord rr;
    if (!read_record(r, rr)) return std::nullopt;
    out.answers.push_back(std::move(rr));
  }
  return out;
}

std::optional<Tlsa> parse_tlsa(std::string_view rdata) {
  if (rdata.size() < 4) return std::nullopt;
  Tlsa t;
  t.usage = static_cast<std::uint8_t>(rdata[0]);
  t.selector = static_cast<std::uint8_t>(rdata[1]);
  t.mtype = static_cast<std::uint8_t>(rdata[2]);
  t.data = std::string(rdata.substr(3));
  return t;
}

std::vector<const ResourceRecord*> answers_of(const Response& response, std::string_view qname,
                                              std::uint16_t type, std::string* owner) {
  std::string name = normalise(qname);
  for (int links = 0; links < 8; ++links) {
    std::vector<const ResourceRecord*> found;
    const ResourceRecord* cname = nullptr;
    for (const auto& rr : response.answers) {
      if (rr.name != name) continue;
      if (rr.type == type) found.push_back(&rr);
      if (rr.type == kTypeCname && !cname) cname = &rr;
    }
    if (!found.empty() || !cname || type == kTypeCname) {
      if (owner) *owner = name;
      return found;
    }
    name = cname->target;
  }
  if (owner) *owner = name;
  return {};
}

std::string address_text(std::uint16_t type, std::string_view rdata) {
  text::IpAddress ip;
  if (type == kTypeA && rdata.size() == 4) {
    ip.v4 = true;
    ip.bytes[10] = ip.bytes[11] = 0xFF;
    for (int i = 0; i < 4; ++i) ip.bytes[12 + i] = static_cast<std::uint8_t>(rdata[i]);
    return ip.str();
  }
  if (type == kTypeAaaa && rdata.size() == 16) {
    for (int i = 0; i < 16; ++i) ip.bytes[i] = static_cast<std::uint8_t>(rdata[i]);
    return ip.str_v6();
  }
  return {};
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0x0F]);
  }
  return out;
}

}  // namespace ferry::net::dns
