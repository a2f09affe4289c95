// EventSinks: sends the queue's delivery events outbox to each [[events]] sink — a webhook (HTTPS
// POST of signed JSON batches) or a JSON-lines file (or standard output) — and trims the outbox.
// Contract: at least once and in sequence order per sink: one batch in flight per sink, its
// cursor (the last acknowledged sequence) committed in the queue only after the batch was
// accepted (2xx) or written and fsynced, so a crash or restart resends at most that batch. The
// outbox is trimmed only below every sink's cursor (and keeps [queue] events_retain). Runs on the
// I/O thread; file writes go to a worker thread. Sinks are fixed at start (a restart applies a
// change of [[events]]).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferry/Clock.hpp"
#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/events/SinkRetry.hpp"
#include "mta/net/HttpsPost.hpp"
#include "mta/net/Resolver.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::outbound {

struct EventSinksDeps {
  const config::Config* config = nullptr;  // the configuration at start ([[events]], retain)
  queue::QueueStore* store = nullptr;
  queue::CommitBatcher* batcher = nullptr;
  std::shared_ptr<net::Resolver> resolver;
  std::function<TimeMs()> clock;  // wall clock (the signature's timestamp)
  // True while the queue refuses new mail for lack of space: the outbox then sheds its oldest
  // events, acknowledged or not, so delivery results can still be committed.
  std::function<bool()> short_of_space;
};

class EventSinks {
 public:
  EventSinks(boost::asio::io_context& io, EventSinksDeps deps);
  ~EventSinks();

  // Reads each webhook's secret and CA file (before privileges are dropped). An error names the
  // sink and the file: the daemon does not start without the sinks it was told to feed.
  Result<void> load();
  // One loop per sink plus the trim loop; each ends after stop().
  std::vector<boost::asio::awaitable<void>> loops();
  void stop();
  // Events not yet acknowledged by the slowest sink (0 without sinks): ferry_events_pending.
  std::uint64_t pending() const;

 private:
  struct Sink {
    config::EventSink config;
    std::string name;
    std::string secret;
    net::HttpsUrl url;
    std::shared_ptr<boost::asio::ssl::context> tls;
    std::uint64_t acked = 0;
    events::SinkRetry retry;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  boost::asio::awaitable<void> run_sink(Sink& sink);
  boost::asio::awaitable<Result<void>> post(Sink& sink, const std::string& body);
  boost::asio::awaitable<Result<void>> write_file(Sink& sink, const std::string& lines);
  boost::asio::awaitable<bool> acknowledge(Sink& sink, std::uint64_t seq);
  boost::asio::awaitable<void> trim_loop();
  boost::asio::awaitable<void> trim_once(const std::vector<std::string>& names);
  boost::asio::awaitable<void> pause(boost::asio::steady_timer& timer, std::chrono::milliseconds d);

  boost::asio::io_context& io_;
  EventSinksDeps deps_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::unique_ptr<boost::asio::thread_pool> files_;  // one thread, only with a file sink
  boost::asio::steady_timer trim_timer_;
  bool stopping_ = false;
  bool shedding_ = false;  // the outbox is being shed for space (logged when it changes)
};

}  // namespace ferry::outbound
