// TlsReportOps: see TlsReportOps.hpp.
#include "queue/TlsReportOps.hpp"

#include <algorithm>

#include "queue/Codec.hpp"
#include "queue/Schema.hpp"

namespace ferry::queue::ops {

namespace {

Error corrupt(const char* why) {
  return make_error(ErrorKind::Corrupt, std::string("tlsrpt record: ") + why);
}

// A queue opened read-only that an older ferry created has no tlsrpt table: nothing to read.
bool has_table(const Ctx& c) { return c.db.has_tlsrpt; }

void merge(TlsReportRecord& into, const TlsReportRecord& add) {
  into.successes += add.successes;
  into.failures += add.failures;
  for (const auto& [key, n] : add.details) {
    auto it =
        std::find_if(into.details.begin(), into.details.end(), [&](const auto& d) { return d.first == key; });
    if (it != into.details.end())
      it->second += n;
    else if (into.details.size() < kMaxTlsReportDetails)
      into.details.emplace_back(key, n);
  }
}

// Visits every record of `day` (key prefix be32(day)) with its raw key and value.
template <typename F>
Result<void> each_of_day(Ctx& c, std::uint32_t day, F&& visit) {
  std::string prefix;
  schema::append_be32(prefix, day);
  auto cur = lmdb::Cursor::open(c.txn, c.db.tlsrpt);
  if (!cur) return cur.error();
  auto e = cur->seek(prefix);
  for (;;) {
    if (!e) return e.error();
    if (!*e || !(*e)->key.starts_with(prefix)) return {};
    visit((*e)->key, (*e)->value);
    e = cur->next();
  }
}

}  // namespace

std::string tls_report_key(const TlsReportRecord& r) {
  std::string k;
  schema::append_be32(k, r.day);
  k += r.policy_domain;
  k.push_back('\0');
  k += r.policy;
  return k;
}

std::string encode_tls_report(const TlsReportRecord& r) {
  codec::Writer w;
  w.u8(kTlsReportVersion);
  w.varint(r.successes);
  w.varint(r.failures);
  w.varint(r.details.size());
  for (const auto& [key, n] : r.details) {
    w.str(key);
    w.varint(n);
  }
  return w.take();
}

Result<TlsReportRecord> decode_tls_report(std::string_view key, std::string_view value) {
  TlsReportRecord r;
  if (key.size() < 5) return corrupt("short key");
  const auto nul = key.find('\0', 4);
  if (nul == std::string_view::npos) return corrupt("key without policy");
  r.day = schema::read_be32(key, 0);
  r.policy_domain = std::string(key.substr(4, nul - 4));
  r.policy = std::string(key.substr(nul + 1));
  codec::Reader in(value);
  if (in.u8() != kTlsReportVersion) return corrupt("unknown version");
  r.successes = in.varint();
  r.failures = in.varint();
  const std::uint64_t n = in.varint();
  if (n > kMaxTlsReportDetails) return corrupt("too many details");
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string k = in.str();
    r.details.emplace_back(std::move(k), in.varint());
  }
  if (!in.ok()) return corrupt(in.error());
  if (!in.at_end()) return corrupt("trailing bytes");
  return r;
}

Result<void> add_tls_reports(Ctx& c, const std::vector<TlsReportRecord>& records) {
  if (!has_table(c)) return make_error(ErrorKind::Invalid, "the queue has no tlsrpt table (read-only)");
  for (const auto& add : records) {
    const std::string key = tls_report_key(add);
    auto stored = c.txn.get(c.db.tlsrpt, key);
    if (!stored) return stored.error();
    TlsReportRecord sum{add.day, add.policy_domain, add.policy, 0, 0, {}};
    if (*stored)  // an undecodable record is replaced: it holds counters, not mail
      if (auto old = decode_tls_report(key, **stored)) sum = std::move(*old);
    merge(sum, add);
    if (auto put = c.txn.put(c.db.tlsrpt, key, encode_tls_report(sum)); !put) return put.error();
  }
  return {};
}

Result<std::vector<TlsReportRecord>> tls_reports(Ctx& c, std::uint32_t day) {
  std::vector<TlsReportRecord> out;
  if (!has_table(c)) return out;
  auto r = each_of_day(c, day, [&](std::string_view k, std::string_view v) {
    if (auto rec = decode_tls_report(k, v)) out.push_back(std::move(*rec));
  });
  if (!r) return r.error();
  return out;
}

Result<std::vector<std::uint32_t>> tls_report_days(Ctx& c) {
  std::vector<std::uint32_t> days;
  if (!has_table(c)) return days;
  auto cur = lmdb::Cursor::open(c.txn, c.db.tlsrpt);
  if (!cur) return cur.error();
  // One seek per day: jump to the first key of the next day.
  auto e = cur->first();
  for (;;) {
    if (!e) return e.error();
    if (!*e) return days;
    if ((*e)->key.size() < 4) {
      e = cur->next();
      continue;
    }
    const std::uint32_t day = schema::read_be32((*e)->key, 0);
    days.push_back(day);
    if (day == UINT32_MAX) return days;
    std::string next;
    schema::append_be32(next, day + 1);
    e = cur->seek(next);
  }
}

Result<void> delete_tls_reports(Ctx& c, std::uint32_t day, TimeMs now) {
  if (!has_table(c)) return {};
  std::vector<std::pair<std::string, std::string>> doomed;  // key, raw value if undecodable
  auto r = each_of_day(c, day, [&](std::string_view k, std::string_view v) {
    auto rec = decode_tls_report(k, v);
    doomed.emplace_back(std::string(k), rec ? std::string() : std::string(v));
  });
  if (!r) return r.error();
  for (const auto& [key, raw] : doomed) {
    if (!raw.empty()) {
      // Undecodable: kept in quarantine with its bytes, as every record of the queue is.
      const std::string value = codec::encode_quarantine({now, "tlsrpt record does not decode", raw});
      if (auto put = c.txn.put(c.db.quarantine, schema::quarantine_key(schema::kTlsReport, key), value); !put)
        return put.error();
    }
    if (auto del = c.txn.del(c.db.tlsrpt, key); !del) return del.error();
  }
  return {};
}

}  // namespace ferry::queue::ops
