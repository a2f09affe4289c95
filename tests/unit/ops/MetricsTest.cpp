// Metrics: the Prometheus text exposition (families, labels, cumulative histogram buckets) and
// the reason labels of refused replies; JSON log lines.
#include <gtest/gtest.h>

#include "mta/ops/Log.hpp"
#include "mta/ops/Metrics.hpp"

using namespace ferry::ops;

namespace {

TEST(metrics_Render, CountersGaugesAndLabels) {
  Metrics m;
  m.count_rejection("554 5.7.1 <x@example.org>: Relay access denied");
  m.count_rejection("554 5.7.1 <y@example.org>: Relay access denied");
  m.count_rejection("452 4.3.1 Insufficient system storage");
  MetricsGauges g;
  g.messages_accepted = 7;
  g.delivered = 3;
  g.queue_messages = 2;
  g.map_size = 1000;
  g.map_used = 600;
  g.map_free = 100;
  g.accepting = false;
  const std::string page = m.render(g);
  EXPECT_NE(
      page.find("# TYPE ferry_smtp_messages_accepted_total counter\nferry_smtp_messages_accepted_total 7\n"),
      std::string::npos);
  EXPECT_NE(page.find("ferry_smtp_rejected_total{reason=\"relay_denied\",code=\"554\"} 2\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("ferry_smtp_rejected_total{reason=\"queue_full\",code=\"452\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("ferry_delivery_recipients_total{result=\"delivered\"} 3\n"), std::string::npos);
  EXPECT_NE(page.find("ferry_queue_map_used_bytes 500\n"), std::string::npos)
      << "high-water minus free pages";
  EXPECT_NE(page.find("ferry_queue_accepting 0\n"), std::string::npos);
}

// Deferrals and bounces by reply category: every category is there from the start, so
// dashboards see every series.
TEST(metrics_Render, FailuresByCategoryArePreRegistered) {
  Metrics m;
  m.count_delivery_failure(false, "greylisted");
  m.count_delivery_failure(false, "greylisted");
  m.count_delivery_failure(true, "unknown_user");
  m.count_delivery_failure(true, "");  // no category known: counted as "other"
  const std::string page = m.render(MetricsGauges{});
  EXPECT_NE(page.find("# TYPE ferry_delivery_failures_total counter\n"), std::string::npos) << page;
  EXPECT_NE(page.find("ferry_delivery_failures_total{result=\"deferred\",category=\"greylisted\"} 2\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("ferry_delivery_failures_total{result=\"bounced\",category=\"unknown_user\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("ferry_delivery_failures_total{result=\"bounced\",category=\"other\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("ferry_delivery_failures_total{result=\"deferred\",category=\"spf_fail\"} 0\n"),
            std::string::npos);
  EXPECT_NE(page.find("ferry_delivery_failures_total{result=\"bounced\",category=\"dns_failure\"} 0\n"),
            std::string::npos);
}

TEST(metrics_Render, HistogramBucketsAreCumulative) {
  Histogram h({1, 5});
  h.observe(0.5);
  h.observe(3);
  h.observe(3);
  h.observe(100);
  std::string out;
  h.render(out, "x_seconds", "help");
  EXPECT_NE(out.find("# TYPE x_seconds histogram\n"), std::string::npos);
  EXPECT_NE(
      out.find(
          "x_seconds_bucket{le=\"1\"} 1\nx_seconds_bucket{le=\"5\"} 3\nx_seconds_bucket{le=\"+Inf\"} 4\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("x_seconds_sum 106.5\nx_seconds_count 4\n"), std::string::npos) << out;
}

TEST(metrics_Render, RejectionReasons) {
  EXPECT_EQ(Metrics::rejection_reason("452 4.3.1 Insufficient system storage"), "queue_full");
  EXPECT_EQ(Metrics::rejection_reason("550 5.1.1 <u@localhost>: Recipient address rejected"),
            "unknown_recipient");
  EXPECT_EQ(Metrics::rejection_reason("552 5.3.4 Error: message size exceeds fixed limit"), "too_big");
  EXPECT_EQ(Metrics::rejection_reason("530 5.7.0 Authentication required"), "auth");
  EXPECT_EQ(Metrics::rejection_reason("503 5.5.1 Error: need MAIL command"), "protocol");
  EXPECT_EQ(Metrics::rejection_reason("421 4.7.0 Too many connections, try again later"), "connection_limit");
  EXPECT_EQ(Metrics::rejection_reason("451 4.7.0 Error: message could not be signed"), "dkim");
  EXPECT_EQ(Metrics::rejection_reason("554 5.4.6 Too many hops"), "mail_loop");
  EXPECT_EQ(Metrics::rejection_reason("999 9.9.9 ?"), "other");
}

TEST(run_JsonLog, OneObjectPerLineWithQueueId) {
  EXPECT_EQ(format_json_log_line(LogLevel::Info, "1A2B3C4D5E6F7A8B: to=<a@b>, status=sent (250 \"ok\")",
                                 1704067200123),
            "{\"time\":\"2024-01-01T00:00:00.123Z\",\"level\":\"info\",\"queue_id\":\"1A2B3C4D5E6F7A8B\","
            "\"msg\":\"to=<a@b>, status=sent (250 \\\"ok\\\")\"}\n");
  EXPECT_EQ(format_json_log_line(LogLevel::Error, "tab\there\x01", 0),
            "{\"time\":\"1970-01-01T00:00:00.000Z\",\"level\":\"error\",\"msg\":\"tab\\there\\u0001\"}\n");
}

// A client's CR LF (say in an AUTH user name) never starts a line of its own, and the line is
// valid UTF-8 in both formats.
TEST(run_TextLog, ClientTextCannotInjectALine) {
  EXPECT_EQ(format_text_log_line(LogLevel::Info, "authentication failed for user bob\r\nferry: fake\xFF"),
            "ferry: authentication failed for user bob\\x0D\\x0Aferry: fake\xEF\xBF\xBD\n");
  EXPECT_EQ(format_text_log_line(LogLevel::Warning, "caf\xC3\xA9 \x1b[2J"),
            "ferry: warning: caf\xC3\xA9 \\x1B[2J\n");
  EXPECT_EQ(
      format_json_log_line(LogLevel::Info, "user \xFF\r\nx", 0),
      "{\"time\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"msg\":\"user \xEF\xBF\xBD\\r\\nx\"}\n");
}

}  // namespace

namespace {

TEST(metrics_Render, SuppressedByWhere) {
  Metrics m;
  m.count_suppressed(true);
  m.count_suppressed(true);
  m.count_suppressed(false);
  const std::string page = m.render(MetricsGauges{});
  EXPECT_NE(page.find("# TYPE ferry_suppressed_total counter\n"), std::string::npos) << page;
  EXPECT_NE(page.find("ferry_suppressed_total{where=\"rcpt\"} 2\n"), std::string::npos) << page;
  EXPECT_NE(page.find("ferry_suppressed_total{where=\"queue\"} 1\n"), std::string::npos) << page;
}

// [[pace]]: one gauge sample per paced destination, its name escaped as a label value.
TEST(metrics_Render, PaceRatePerDestination) {
  Metrics m;
  MetricsGauges g;
  g.pace_rates = {{"mx:*.google.com", 2.5}, {"yahoo.com", 10}, {"odd\"name\\\n", 1}};
  const std::string page = m.render(g);
  EXPECT_NE(page.find("# TYPE ferry_pace_rate gauge\n"), std::string::npos) << page;
  EXPECT_NE(page.find("ferry_pace_rate{destination=\"mx:*.google.com\"} 2.5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("ferry_pace_rate{destination=\"yahoo.com\"} 10\n"), std::string::npos) << page;
  EXPECT_NE(page.find("ferry_pace_rate{destination=\"odd\\\"name\\\\\\n\"} 1\n"), std::string::npos) << page;
}

}  // namespace
