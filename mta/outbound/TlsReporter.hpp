// TlsReporter: SMTP TLS Reporting (RFC 8460) for the daemon: gathers the delivery agent's TLS
// outcomes, writes them to the queue's tlsrpt table, and once a day sends each policy domain its
// aggregate report to the addresses of its `_smtp._tls` TXT record (mailto: and https:).
// Contract: runs on the I/O thread; outcomes are kept in memory and written once a minute in one
// batched request (no fsync per delivery: an unclean stop loses at most that minute's counts);
// a day's reports are enqueued in the same transaction that deletes its counters, so a crash
// neither loses nor duplicates a report. Reports go from <>, so no bounce can answer them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ferry/Clock.hpp"
#include "ferry/QueueId.hpp"
#include "mta/config/Config.hpp"
#include "mta/delivery/TlsReport.hpp"
#include "mta/net/Resolver.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::outbound {

struct TlsReporterDeps {
  std::function<const config::Config*()> config;  // the configuration in force (reloads apply)
  std::string hostname;                           // TLS-Report-Submitter and the default From:
  queue::QueueStore* store = nullptr;
  queue::CommitBatcher* batcher = nullptr;
  std::shared_ptr<net::Resolver> resolver;
  std::function<void(QueueId)> on_queued;  // a report was committed: deliver it
  std::function<TimeMs()> clock;           // wall clock (ms since the epoch)
};

class TlsReporter {
 public:
  TlsReporter(boost::asio::io_context& io, TlsReporterDeps deps);

  // One TLS session's outcome (ignored while [tls_report] is disabled).
  void record(const delivery::TlsOutcome& outcome);
  // Writes the outcomes recorded since the last flush to the queue.
  boost::asio::awaitable<void> flush();
  // Sends the reports of `day` (days since the epoch, UTC) and deletes its counters.
  boost::asio::awaitable<void> send_day(std::int64_t day);
  // Flushes every minute; once a day, at a random minute of the first hour after 00:00 UTC (so
  // reporters do not all reach the receivers at midnight), sends every earlier day still stored.
  // Ends after stop().
  boost::asio::awaitable<void> run();
  void stop();

 private:
  boost::asio::awaitable<void> send_domain(
      std::int64_t day, const std::string& domain,
      const std::vector<std::pair<delivery::TlsPolicyRef, delivery::TlsCounts>>& policies,
      std::vector<queue::NewMessage>& out);
  boost::asio::awaitable<void> post_report(const std::string& domain, const std::string& target,
                                           const std::string& json);
  queue::NewMessage report_message(const std::string& to, const std::string& body, TimeMs now);

  boost::asio::io_context& io_;
  TlsReporterDeps deps_;
  delivery::TlsReportBook book_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<boost::asio::ssl::context> https_context_;  // verifying, the system's CAs
  bool stopping_ = false;
  bool sending_ = false;            // a send_day() is running
  std::int64_t sent_through_ = -1;  // the last day whose reports the loop sent
};

}  // namespace ferry::outbound
