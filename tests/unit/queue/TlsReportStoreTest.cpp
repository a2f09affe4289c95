// The tlsrpt table: counters merge per (day, domain, policy), a day is listed and deleted alone,
// detail rows are bounded, an undecodable record is quarantined, and a read-only open of a queue
// without the table reads it as empty.
#include <gtest/gtest.h>
#include <lmdb.h>

#include "QueueTestSupport.hpp"
#include "queue/Codec.hpp"
#include "queue/QueueStore.hpp"
#include "queue/TlsReportOps.hpp"

namespace ferry::queue {
namespace {

TlsReportRecord rec(std::uint32_t day, std::string domain, std::uint64_t ok, std::uint64_t failed,
                    std::vector<std::pair<std::string, std::uint64_t>> details = {}) {
  return TlsReportRecord{day,    std::move(domain), "policy-of-" + std::to_string(day), ok,
                         failed, std::move(details)};
}

TEST(TlsReportStore, CountersMergePerDayDomainAndPolicy) {
  test::TempDir dir;
  auto store = test::open_store(dir.path());
  ASSERT_TRUE(store->add_tls_reports({rec(20000, "a.test", 2, 1, {{"starttls", 1}})}));
  ASSERT_TRUE(store->add_tls_reports({rec(20000, "a.test", 1, 2, {{"starttls", 1}, {"cert", 1}}),
                                      rec(20000, "b.test", 5, 0), rec(20001, "a.test", 7, 0)}));
  auto day = store->tls_reports(20000);
  ASSERT_TRUE(day);
  ASSERT_EQ(day->size(), 2u);
  const auto& a = (*day)[0];
  EXPECT_EQ(a.policy_domain, "a.test");
  EXPECT_EQ(a.policy, "policy-of-20000");
  EXPECT_EQ(a.successes, 3u);
  EXPECT_EQ(a.failures, 3u);
  ASSERT_EQ(a.details.size(), 2u);
  EXPECT_EQ(a.details[0], (std::pair<std::string, std::uint64_t>{"starttls", 2}));
  EXPECT_EQ((*day)[1].policy_domain, "b.test");
  EXPECT_EQ(*store->tls_report_days(), (std::vector<std::uint32_t>{20000, 20001}));

  ASSERT_TRUE(store->delete_tls_reports(20000, 1));
  EXPECT_TRUE(store->tls_reports(20000)->empty());
  EXPECT_EQ(store->tls_reports(20001)->size(), 1u);
  EXPECT_EQ(*store->tls_report_days(), (std::vector<std::uint32_t>{20001}));
}

TEST(TlsReportStore, DetailRowsAreBounded) {
  test::TempDir dir;
  auto store = test::open_store(dir.path());
  std::vector<std::pair<std::string, std::uint64_t>> many;
  for (int i = 0; i < 150; ++i) many.emplace_back("d" + std::to_string(i), 1);
  ASSERT_TRUE(store->add_tls_reports({rec(1, "a.test", 0, 150, many)}));
  const auto r = store->tls_reports(1);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].failures, 150u);
  EXPECT_EQ((*r)[0].details.size(), kMaxTlsReportDetails);
}

TEST(TlsReportStore, CodecRejectsDamage) {
  const auto r = rec(3, "a.test", 1, 1, {{"x", 1}});
  const std::string key = ops::tls_report_key(r);
  const std::string value = ops::encode_tls_report(r);
  ASSERT_TRUE(ops::decode_tls_report(key, value));
  EXPECT_FALSE(ops::decode_tls_report(key, value.substr(0, value.size() - 1)));
  EXPECT_FALSE(ops::decode_tls_report(key, value + "x"));
  EXPECT_FALSE(ops::decode_tls_report(key, "\x02" + value.substr(1)));
  EXPECT_FALSE(ops::decode_tls_report(key.substr(0, 4), value));
}

// Raw LMDB on a closed store (one env per path per process): `value` empty drops the table.
void raw(const std::string& path, const std::string& key, const std::string& value) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi;
  ASSERT_EQ(mdb_dbi_open(txn, "tlsrpt", 0, &dbi), 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
  ASSERT_EQ(value.empty() ? mdb_drop(txn, dbi, 1) : mdb_put(txn, dbi, &k, &v, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

TEST(TlsReportStore, UndecodableRecordIsSkippedThenQuarantinedWithItsDay) {
  test::TempDir dir;
  const auto bad = rec(9, "b.test", 1, 0);
  { ASSERT_TRUE(test::open_store(dir.path())->add_tls_reports({rec(9, "a.test", 1, 0), bad})); }
  raw(dir.path(), ops::tls_report_key(bad), "\x07garbage");
  auto store = test::open_store(dir.path());
  ASSERT_EQ(store->tls_reports(9)->size(), 1u);
  EXPECT_TRUE(store->quarantined()->empty());
  ASSERT_TRUE(store->delete_tls_reports(9, 5));
  EXPECT_TRUE(store->tls_report_days()->empty());
  const auto q = store->quarantined();
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].table, "tlsrpt");
}

TEST(TlsReportStore, ReadOnlyOpenOfAQueueWithoutTheTableReadsEmpty) {
  test::TempDir dir;
  { auto store = test::open_store(dir.path()); }
  raw(dir.path(), "", "");  // as an older ferry left it
  QueueOptions o;
  o.path = dir.path();
  o.map_size = 64ull << 20;
  o.read_only = true;
  {
    auto ro = QueueStore::open(o);
    ASSERT_TRUE(ro) << ro.error().message;
    EXPECT_TRUE((*ro)->tls_reports(1)->empty());
    EXPECT_TRUE((*ro)->tls_report_days()->empty());
  }
  auto rw = test::open_store(dir.path());  // a read-write open creates it
  EXPECT_TRUE(rw->add_tls_reports({rec(1, "a.test", 1, 0)}));
}

}  // namespace
}  // namespace ferry::queue
