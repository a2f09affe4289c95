// StsPolicy: see StsPolicy.hpp.
#include "mta/delivery/StsPolicy.hpp"

#include <algorithm>

#include "ferry/text/Ascii.hpp"

namespace ferry::delivery {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 8461 §3.1: sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
bool valid_ext_name(std::string_view n) {
  if (n.empty() || n.size() > 32 || !text::is_alnum(n.front())) return false;
  return std::all_of(n.begin(), n.end(),
                     [](char c) { return text::is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

// sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): printable, no ";" and no "=".
bool valid_ext_value(std::string_view v) {
  if (v.empty()) return false;
  return std::all_of(v.begin(), v.end(),
                     [](char c) { return c >= 0x21 && c <= 0x7E && c != ';' && c != '='; });
}

// One record that starts with "v=STSv1": its id, or nullopt when it is malformed.
std::optional<std::string> record_id(std::string_view record) {
  std::optional<std::string> id;
  bool first = true;
  while (true) {
    const std::size_t semi = record.find(';');
    const std::string_view field = trim_wsp(record.substr(0, semi));
    if (first) {
      if (field != "v=STSv1") return std::nullopt;
      first = false;
    } else if (field.empty()) {
      if (semi != std::string_view::npos) return std::nullopt;  // ";;" is not a delimiter
    } else {
      const std::size_t eq = field.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      const std::string_view name = field.substr(0, eq), value = field.substr(eq + 1);
      if (name == "id") {
        // sts-id = 1*32(ALPHA / DIGIT)
        if (id || value.empty() || value.size() > 32 ||
            !std::all_of(value.begin(), value.end(), text::is_alnum))
          return std::nullopt;
        id = std::string(value);
      } else if (!valid_ext_name(name) || !valid_ext_value(value)) {
        return std::nullopt;
      }
    }
    if (semi == std::string_view::npos) break;
    record.remove_prefix(semi + 1);
  }
  return id;  // the id field is required
}

// A valid domain for an mx pattern: LDH labels of 1..63, dot separated, at most 253 octets.
bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t label = 0;
  for (char c : d) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (text::is_alnum(c) || c == '-' || c == '_') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label != 0;
}

std::string normal_name(std::string_view name) {
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return text::to_lower(name);
}

struct PolicyFields {
  std::optional<std::string> version, mode, max_age;
  std::vector<std::string> mx;
};

// Splits the file into `key: value` lines (RFC 8461 §3.2: LF or CRLF terminated).
Result<PolicyFields, std::string> policy_fields(std::string_view text) {
  PolicyFields f;
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text = lf == std::string_view::npos ? std::string_view() : text.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_wsp(line).empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::string("a line without \":\"");
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = trim_wsp(line.substr(colon + 1));
    // The first of a repeated single-valued field counts; unknown fields are ignored.
    if (key == "version" && !f.version)
      f.version = std::string(value);
    else if (key == "mode" && !f.mode)
      f.mode = std::string(value);
    else if (key == "max_age" && !f.max_age)
      f.max_age = std::string(value);
    else if (key == "mx")
      f.mx.emplace_back(value);
  }
  return f;
}

Result<StsMode, std::string> parse_mode(const std::optional<std::string>& mode) {
  if (!mode) return std::string("no mode");
  if (*mode == "enforce") return StsMode::Enforce;
  if (*mode == "testing") return StsMode::Testing;
  if (*mode == "none") return StsMode::None;
  return "unknown mode \"" + *mode + "\"";
}

// sts-policy-max-age-value = 1*10DIGIT, at most 31557600.
Result<std::uint64_t, std::string> parse_max_age(const std::optional<std::string>& v) {
  if (!v) return std::string("no max_age");
  if (v->empty() || v->size() > 10 || !std::all_of(v->begin(), v->end(), text::is_digit))
    return "max_age \"" + *v + "\" is not a number of seconds";
  const std::uint64_t n = std::stoull(*v);
  if (n > kStsMaxAgeLimit) return "max_age " + *v + " is above " + std::to_string(kStsMaxAgeLimit);
  return n;
}

}  // namespace

const char* to_string(StsMode mode) {
  switch (mode) {
    case StsMode::Enforce:
      return "enforce";
    case StsMode::Testing:
      return "testing";
    default:
      return "none";
  }
}

std::optional<std::string> parse_sts_record(const std::vector<std::string>& records) {
  std::optional<std::string_view> found;
  for (const auto& r : records) {
    const std::string_view rv(r);
    // Records that do not begin with the version are someone else's TXT data.
    if (rv.substr(0, 7) != "v=STSv1") continue;
    if (rv.size() > 7 && rv[7] != ';' && !is_wsp(rv[7])) continue;
    if (found) return std::nullopt;  // more than one: no policy (RFC 8461 §3.1)
    found = rv;
  }
  if (!found) return std::nullopt;
  return record_id(*found);
}

Result<StsPolicy, std::string> parse_sts_policy(std::string_view text) {
  if (text.size() > kStsMaxPolicyBytes) return std::string("the policy is larger than 64 KiB");
  auto fields = policy_fields(text);
  if (!fields) return fields.error();
  if (!fields->version) return std::string("no version");
  if (*fields->version != "STSv1") return "version \"" + *fields->version + "\" is not STSv1";
  StsPolicy p;
  auto mode = parse_mode(fields->mode);
  if (!mode) return mode.error();
  p.mode = *mode;
  auto max_age = parse_max_age(fields->max_age);
  if (!max_age) return max_age.error();
  p.max_age = *max_age;
  for (const auto& mx : fields->mx) {
    const std::string norm = normal_name(mx);
    const std::string_view name = std::string_view(norm).substr(norm.rfind("*.", 0) == 0 ? 2 : 0);
    if (!valid_domain(name)) return "mx \"" + mx + "\" is not a host name or *.domain pattern";
    p.mx.push_back(norm);
  }
  if (p.mode != StsMode::None && p.mx.empty()) return std::string("no mx (required unless mode is none)");
  return p;
}

bool sts_matches_mx(std::string_view pattern, std::string_view host) {
  const std::string p = normal_name(pattern), h = normal_name(host);
  if (p.empty() || h.empty()) return false;
  if (p.rfind("*.", 0) != 0) return p == h;
  // "*.example.com" matches "mx.example.com", never "example.com" nor "a.b.example.com".
  const std::size_t dot = h.find('.');
  return dot != std::string::npos && dot > 0 &&
         std::string_view(h).substr(dot) == std::string_view(p).substr(1);
}

bool sts_policy_allows(const StsPolicy& policy, std::string_view host) {
  return std::any_of(policy.mx.begin(), policy.mx.end(),
                     [&](const std::string& p) { return sts_matches_mx(p, host); });
}

StsAction sts_decide(const std::optional<StsCached>& cached, const std::optional<std::string>& txt_id,
                     bool txt_absent, TimeMs now) {
  const bool usable = cached && sts_valid(*cached, now);
  if (txt_id) return usable && cached->id == *txt_id ? StsAction::UseCached : StsAction::Fetch;
  // RFC 8461 §5.1: a missing or failed TXT lookup does not void an unexpired cached policy (an
  // attacker may strip the record); only with nothing cached is there no policy.
  (void)txt_absent;
  return usable ? StsAction::UseCached : StsAction::NoPolicy;
}

StsCached sts_after_fetch(std::string id, std::string policy_text, const StsPolicy& policy, TimeMs now,
                          const RandomSource& rand) {
  StsCached c;
  c.id = std::move(id);
  c.policy_text = std::move(policy_text);
  c.fetched_ms = now;
  const TimeMs age_ms = static_cast<TimeMs>(policy.max_age) * 1000;
  c.expires_ms = now + age_ms;
  const TimeMs refresh = std::min<TimeMs>(age_ms / 2, 24LL * 3600 * 1000);
  const auto jitter = static_cast<TimeMs>(unit_interval(rand) * static_cast<double>(refresh / 10));
  c.next_refresh_ms = now + std::max<TimeMs>(refresh - jitter, 60 * 1000);
  c.failures = 0;
  return c;
}

StsCached sts_after_failure(StsCached cached, TimeMs now, const RandomSource& rand) {
  cached.failures = std::min<std::uint32_t>(cached.failures + 1, 32);
  const TimeMs base = 5LL * 60 * 1000, cap = 6LL * 3600 * 1000;
  TimeMs wait = base;
  for (std::uint32_t i = 1; i < cached.failures && wait < cap; ++i) wait *= 2;
  wait = std::min(wait, cap);
  const auto jitter = static_cast<TimeMs>(unit_interval(rand) * static_cast<double>(wait / 10));
  cached.next_refresh_ms = now + wait - jitter;
  return cached;
}

}  // namespace ferry::delivery
