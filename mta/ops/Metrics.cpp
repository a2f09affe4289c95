// Metrics: see Metrics.hpp. Names follow Prometheus conventions: ferry_ prefix, _total for
// counters, base units (seconds, bytes).
#include "mta/ops/Metrics.hpp"

#include <cstdio>

#include "mta/delivery/ReplyCategory.hpp"

namespace ferry::ops {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, double value, std::string_view labels = {}) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += number(value);
  out += '\n';
}

// A label value in the text format: backslash, double quote and line feed are escaped; other
// control characters cannot come from a destination name, but are dropped all the same.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)
      out += c;
  }
  return out;
}

void one(std::string& out, std::string_view name, std::string_view type, std::string_view help,
         double value) {
  family(out, name, type, help);
  sample(out, name, value);
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  std::lock_guard lock(mutex_);
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view help) const {
  family(out, name, "histogram", help);
  std::lock_guard lock(mutex_);
  std::uint64_t cumulative = 0;
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    sample(out, bucket, static_cast<double>(cumulative), "le=\"" + number(bounds_[i]) + "\"");
  }
  cumulative += counts_.back();
  sample(out, bucket, static_cast<double>(cumulative), "le=\"+Inf\"");
  sample(out, std::string(name) + "_sum", sum_);
  sample(out, std::string(name) + "_count", static_cast<double>(count_));
}

Metrics::Metrics()
    : delivery_delay_({0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 14400, 86400, 432000}),
      commit_batch_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512}),
      commit_latency_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {
  for (const std::string_view c : delivery::reply_categories())
    for (const char* result : {"deferred", "bounced"}) failures_[{result, std::string(c)}] = 0;
}

std::string Metrics::rejection_reason(std::string_view line) {
  const std::string_view code = line.substr(0, 3);
  std::string_view status;
  if (line.size() > 4) {
    status = line.substr(4);
    status = status.substr(0, status.find(' '));
  }
  if (status == "4.3.1" || (code == "452" && status.starts_with("4.3"))) return "queue_full";
  if (status == "5.7.1") return "relay_denied";
  if (status == "5.1.1" || status == "5.1.0") return "unknown_recipient";
  if (status == "5.3.4" || code == "552") return "too_big";
  if (status == "4.5.3") return "too_many_recipients";
  if (status == "5.4.6") return "mail_loop";
  if (status == "5.7.0" || status == "5.7.8" || status == "5.7.9" || status == "5.7.11" || code == "535" ||
      code == "530" || code == "538")
    return "auth";
  if (status == "4.7.0" && code == "451") return "dkim";
  if (code == "421")
    return line.find("shutting down") != std::string_view::npos ? "shutdown" : "connection_limit";
  if (status == "4.3.0" || status == "4.3.2") return "temporary_failure";
  if (status.starts_with("5.6") || (status == "5.5.2" && line.find("bare") != std::string_view::npos))
    return "bad_data";
  if (status.starts_with("5.5") || code == "500" || code == "501" || code == "502" || code == "503" ||
      code == "504")
    return "protocol";
  if (status == "4.4.2") return "timeout";
  return "other";
}

void Metrics::count_rejection(std::string_view reply_line) {
  std::string reason = rejection_reason(reply_line);
  std::lock_guard lock(mutex_);
  ++rejected_[{reason, std::string(reply_line.substr(0, 3))}];
}

void Metrics::count_delivery_failure(bool bounced, std::string_view category) {
  std::lock_guard lock(mutex_);
  ++failures_[{bounced ? "bounced" : "deferred",
               std::string(category.empty() ? delivery::category::other : category)}];
}

void Metrics::count_reload(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }

void Metrics::observe_commit(std::size_t batch_size, double seconds) {
  commit_batch_.observe(static_cast<double>(batch_size));
  commit_latency_.observe(seconds);
}

