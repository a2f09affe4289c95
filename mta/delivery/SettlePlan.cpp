// SettlePlan: see SettlePlan.hpp. Each failed or deferred result is classified once, and that
// category serves its report row, its log line and its metric event alike.
#include "mta/delivery/SettlePlan.hpp"

#include <algorithm>
#include <cstdio>

#include "mta/delivery/AttemptText.hpp"
#include "mta/delivery/ReplyClassifier.hpp"

namespace ferry::delivery {

namespace {

ReportRow row_for(const SettledRecipient& r, std::optional<Attempt> last_transient) {
  ReportRow row;
  row.index = r.index;
  row.attempt = r.attempt;
  row.last_transient = std::move(last_transient);
  row.category = r.category;
  return row;
}

// The retry draw shared by the deferred recipients of one settle: a new draw only when the
// attempt count differs, so recipients tried together are retried together.
struct RetryDraw {
  std::optional<TimeMs> next;
  std::uint32_t attempts = 0;
};

struct Rows {
  std::vector<ReportRow> failed, delayed, succeeded;
};

// A greylisted recipient is retried after the fixed greylist delay instead of the doubling
// schedule (never after its expiry); its destination is not slowed down for it.
TimeMs greylist_retry(const SettleMessage& message, TimeMs now, const RetrySchedule& retry) {
  const TimeMs delay = std::max<TimeMs>(retry.policy().greylist_ms, retry.policy().min_interval_ms);
  return std::min(now + delay, retry.expires_at(message.envelope->arrival_ms));
}

// Settles one result: fills `r` (outcome, retry time, category) and adds its report row.
void settle_one(const SettleMessage& message, SettledRecipient& r, TimeMs now, const RetrySchedule& retry,
                const RandomSource& rand, RetryDraw& draw, Rows& rows, bool remote_dsn) {
  Attempt& attempt = r.attempt;
  const bool known = r.index < message.recipients.size();
  std::optional<Attempt> last_transient;
  if (attempt.outcome == AttemptOutcome::Transient || attempt.outcome == AttemptOutcome::Started) {
    attempt.outcome = AttemptOutcome::Transient;
    const std::uint32_t attempts = known ? message.recipients[r.index].attempts + 1 : 1;
    if (!draw.next || attempts != draw.attempts) {
      draw.next = retry.next_attempt(message.envelope->arrival_ms, attempts, now, rand);
      draw.attempts = attempts;
    }
    if (draw.next) {
      r.next_attempt_ms = *draw.next;
      r.category = classify_reply_category(attempt);
      if (r.category.category == category::greylisted)
        r.next_attempt_ms = greylist_retry(message, now, retry);
      rows.delayed.push_back(row_for(r, std::nullopt));
    } else {
      last_transient = attempt;
      attempt = expired_attempt(&attempt, now);
    }
  } else if (attempt.outcome == AttemptOutcome::Expired && known && message.recipients[r.index].last) {
    last_transient = message.recipients[r.index].last;
  }
  if (attempt.outcome == AttemptOutcome::Permanent || attempt.outcome == AttemptOutcome::Expired) {
    r.category = classify_reply_category(attempt);
    rows.failed.push_back(row_for(r, std::move(last_transient)));
  }
  // NOTIFY=SUCCESS: when the next hop speaks DSN it got NOTIFY and reports itself; otherwise we
  // owe the "relayed" report (RFC 3461 §5.2.2).
  if (attempt.outcome == AttemptOutcome::Delivered && !remote_dsn) {
    ReportRow row = row_for(r, std::nullopt);
    row.relayed = true;
    rows.succeeded.push_back(std::move(row));
  }
}

// One delay warning per message, once it has waited delay_warning (0 disables).
bool delay_warning_due(const SettleMessage& message, TimeMs now, const BounceRules& bounce) {
  return bounce.delay_warning_ms > 0 && message.delay_warning_sent_ms == 0 &&
         now - message.envelope->arrival_ms >= bounce.delay_warning_ms;
}

MetricEvent metric_for(const SettledRecipient& r, double delay_seconds) {
  switch (r.attempt.outcome) {
    case AttemptOutcome::Delivered:
      return {SettleEvent::Delivered, delay_seconds, {}};
    case AttemptOutcome::Transient:
      return {SettleEvent::Deferred, delay_seconds, r.category.category};
    case AttemptOutcome::Expired:
      return {SettleEvent::Expired, delay_seconds, r.category.category};
    default:
      return {SettleEvent::Bounced, delay_seconds, r.category.category};
  }
}

// The suppression entries of the hard failures (see suppresses()), with a log note each.
void plan_suppressions(const SettleMessage& message, TimeMs now, SettlePlan& plan) {
  const Envelope& env = *message.envelope;
  for (const auto& r : plan.results) {
    if (!suppresses(r) || r.index >= env.recipients.size()) continue;
    SuppressionEntry e;
    e.address = suppression_key(env.recipients[r.index].address);
    e.category = std::string(r.category.category);
    e.status = r.attempt.status;
    e.reply = suppression_reply_text(reply_text(r.attempt));
    e.time_ms = now;
    e.queue_id = message.queue_id;
    e.source = SuppressionSource::Bounce;
    plan.notes.push_back(message.queue_id.str() + ": to=<" + e.address + ">, suppressed (" + e.category +
                         ", dsn=" + (e.status.empty() ? std::string("-") : e.status) + ")");
    plan.suppressions.push_back(std::move(e));
  }
}

void plan_effects(const SettleMessage& message, TimeMs now, SettlePlan& plan) {
  const Envelope& env = *message.envelope;
  const double delay_seconds = static_cast<double>(now - env.arrival_ms) / 1000.0;
  for (const auto& r : plan.results) {
    const std::string_view rcpt = r.index < env.recipients.size()
                                      ? std::string_view(env.recipients[r.index].address)
                                      : std::string_view();
    plan.log_lines.push_back(settle_log_line(message.queue_id, rcpt, r, env.arrival_ms, now));
    plan.metrics.push_back(metric_for(r, delay_seconds));
    if (r.attempt.outcome == AttemptOutcome::Transient)
      plan.reschedules.push_back({r.index, r.next_attempt_ms});
    if (r.attempt.outcome == AttemptOutcome::Delivered) plan.delivered_any = true;
  }
}

}  // namespace

SettlePlan plan_settle(const SettleMessage& message, SettleResults results, TimeMs now,
                       const RetrySchedule& retry, const BounceRules& bounce, const RandomSource& rand) {
  SettlePlan plan;
  plan.now_ms = now;
  RetryDraw draw;
  Rows rows;
  for (auto& [index, attempt] : results.results) {
    SettledRecipient r;
    r.index = index;
    // Not tried: an attempt that began now and got no reply (Started, so Transient below).
    if (attempt) {
      r.attempt = std::move(*attempt);
    } else {
      r.attempt = Attempt{};
      r.attempt.time_ms = now;
    }
    // Kept per attempt for `ferry queue show`: only when a connection was made.
    if (!r.attempt.ip.empty() && r.attempt.tls.empty()) r.attempt.tls = std::string(results.tls_info);
    settle_one(message, r, now, retry, rand, draw, rows, results.remote_dsn);
    r.suppressed = results.suppressed && r.attempt.outcome == AttemptOutcome::Permanent;
    plan.results.push_back(std::move(r));
  }
  // Recipients failing (or delivered, or delayed) together share one report.
  const bool any_failed = !rows.failed.empty();
  if (!rows.failed.empty()) plan.reports.push_back({ReportKind::Failure, std::move(rows.failed), 0});
  if (!rows.succeeded.empty()) plan.reports.push_back({ReportKind::Success, std::move(rows.succeeded), 0});
  if (!rows.delayed.empty() && delay_warning_due(message, now, bounce))
    plan.reports.push_back(
        {ReportKind::Delay, std::move(rows.delayed), retry.expires_at(message.envelope->arrival_ms)});
  if (any_failed && message.envelope->is_bounce() && !bounce.postmaster_set)
    plan.notes.push_back(message.queue_id.str() +
                         ": undeliverable report (from <>) dropped: no report about a report "
                         "(RFC 5321 §4.5.5); set [bounce] postmaster to receive these");
  if (bounce.record_suppressions) plan_suppressions(message, now, plan);
  plan_effects(message, now, plan);
  return plan;
}

bool suppresses(const SettledRecipient& r) {
  if (r.suppressed || r.attempt.outcome != AttemptOutcome::Permanent) return false;
  const std::string_view c = r.category.category;
  return c == category::unknown_user || c == category::mailbox_disabled || c == category::bad_domain;
}

std::string settle_log_line(QueueId queue_id, std::string_view rcpt, const SettledRecipient& r,
                            TimeMs arrival_ms, TimeMs now) {
  const Attempt& a = r.attempt;
  const char* status = a.outcome == AttemptOutcome::Delivered   ? "sent"
                       : a.outcome == AttemptOutcome::Transient ? "deferred"
                       : a.outcome == AttemptOutcome::Expired   ? "expired"
                                                                : "bounced";
  char delay[32];
  std::snprintf(delay, sizeof delay, "%.1f", static_cast<double>(now - arrival_ms) / 1000.0);
  std::string line = queue_id.str();
  line += ": to=<" + std::string(rcpt) + ">, relay=" + relay_text(a) + ", delay=" + delay;
  line += ", tls=" + (a.tls.empty() ? std::string("none") : a.tls);
  line += ", category=" + (r.category.category.empty() ? std::string("-") : std::string(r.category.category));
  line += ", dsn=" + (a.status.empty() ? std::string("-") : a.status);
  line += ", status=" + std::string(status) + " (" + reply_text(a) + ")";
  return line;
}

}  // namespace ferry::delivery
