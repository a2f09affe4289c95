// Metrics: Ferry's Prometheus counters, gauges and histograms and their text exposition format
// (version 0.0.4). Contract: counters and histograms are updated from any thread (atomics and
// a mutex); render() writes one consistent text page from them plus the gauges given to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::ops {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // name_bucket{le="..."} lines, name_sum, name_count.
  void render(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Values read at scrape time from the server, the delivery agent and the queue.
struct MetricsGauges {
  std::uint64_t connections_total = 0;  // inbound connections accepted so far
  std::uint64_t messages_accepted = 0;
  std::uint64_t delivered = 0, deferred = 0, bounced = 0, expired = 0;
  std::uint64_t reports = 0;  // DSNs (bounce / delay / success reports) queued
  std::uint64_t outbound_connections_total = 0;
  std::uint64_t inbound_active = 0, outbound_active = 0;
  std::uint64_t queue_messages = 0, queue_recipients = 0;
  double oldest_message_age_seconds = 0;
  std::uint64_t events_pending = 0;  // delivery events not yet acknowledged by the slowest sink
  std::uint64_t map_size = 0, map_used = 0, map_free = 0;
  std::uint64_t fs_free = 0, fs_size = 0;
  bool accepting = true;  // false while backpressure refuses MAIL
  bool queue_ok = true;   // the queue stats could be read
  // [[pace]]: messages per second in force per paced destination (those without a rate are
  // unlimited and not listed).
  std::vector<std::pair<std::string, double>> pace_rates;
  // [cluster]: listed only when configured. 1 while the Redis link answers; last PING's time.
  bool cluster_enabled = false;
  bool cluster_up = false;
  double cluster_latency_seconds = 0;
};

class Metrics {
 public:
  Metrics();
  // A refused SMTP reply: `reply_line` is its first line ("554 5.7.1 <x>: Relay access denied").
  void count_rejection(std::string_view reply_line);
  void count_reload(bool ok);
  void observe_delivery_delay(double seconds) { delivery_delay_.observe(seconds); }
  // A deferred or bounced recipient, by the reply's category (mta/delivery/ReplyCategory).
  void count_delivery_failure(bool bounced, std::string_view category);
  void observe_commit(std::size_t batch_size, double seconds);
  // A recipient kept from the suppression list: refused at RCPT, or failed in the queue.
  void count_suppressed(bool at_rcpt) { ++(at_rcpt ? suppressed_rcpt_ : suppressed_queue_); }

  std::string render(const MetricsGauges& g) const;

  // The reason label for a refused reply, from its code and enhanced status (RFC 3463).
  static std::string rejection_reason(std::string_view reply_line);

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> rejected_;  // (reason, code) -> n
  // (result, category) -> n; every category is pre-registered at 0 so dashboards see the series.
  std::map<std::pair<std::string, std::string>, std::uint64_t> failures_;
  std::atomic<std::uint64_t> reloads_ok_{0}, reloads_failed_{0};
  std::atomic<std::uint64_t> suppressed_rcpt_{0}, suppressed_queue_{0};
  Histogram delivery_delay_;
  Histogram commit_batch_;
  Histogram commit_latency_;
};

}  // namespace ferry::ops