std::string Metrics::render(const MetricsGauges& g) const {
  std::string out;
  out.reserve(8192);
  one(out, "ferry_smtp_connections_total", "counter", "Inbound SMTP connections accepted.",
      static_cast<double>(g.connections_total));
  one(out, "ferry_smtp_messages_accepted_total", "counter",
      "Messages accepted (250 after DATA: durably queued).", static_cast<double>(g.messages_accepted));
  family(out, "ferry_smtp_rejected_total", "counter",
         "Refused SMTP replies (4xx/5xx) by reason and reply code.");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : rejected_)
      sample(out, "ferry_smtp_rejected_total", static_cast<double>(n),
             "reason=\"" + key.first + "\",code=\"" + key.second + "\"");
  }
  family(out, "ferry_delivery_recipients_total", "counter", "Delivery attempt results per recipient.");
  sample(out, "ferry_delivery_recipients_total", static_cast<double>(g.delivered), "result=\"delivered\"");
  sample(out, "ferry_delivery_recipients_total", static_cast<double>(g.deferred), "result=\"deferred\"");
  sample(out, "ferry_delivery_recipients_total", static_cast<double>(g.bounced), "result=\"bounced\"");
  sample(out, "ferry_delivery_recipients_total", static_cast<double>(g.expired), "result=\"expired\"");
  family(out, "ferry_delivery_failures_total", "counter",
         "Deferred and bounced recipients by the category of the reply (see ferry probe / queue show).");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : failures_)
      sample(out, "ferry_delivery_failures_total", static_cast<double>(n),
             "result=\"" + key.first + "\",category=\"" + key.second + "\"");
  }
  one(out, "ferry_dsn_sent_total", "counter", "Delivery status notifications (RFC 3464 reports) queued.",
      static_cast<double>(g.reports));
  one(out, "ferry_delivery_connections_total", "counter", "Outbound SMTP connections opened.",
      static_cast<double>(g.outbound_connections_total));
  one(out, "ferry_smtp_connections_active", "gauge", "Inbound SMTP connections open now.",
      static_cast<double>(g.inbound_active));
  one(out, "ferry_delivery_connections_active", "gauge", "Outbound SMTP connections open now.",
      static_cast<double>(g.outbound_active));
  one(out, "ferry_queue_messages", "gauge", "Messages in the queue.", static_cast<double>(g.queue_messages));
  one(out, "ferry_queue_recipients", "gauge", "Recipients waiting for delivery (pending; held ones are not counted).",
      static_cast<double>(g.queue_recipients));
  one(out, "ferry_queue_oldest_message_age_seconds", "gauge", "Age of the oldest queued message.",
      g.oldest_message_age_seconds);
  one(out, "ferry_events_pending", "gauge", "Delivery events not yet acknowledged by every [[events]] sink.",
      static_cast<double>(g.events_pending));
  one(out, "ferry_queue_map_size_bytes", "gauge", "LMDB map size ([queue] max_size).",
      static_cast<double>(g.map_size));
  one(out, "ferry_queue_map_used_bytes", "gauge", "LMDB map pages in use (high-water mark minus free pages).",
      static_cast<double>(g.map_used - std::min(g.map_used, g.map_free)));
  one(out, "ferry_queue_filesystem_free_bytes", "gauge",
      "Free space on the queue's filesystem (for unprivileged users).", static_cast<double>(g.fs_free));
  one(out, "ferry_queue_accepting", "gauge",
      "1 when MAIL is accepted, 0 while the queue is short of space ([queue] min_free).",
      g.accepting ? 1 : 0);
  one(out, "ferry_queue_readable", "gauge", "1 when the queue statistics could be read.", g.queue_ok ? 1 : 0);
  family(out, "ferry_pace_rate", "gauge",
         "Messages per second allowed now per paced destination ([[pace]], halved by rate-limit replies).");
  for (const auto& [destination, rate] : g.pace_rates)
    sample(out, "ferry_pace_rate", rate, "destination=\"" + label_value(destination) + "\"");
  if (g.cluster_enabled) {
    one(out, "ferry_cluster_up", "gauge", "1 while the Redis link of [cluster] answers, 0 on local fallback.",
        g.cluster_up ? 1 : 0);
    one(out, "ferry_cluster_latency_seconds", "gauge", "Round trip of the Redis link's last PING.",
        g.cluster_latency_seconds);
  }
  family(out, "ferry_config_reloads_total", "counter", "SIGHUP reloads by result.");
  sample(out, "ferry_config_reloads_total", static_cast<double>(reloads_ok_.load()), "result=\"ok\"");
  sample(out, "ferry_config_reloads_total", static_cast<double>(reloads_failed_.load()), "result=\"failed\"");
  family(out, "ferry_suppressed_total", "counter",
         "Recipients kept from the suppression list: refused at RCPT, or failed in the queue.");
  sample(out, "ferry_suppressed_total", static_cast<double>(suppressed_rcpt_.load()), "where=\"rcpt\"");
  sample(out, "ferry_suppressed_total", static_cast<double>(suppressed_queue_.load()), "where=\"queue\"");
  delivery_delay_.render(out, "ferry_delivery_delay_seconds",
                         "Time from arrival to successful delivery, per recipient.");
  commit_batch_.render(out, "ferry_queue_commit_batch_size", "Requests per LMDB group commit.");
  commit_latency_.render(out, "ferry_queue_commit_seconds",
                         "Duration of one LMDB group commit including fsync.");
  return out;
}

}  // namespace ferry::ops
