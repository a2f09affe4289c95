// StsShared: see StsShared.hpp.
#include "mta/delivery/StsShared.hpp"

#include <algorithm>
#include <charconv>

#include "ferry/text/Ascii.hpp"

namespace ferry::delivery {

namespace {

constexpr std::string_view kVersionLine = "v=ferry-sts1\n";

bool valid_id(std::string_view id) {  // RFC 8461 §3.1: sts-id = 1*32(ALPHA / DIGIT)
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), text::is_alnum);
}

bool valid_node(std::string_view node) {  // a node name: one printable word
  return !node.empty() && node.size() <= 255 &&
         std::all_of(node.begin(), node.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

// The next "<name>=<value>\n" line; nullopt when the line is missing, unterminated or another.
std::optional<std::string_view> field(std::string_view& rest, std::string_view name) {
  const std::size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  const std::string_view line = rest.substr(0, nl);
  if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != '=')
    return std::nullopt;
  rest.remove_prefix(nl + 1);
  return line.substr(name.size() + 1);
}

std::optional<TimeMs> parse_ms(std::string_view digits) {
  if (digits.empty() || digits.size() > 15 || !std::all_of(digits.begin(), digits.end(), text::is_digit))
    return std::nullopt;
  TimeMs v = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return v;
}

}  // namespace

std::optional<std::string> sts_shared_key(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos)
    return std::nullopt;
  const bool ldh = std::all_of(domain.begin(), domain.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || text::is_digit(c) || c == '-' || c == '.' || c == '_';
  });
  if (!ldh) return std::nullopt;
  return "ferry:sts:" + std::string(domain);
}

std::string encode_sts_shared(const StsShared& s) {
  std::string out(kVersionLine);
  out += "id=" + s.id + "\nfetched=" + std::to_string(s.fetched_ms) + "\nnode=" + s.node + "\n\n";
  out += s.policy_text;
  return out;
}

Result<StsSharedPolicy, std::string> decode_sts_shared(std::string_view value) {
  if (value.size() > kStsSharedMaxBytes) return std::string("value too large");
  if (!value.starts_with(kVersionLine)) return std::string("unknown format");
  std::string_view rest = value.substr(kVersionLine.size());
  const auto id = field(rest, "id");
  if (!id || !valid_id(*id)) return std::string("invalid id");
  const auto fetched = field(rest, "fetched");
  const auto fetched_ms = fetched ? parse_ms(*fetched) : std::nullopt;
  if (!fetched_ms) return std::string("invalid fetched time");
  const auto node = field(rest, "node");
  if (!node || !valid_node(*node)) return std::string("invalid node name");
  if (!rest.starts_with('\n')) return std::string("no blank line after the header");
  rest.remove_prefix(1);
  if (rest.size() > kStsMaxPolicyBytes) return std::string("policy too large");
  auto policy = parse_sts_policy(rest);
  if (!policy) return "invalid policy: " + policy.error();
  StsSharedPolicy out;
  out.shared = {std::string(*id), *fetched_ms, std::string(*node), std::string(rest)};
  out.policy = std::move(*policy);
  return out;
}

std::chrono::milliseconds sts_shared_ttl(const StsCached& entry, TimeMs now) {
  return std::chrono::milliseconds(std::max<TimeMs>(entry.expires_ms - now, 0));
}

std::optional<StsCached> sts_adopt_shared(const StsSharedPolicy& s, const std::string& txt_id, TimeMs now,
                                          const RandomSource& rand) {
  if (s.shared.id != txt_id || s.shared.fetched_ms > now + kStsSharedClockSkewMs) return std::nullopt;
  const TimeMs fetched = std::min(s.shared.fetched_ms, now);
  StsCached entry = sts_after_fetch(s.shared.id, s.shared.policy_text, s.policy, fetched, rand);
  if (!sts_valid(entry, now)) return std::nullopt;
  return entry;
}

bool sts_shared_replaces(const std::optional<StsCached>& local, const StsCached& adopted, bool refreshing,
                         TimeMs now) {
  if (local && local->id == adopted.id && local->fetched_ms >= adopted.fetched_ms) return false;
  return !refreshing || adopted.next_refresh_ms > now;
}

}  // namespace ferry::delivery
