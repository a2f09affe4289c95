// EventSinks: see EventSinks.hpp.
#include "mta/outbound/EventSinks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "mta/events/EventJson.hpp"
#include "mta/events/Signature.hpp"
#include "mta/net/ClientTls.hpp"
#include "mta/net/Completion.hpp"
#include "mta/ops/Log.hpp"
#include "mta/outbound/EventSecret.hpp"

namespace ferry::outbound {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto kPoll = std::chrono::milliseconds(200);  // how soon a new event is picked up
constexpr auto kTrimEvery = std::chrono::seconds(5);
constexpr std::size_t kTrimBatch = 10000;  // deletions per trim transaction
constexpr auto kShedEvery = std::chrono::seconds(1);

auto commit(queue::CommitBatcher& batcher, asio::any_io_executor ex, queue::CommitBatcher::Operation op) {
  return net::completion_on<Result<void>>(std::move(ex), [&batcher, op = std::move(op)](auto done) mutable {
    batcher.submit(std::move(op), std::move(done));
  });
}

// Appends and syncs. O_NOFOLLOW: a link planted where the log file should be is refused.
Result<void> append_sync(const std::string& path, const std::string& lines) {
  const bool out = path == "-";
  const int fd = out ? STDOUT_FILENO
                     : ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return make_error(ErrorKind::Io, "cannot open " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  Result<void> r;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd, lines.data() + done, lines.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r = make_error(ErrorKind::Io, "cannot write " + path + ": " + std::strerror(errno));
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  // Standard output may be a pipe or a terminal, which cannot be synced: that is not a failure.
  if (r && ::fsync(fd) != 0 && !(out && (errno == EINVAL || errno == EROFS)))
    r = make_error(ErrorKind::Io, "cannot sync " + path + ": " + std::strerror(errno));
  if (!out) ::close(fd);
  return r;
}

}  // namespace

EventSinks::EventSinks(asio::io_context& io, EventSinksDeps deps)
    : io_(io), deps_(std::move(deps)), trim_timer_(io) {}

EventSinks::~EventSinks() {
  if (files_) files_->join();
}

Result<void> EventSinks::load() {
  for (const auto& cfg : deps_.config->events) {
    auto s = std::make_unique<Sink>();
    s->config = cfg;
    s->name = cfg.name();
    s->timer = std::make_unique<asio::steady_timer>(io_);
    if (!cfg.webhook.empty()) {
      const auto url = net::parse_https_url(cfg.webhook);
      if (!url)
        return make_error(ErrorKind::Invalid, "[[events]] " + cfg.webhook + ": not a usable https URL");
      s->url = *url;
      auto secret = read_event_secret(cfg.secret_file);
      if (!secret)
        return make_error(secret.error().kind, "[[events]] " + cfg.webhook + ": " + secret.error().message);
      s->secret = std::move(*secret);
      auto tls = net::make_client_tls_context(true, cfg.ca_file);
      if (!tls) return make_error(tls.error().kind, "[[events]] " + cfg.webhook + ": " + tls.error().message);
      s->tls = *tls;
    }
    if (!cfg.file.empty() && !files_) files_ = std::make_unique<asio::thread_pool>(1);
    auto acked = deps_.store->event_cursor(s->name);
    if (!acked) return acked.error();
    s->acked = *acked;
    sinks_.push_back(std::move(s));
  }
  return {};
}

std::vector<awaitable<void>> EventSinks::loops() {
  std::vector<awaitable<void>> out;
  for (auto& s : sinks_) out.push_back(run_sink(*s));
  out.push_back(trim_loop());
  return out;
}

void EventSinks::stop() {
  stopping_ = true;
  trim_timer_.cancel();
  for (auto& s : sinks_) s->timer->cancel();
}

std::uint64_t EventSinks::pending() const {
  auto last = deps_.store->last_event_seq();
  if (!last || sinks_.empty()) return 0;
  std::uint64_t slowest = *last;
  for (const auto& s : sinks_) slowest = std::min(slowest, s->acked);
  return *last - slowest;
}

awaitable<void> EventSinks::pause(asio::steady_timer& timer, std::chrono::milliseconds d) {
  timer.expires_after(d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;  // cancelled by stop(), or the time passed: stopping_ says which
}

// One batch in flight: read what follows the cursor, send it, move the cursor, repeat. A failed
// send is retried (the same events, perhaps more) after a doubling delay.
awaitable<void> EventSinks::run_sink(Sink& s) {
  while (!stopping_) {
    auto batch = deps_.store->events_after(s.acked, s.config.batch);
    if (!batch) ops::log_warning("events: " + s.name + ": cannot read the outbox: " + batch.error().message);
    if (!batch || batch->empty()) {
      co_await pause(*s.timer, kPoll);
      continue;
    }
    const std::uint64_t last = batch->back().seq;
    std::string payload;
    if (s.config.webhook.empty()) {
      for (const auto& e : *batch) payload += events::event_json(e) + "\n";
    } else {
      payload = events::batch_json(*batch);
    }
    batch->clear();
    // Two statements, not one conditional expression: GCC 12 miscompiles co_await inside ?:.
    Result<void> sent;
    if (s.config.webhook.empty())
      sent = co_await write_file(s, payload);
    else
      sent = co_await post(s, payload);
    if (stopping_) break;
    if (!sent) {
      if (auto line = s.retry.failed(sent.error().message))
        ops::log_warning("events: " + s.name + ": " + *line);
      const auto first = std::chrono::duration_cast<std::chrono::milliseconds>(s.config.retry_first);
      const auto max = std::chrono::duration_cast<std::chrono::milliseconds>(s.config.retry_max);
      co_await pause(*s.timer, events::retry_delay(s.retry.failures(), first, max));
      continue;
    }
    if (auto line = s.retry.succeeded()) ops::log_info("events: " + s.name + ": " + *line);
    const bool acked = co_await acknowledge(s, last);
    if (!acked) co_await pause(*s.timer, std::chrono::seconds(1));
  }
}

awaitable<Result<void>> EventSinks::post(Sink& s, const std::string& body) {
  const std::int64_t now_s = deps_.clock() / 1000;
  const std::vector<std::pair<std::string, std::string>> headers = {
      {std::string(events::kSignatureHeader), events::sign_body(s.secret, now_s, body)}};
  const std::string content_type = "application/json";
  const std::chrono::milliseconds timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(s.config.timeout);
  Result<int> status = co_await net::https_post_with(*deps_.resolver, io_.get_executor(), *s.tls, s.url,
                                                     content_type, body, headers, timeout);
  if (!status) co_return status.error();
  if (*status / 100 != 2) co_return make_error(ErrorKind::Io, "HTTP " + std::to_string(*status));
  co_return Result<void>();
}

awaitable<Result<void>> EventSinks::write_file(Sink& s, const std::string& lines) {
  auto work = [path = s.config.file, lines]() { return append_sync(path, lines); };
  auto wait = net::run_on<Result<void>>(files_->get_executor(), io_.get_executor(), std::move(work));
  Result<void> r = co_await std::move(wait);
  co_return r;
}

// The cursor moves in the queue before the next batch is read: a crash after the send and before
// this commit resends the batch (at least once), never skips it.
awaitable<bool> EventSinks::acknowledge(Sink& s, std::uint64_t seq) {
  queue::CommitBatcher::Operation op = [name = s.name, seq](queue::WriteTxn& t) {
    return t.ack_events(name, seq);
  };
  auto wait = commit(*deps_.batcher, io_.get_executor(), std::move(op));
  const Result<void> done = co_await std::move(wait);
  if (!done) {
    ops::log_warning("events: " + s.name + ": cannot store the position: " + done.error().message);
    co_return false;
  }
  s.acked = seq;
  co_return true;
}

// Every few seconds: drop what every sink acknowledged, keeping the newest events_retain.
// While the queue is short of space, every second, and whatever the sinks acknowledged: each
// settle appends events, so an outbox waiting for a dead webhook would otherwise take the last
// pages a delivery result needs, and the results that free space could no longer be recorded.
awaitable<void> EventSinks::trim_loop() {
  std::vector<std::string> names;
  for (const auto& s : sinks_) names.push_back(s->name);
  while (!stopping_) {
    const bool short_now = deps_.short_of_space && deps_.short_of_space();
    co_await pause(trim_timer_, short_now ? kShedEvery : kTrimEvery);
    if (stopping_) break;
    co_await trim_once(names);
  }
}

awaitable<void> EventSinks::trim_once(const std::vector<std::string>& names) {
  const bool shed = deps_.short_of_space && deps_.short_of_space();
  deps_.store->set_event_shedding(shed);  // also turned on by a commit that failed for space
  if (shed != shedding_) {
    shedding_ = shed;
    if (shed)
      ops::log_warning(
          "events: queue short of space: the oldest events are dropped, acknowledged or not, "
          "so delivery results can still be recorded");
    else
      ops::log_info("events: queue has space again: events are kept until every sink has them");
  }
  const std::uint64_t retain = deps_.config->queue.events_retain;
  queue::CommitBatcher::Operation op = [names, retain, shed](queue::WriteTxn& t) -> Result<void> {
    auto n = shed ? t.shed_events(0, kTrimBatch) : t.trim_events(names, retain, kTrimBatch);
    if (!n) return n.error();
    return {};
  };
  auto wait = commit(*deps_.batcher, io_.get_executor(), std::move(op));
  const Result<void> done = co_await std::move(wait);
  if (!done && !shed) ops::log_warning("events: cannot trim the outbox: " + done.error().message);
}

}  // namespace ferry::outbound
