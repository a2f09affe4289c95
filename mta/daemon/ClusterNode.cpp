// ClusterNode: see ClusterNode.hpp.
#include "mta/daemon/ClusterNode.hpp"

#include <boost/asio/post.hpp>
#include <memory>
#include <utility>

#include "mta/cluster/NodeRecord.hpp"

namespace ferry::daemon {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The pause before retrying a heartbeat that failed: short, so a node shows up soon after
// Redis does, but never more often than the heartbeat itself.
std::chrono::milliseconds retry_after(std::chrono::milliseconds heartbeat) {
  return std::min(heartbeat, std::chrono::milliseconds(250));
}

}  // namespace

ClusterNode::ClusterNode(boost::asio::io_context& io, const config::ClusterSection& cluster,
                         std::string node_name, std::string password, std::function<NodeFigures()> figures)
    : io_(io),
      cluster_(cluster),
      node_name_(std::move(node_name)),
      figures_(std::move(figures)),
      link_(cluster::LinkOptions{cluster.endpoint, std::move(password), cluster.timeout}),
      timer_(io) {}

ClusterNode::~ClusterNode() { stop(); }

void ClusterNode::start() {
  started_at_ = unix_now();
  last_beat_ = std::chrono::steady_clock::now();
  link_.start();
  arm(retry_after(cluster_.heartbeat));
}

void ClusterNode::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  link_.stop();
}

void ClusterNode::arm(std::chrono::milliseconds after) {
  if (stopped_) return;
  timer_.expires_after(after);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) beat();
  });
}

void ClusterNode::beat() {
  const NodeFigures f = figures_();
  const auto now = std::chrono::steady_clock::now();
  const double minutes = std::chrono::duration<double>(now - last_beat_).count() / 60.0;
  cluster::NodeRecord record;
  record.name = node_name_;
  record.queue_messages = f.queue_messages;
  record.queue_recipients = f.queue_recipients;
  const std::uint64_t delivered = f.delivered_total - std::min(f.delivered_total, last_delivered_);
  record.deliveries_per_minute =
      minutes > 0 ? static_cast<std::uint64_t>(static_cast<double>(delivered) / minutes) : 0;
  record.version = "0.1.0";
  record.started_at = started_at_;
  record.updated_at = unix_now();
  auto commands = cluster::encode_heartbeat(record, 3 * cluster_.heartbeat);
  // The reply arrives on the link's thread; the next beat is armed back on the I/O thread.
  link_.submit(std::move(commands), cluster::LinkClock::now() + cluster_.timeout,
               [this, delivered_total = f.delivered_total, now](cluster::Replies r) {
                 const bool ok = r && !r->empty() && !r->back().is_error();
                 boost::asio::post(io_, [this, ok, delivered_total, now] {
                   if (ok) last_delivered_ = delivered_total, last_beat_ = now;
                   if (ok && !unpublished_.empty()) publish(std::exchange(unpublished_, {}));
                   arm(ok ? cluster_.heartbeat : retry_after(cluster_.heartbeat));
                 });
               });
}

void ClusterNode::publish(std::vector<cluster::SuppressionEvent> events) {
  for (auto& ev : events) {
    ev.node = node_name_;
    auto cmd = cluster::encode_suppression_event(ev);
    link_.submit({std::move(cmd)}, cluster::LinkClock::now() + cluster_.timeout,
                 [this, ev](cluster::Replies r) mutable {
                   if (r && !r->empty() && !r->front().is_error()) return;
                   boost::asio::post(io_, [this, ev = std::move(ev)]() mutable {
                     if (unpublished_.size() < kMaxUnpublished) unpublished_.push_back(std::move(ev));
                   });
                 });
  }
}

}  // namespace ferry::daemon
