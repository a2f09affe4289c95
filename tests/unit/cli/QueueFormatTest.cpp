// Tests for QueueFormat and JsonWriter: the `ferry queue list/show` renderings.
#include <gtest/gtest.h>

#include "ferry/JsonWriter.hpp"
#include "mta/cli/QueueFormat.hpp"
#include "mta/submit/MessageJson.hpp"

namespace ferry::cli {
namespace {

queue::MessageRecord sample() {
  queue::MessageRecord m;
  m.id = QueueId{0x0123456789ABCDEFull};
  m.envelope.reverse_path = "alice@example.com";
  m.envelope.arrival_ms = 1796000000000;  // 2026-11-30T...
  m.envelope.size = 2048;
  m.envelope.envid = "env-1";
  m.envelope.ret = DsnRet::Hdrs;
  m.envelope.client = {"192.0.2.7", "client.example.com", "", "ESMTPS"};
  m.envelope.recipients = {{"bob@example.org", "rfc822;bob@example.org", kNotifyFailure | kNotifyDelay},
                           {"carol@example.net", "", kNotifyUnspecified}};
  queue::RecipientRecord r0;
  r0.index = 0;
  r0.attempts = 2;
  r0.next_attempt_ms = 1796000600000;
  Attempt a;
  a.time_ms = 1796000300000;
  a.outcome = AttemptOutcome::Transient;
  a.host = "mx.example.org";
  a.ip = "127.0.0.2";
  a.port = 25;
  a.code = 451;
  a.status = "4.7.1";
  a.reply = "Greylisted, \"try\" later";
  r0.last = a;
  r0.history = {a};
  queue::RecipientRecord r1;
  r1.index = 1;
  r1.state = RecipientState::Held;
  m.recipients = {r0, r1};
  return m;
}

TEST(QueueFormat, TimeIsIsoUtc) {
  EXPECT_EQ(format_time(0), "-");
  EXPECT_EQ(format_time(1000), "1970-01-01T00:00:01Z");
}

TEST(QueueFormat, ListShowsEveryRecipientWithStateAttemptsAndLastReply) {
  std::string text = format_list_text({sample()});
  EXPECT_NE(text.find("0123456789ABCDEF"), std::string::npos);
  EXPECT_NE(text.find("<alice@example.com>"), std::string::npos);
  EXPECT_NE(text.find("bob@example.org  pending  attempts=2  next="), std::string::npos);
  EXPECT_NE(text.find("carol@example.net  held"), std::string::npos);
  EXPECT_NE(text.find("mx.example.org[127.0.0.2]:25: 451 4.7.1 Greylisted"), std::string::npos);
  EXPECT_NE(text.find("-- 2 Kbytes in 1 Request."), std::string::npos);
}

TEST(QueueFormat, EmptyListSaysSo) { EXPECT_EQ(format_list_text({}), "Mail queue is empty\n"); }

TEST(QueueFormat, JsonListEscapesAndCarriesFields) {
  std::string json = format_list_json({sample()});
  EXPECT_EQ(json.front(), '[');
  EXPECT_NE(json.find("\"id\":\"0123456789ABCDEF\""), std::string::npos);
  EXPECT_NE(json.find("\"state\":\"held\""), std::string::npos);
  EXPECT_NE(json.find("Greylisted, \\\"try\\\" later"), std::string::npos);
  EXPECT_NE(json.find("\"last_attempt\":null"), std::string::npos);
}

TEST(QueueFormat, ShowHasEnvelopeHistoryAndHeadersOnly) {
  std::string body = "Subject: hi\r\nFrom: a@b\r\n\r\nsecret body\r\n";
  std::string text = format_show_text(sample(), body);
  EXPECT_NE(text.find("DSN ENVID:   env-1"), std::string::npos);
  EXPECT_NE(text.find("NOTIFY=FAILURE,DELAY"), std::string::npos);
  EXPECT_NE(text.find("ORCPT=rfc822;bob@example.org"), std::string::npos);
  EXPECT_NE(text.find("deferred mx.example.org[127.0.0.2]:25: 451 4.7.1"), std::string::npos);
  EXPECT_NE(text.find("Subject: hi"), std::string::npos);
  EXPECT_EQ(text.find("secret body"), std::string::npos);
  std::string json = format_show_json(sample(), body);
  EXPECT_NE(json.find("\"headers\":\"Subject: hi\\r\\nFrom: a@b\\r\\n\"}"), std::string::npos);
  EXPECT_NE(json.find("\"history\":[{"), std::string::npos);
}

// Text output goes to a terminal: client- and remote-supplied strings are escaped (an ESC
// sequence, a CR, Latin-1 bytes), the header section keeps one line per header line.
TEST(QueueFormat, TextOutputEscapesClientAndRemoteText) {
  auto m = sample();
  m.envelope.client.helo = "evil\x1b]0;owned\x07";
  m.envelope.client.auth_user = "bob\r\nQueue ID:    FAKE";
  m.recipients[0].history[0].reply = "Greylisted\x1b[2J \xFF";
  m.recipients[0].last = m.recipients[0].history[0];
  const std::string body = "Subject: \x1b[31mred\r\nX-Bin: \xE9t\xE9\r\n\r\nbody\r\n";
  for (const std::string& text : {format_show_text(m, body), format_list_text({m})}) {
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
    EXPECT_EQ(text.find('\r'), std::string::npos) << text;
    EXPECT_NE(text.find("Greylisted\\x1B[2J \xEF\xBF\xBD"), std::string::npos) << text;
  }
  const std::string show = format_show_text(m, body);
  EXPECT_NE(show.find("(helo evil\\x1B]0;owned\\x07) auth=bob\\x0D\\x0AQueue ID:    FAKE"), std::string::npos)
      << show;
  EXPECT_NE(show.find("\nSubject: \\x1B[31mred\nX-Bin: \xEF\xBF\xBDt\xEF\xBF\xBD\n"), std::string::npos)
      << show;
  // JSON output stays valid JSON: escapes and U+FFFD, no raw control or stray bytes.
  const std::string json = format_show_json(m, body);
  EXPECT_EQ(json.find('\x1b'), std::string::npos);
  EXPECT_EQ(json.find('\xFF'), std::string::npos);
}

TEST(categoryQueueShow, ExplainsEveryAttemptWithCategoryAdviceAndNextRetry) {
  auto m = sample();
  std::string text = format_show_text(m, "Subject: x\r\n\r\nbody\r\n");
  // the sample's 451 4.7.1 greylisting deferral
  EXPECT_NE(text.find("      category: greylisted: Greylisting"), std::string::npos) << text;
  EXPECT_NE(text.find("    next retry: 2026-11-30T"), std::string::npos) << text;
  std::string json = format_show_json(m, "");
  EXPECT_NE(json.find("\"category\":\"greylisted\",\"advice\":\"Greylisting"), std::string::npos) << json;

  Attempt bounced;
  bounced.time_ms = 1700000000000;
  bounced.outcome = AttemptOutcome::Permanent;
  bounced.host = "mx.example.org";
  bounced.code = 554;
  bounced.status = "5.7.1";
  bounced.reply = "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org";
  m.recipients[0].history.push_back(bounced);
  text = format_show_text(m, "");
  EXPECT_NE(text.find("category: blocklisted_ip (Spamhaus): "), std::string::npos) << text;
  Attempt ok = bounced;
  ok.outcome = AttemptOutcome::Delivered;
  ok.code = 250;
  ok.status = "2.0.0";
  m.recipients[0].history = {ok};
  EXPECT_NE(format_show_json(m, "").find("\"category\":null"), std::string::npos);
}

// Each attempt shows the TLS of its connection; none is shown when none was recorded.
TEST(categoryQueueShow, EveryAttemptShowsItsTlsResult) {
  auto m = sample();
  m.recipients[0].history[0].tls = "TLSv1.3/TLS_AES_256_GCM_SHA384";
  Attempt plain = m.recipients[0].history[0];
  plain.tls = "none";
  Attempt dns = plain;
  dns.tls.clear();
  dns.host.clear();
  dns.ip.clear();
  m.recipients[0].history.push_back(plain);
  m.recipients[0].history.push_back(dns);
  const std::string text = format_show_text(m, "");
  EXPECT_NE(text.find("mx.example.org[127.0.0.2]:25 tls=TLSv1.3/TLS_AES_256_GCM_SHA384: 451 4.7.1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mx.example.org[127.0.0.2]:25 tls=none: 451"), std::string::npos) << text;
  EXPECT_NE(text.find(" none: 451"), std::string::npos) << text;  // no connection: no tls= at all
  const std::string json = format_show_json(m, "");
  EXPECT_NE(json.find("\"tls\":\"TLSv1.3/TLS_AES_256_GCM_SHA384\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"tls\":\"none\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"tls\":null"), std::string::npos) << json;
}

TEST(QueueFormat, HeaderSectionStopsAtFirstEmptyLine) {
  EXPECT_EQ(ferry::submit::header_section("A: 1\r\nB: 2\r\n\r\nbody"), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(ferry::submit::header_section("A: 1\n\nbody"), "A: 1\n");
  EXPECT_EQ(ferry::submit::header_section("\r\nbody"), "");
  EXPECT_EQ(ferry::submit::header_section("A: 1\r\n"), "A: 1\r\n");
}

TEST(JsonWriter, EscapesControlCharacters) {
  EXPECT_EQ(JsonWriter::escape(std::string("a\x01\t\xc3\xa9", 5)), "\"a\\u0001\\t\xc3\xa9\"");
  JsonWriter j;
  j.begin_object().key("a").value(1).key("b").begin_array().value(true).null().end_array().end_object();
  EXPECT_EQ(j.str(), "{\"a\":1,\"b\":[true,null]}");
}

}  // namespace
}  // namespace ferry::cli
