// DkimSigner: header selection, body hash and signing of whole messages (see the header).
#include "mta/dkim/DkimSigner.hpp"
#include "ferry/text/Ascii.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "mta/dkim/FromDomain.hpp"
#include "mta/dkim/SignatureHeader.hpp"

namespace ferry::dkim {
namespace {

void lower_in_place(std::string& s) {
  for (char& c : s) c = text::ascii_lower(c);
}

using text::to_lower;

// The message used to test every key at start-up.
constexpr std::string_view kProbe =
    "From: probe@example.invalid\r\nSubject: DKIM key check\r\n\r\nferry checks that this key can sign.\r\n";

// The value of tag `name` in a DKIM-Signature field (RFC 6376 §3.2 tag-list; FWS removed).
std::string tag_value(std::string_view field, std::string_view name) {
  std::string compact;
  for (char c : field.substr(field.find(':') + 1))
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact += c;
  std::string_view rest = compact;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    const std::string_view tag = rest.substr(0, semi);
    const std::size_t eq = tag.find('=');
    if (eq != std::string_view::npos && tag.substr(0, eq) == name) return std::string(tag.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return {};
}

}  // namespace

std::vector<std::string> select_headers(const std::vector<HeaderField>& present,
                                        const std::vector<std::string>& names) {
  // One pass over the fields, however many there are (a message with 60,000 To: fields must not
  // cost 60,000 scans of them).
  std::unordered_map<std::string, std::size_t> instances;
  for (const std::string& name : names) instances.emplace(to_lower(name), 0);
  std::string key;
  for (const HeaderField& f : present) {
    key.assign(f.name);
    lower_in_place(key);
    if (auto it = instances.find(key); it != instances.end()) ++it->second;
  }
  std::vector<std::string> h;
  for (const std::string& name : names) {
    const std::string n = to_lower(name);
    const std::size_t times = std::min(instances[n], kMaxSignedInstances) + (n == "from" ? 1 : 0);
    for (std::size_t i = 0; i < times; ++i) h.push_back(n);
  }
  return h;
}

std::string header_hash_input(const std::vector<HeaderField>& present, const std::vector<std::string>& h,
                              std::string_view unsigned_field, Canon canon) {
  // §5.4.2: the i-th occurrence of a name in h= signs the i-th instance counted from the bottom;
  // an occurrence beyond the instances present signs nothing (the null string). The instances of
  // each name are indexed once, bottom first.
  std::unordered_map<std::string, std::pair<std::vector<const HeaderField*>, std::size_t>> bottom_up;
  for (const std::string& name : h)
    bottom_up.emplace(to_lower(name), std::pair<std::vector<const HeaderField*>, std::size_t>{});
  std::string key;
  for (auto f = present.rbegin(); f != present.rend(); ++f) {
    key.assign(f->name);
    lower_in_place(key);
    if (auto it = bottom_up.find(key); it != bottom_up.end()) it->second.first.push_back(&*f);
  }
  std::string data;
  for (const std::string& name : h) {
    auto& [fields, used] = bottom_up[to_lower(name)];
    if (used < fields.size()) data += canonicalize_header(fields[used]->field, canon);
    ++used;
  }
  std::string sig = canonicalize_header(unsigned_field, canon);
  sig.resize(sig.size() - 2);  // §3.7: the DKIM-Signature field is hashed without its CRLF
  data += sig;
  return data;
}

namespace {

// The header fields a signature over `names` can use, from one pass over the header section:
// the bottom-most kMaxSignedInstances instances of each name, in message order, and every From:
// field. Only these are kept, so the memory does not grow with the number of fields.
struct SignableHeaders {
  std::vector<HeaderField> fields;
  std::vector<HeaderField> from;
  std::string_view body;
};

SignableHeaders signable_headers(std::string_view message, const std::vector<std::string>& names) {
  std::unordered_map<std::string, std::deque<std::pair<std::size_t, HeaderField>>> kept;
  for (const std::string& name : names)
    kept.emplace(to_lower(name), std::deque<std::pair<std::size_t, HeaderField>>{});
  SignableHeaders out;
  std::size_t index = 0;
  std::string key;
  out.body = for_each_header_field(message, [&](const HeaderField& f) {
    key.assign(f.name);
    lower_in_place(key);
    if (key == "from") out.from.push_back(f);
    if (auto it = kept.find(key); it != kept.end()) {
      it->second.emplace_back(index, f);
      if (it->second.size() > kMaxSignedInstances) it->second.pop_front();
    }
    ++index;
  });
  std::vector<std::pair<std::size_t, HeaderField>> ordered;
  for (auto& [name, list] : kept) ordered.insert(ordered.end(), list.begin(), list.end());
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [i, f] : ordered) out.fields.push_back(f);
  return out;
}

Result<std::string> sign_parts(const SignableHeaders& parts, const SigningEntry& entry, const DkimKey& key,
                               TimeMs now) {
  Sha256 body_hasher;
  canonicalize_body(parts.body, entry.body_canon, [&](std::string_view piece) { body_hasher.update(piece); });
  const std::string body_hash = body_hasher.finish();
  if (body_hash.empty()) return make_error(ErrorKind::Io, "DKIM signing: SHA-256 of the body failed");

  SignatureFields f;
  f.algorithm = key.algorithm();
  f.header_canon = entry.header_canon;
  f.body_canon = entry.body_canon;
  f.domain = entry.domain;
  f.selector = entry.selector;
  f.signed_headers = select_headers(parts.fields, entry.headers);
  f.timestamp = now / 1000;
  if (entry.expire_seconds > 0) f.expiration = f.timestamp + entry.expire_seconds;
  f.body_hash = base64(body_hash);
  std::string field = unsigned_signature_field(f);
  auto signature = key.sign(header_hash_input(parts.fields, f.signed_headers, field, entry.header_canon));
  if (!signature) return signature.error();
  return complete_signature_field(std::move(field), base64(*signature));
}

}  // namespace

Result<std::string> sign_message(std::string_view message, const SigningEntry& entry, const DkimKey& key,
                                 TimeMs now) {
  return sign_parts(signable_headers(message, entry.headers), entry, key, now);
}

Result<DkimSigner> DkimSigner::create(const std::vector<SigningEntry>& entries) {
  std::vector<std::pair<SigningEntry, DkimKey>> signers;
  for (const SigningEntry& e : entries) {
    auto key = DkimKey::load(e.key_path);
    if (!key) return key.error();
    if (auto probe = sign_message(kProbe, e, *key, 0); !probe)
      return make_error(ErrorKind::Invalid,
                        "DKIM key " + e.key_path + ": cannot sign: " + probe.error().message);
    signers.emplace_back(e, std::move(key).value());
  }
  return with_keys(std::move(signers));
}

DkimSigner DkimSigner::with_keys(std::vector<std::pair<SigningEntry, DkimKey>> signers) {
  DkimSigner s;
  s.signers_ = std::move(signers);
  for (auto& [entry, key] : s.signers_) entry.domain = to_lower(entry.domain);
  return s;
}

Result<SignOutcome> DkimSigner::sign(std::string_view message, TimeMs now) const {
  SignOutcome outcome;
  if (signers_.empty()) {
    outcome.skipped = "no [[dkim]] entries";
    return outcome;
  }
  std::vector<std::string> names;  // every name any entry signs: one pass serves them all
  for (const auto& [entry, key] : signers_)
    names.insert(names.end(), entry.headers.begin(), entry.headers.end());
  const SignableHeaders parts = signable_headers(message, names);
  if (parts.from.size() > 1) {
    outcome.skipped = "several From: header fields";
    return outcome;
  }
  if (parts.from.empty()) {
    outcome.skipped = "no From: header field";
    return outcome;
  }
  const HeaderField* from = &parts.from.front();
  std::vector<std::string> domains = address_domains(from->field.substr(from->field.find(':') + 1));
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  if (domains.size() != 1) {
    outcome.skipped = domains.empty() ? "no domain in From:" : "From: has addresses in several domains";
    return outcome;
  }
  // The exact domain first, then each parent domain whose entries allow subdomains.
  const std::string& author = domains.front();
  std::vector<const std::pair<SigningEntry, DkimKey>*> chosen;
  for (std::string_view d = author; !d.empty();) {
    const bool exact = d.size() == author.size();
    for (const auto& s : signers_)
      if (s.first.domain == d && (exact || s.first.sign_subdomains)) chosen.push_back(&s);
    if (!chosen.empty()) break;
    const auto dot = d.find('.');
    d = dot == std::string_view::npos ? std::string_view() : d.substr(dot + 1);
  }
  if (chosen.empty()) {
    outcome.skipped = "no [[dkim]] entry for " + author;
    return outcome;
  }
  for (const auto* s : chosen) {
    auto field = sign_parts(parts, s->first, s->second, now);
    if (!field) return field.error();
    outcome.headers += *field;
  }
  outcome.domain = chosen.front()->first.domain;
  return outcome;
}

Result<std::string> DkimSigner::resign(std::string_view message, TimeMs now) const {
  const MessageParts parts = split_message(message);
  std::vector<std::string_view> ours;
  for (const HeaderField& f : parts.headers) {
    if (!same_name(f.name, "dkim-signature")) continue;
    const std::string d = to_lower(tag_value(f.field, "d")), s = to_lower(tag_value(f.field, "s"));
    for (const auto& entry : signers_)
      if (entry.first.domain == d && to_lower(entry.first.selector) == s) {
        ours.push_back(f.field);
        break;
      }
  }
  if (ours.empty()) return std::string(message);
  std::string stripped;
  stripped.reserve(message.size());
  std::size_t copied = 0;
  for (std::string_view field : ours) {  // in message order: fields are views into `message`
    const auto at = static_cast<std::size_t>(field.data() - message.data());
    stripped.append(message.substr(copied, at - copied));
    copied = at + field.size();
  }
  stripped.append(message.substr(copied));
  auto signed_now = sign(stripped, now);
  if (!signed_now) return signed_now.error();
  return signed_now->headers + stripped;
}

}  // namespace ferry::dkim
