// EventJsonTest: the JSON of delivery events (fields, categories, hostile strings escaped).
#include "mta/events/EventJson.hpp"

#include <gtest/gtest.h>

namespace ferry::events {
namespace {

DeliveryEvent bounced() {
  DeliveryEvent e;
  e.seq = 42;
  e.time_ms = 1'765'152'000'123;  // 2025-12-08T00:00:00.123Z
  e.kind = EventKind::Bounced;
  e.id = QueueId{0x0123456789ABCDEF};
  e.message_id = "m1@example.org";
  e.sender = "app@example.org";
  e.recipient = "nobody@example.net";
  e.attempts = 1;
  Attempt a;
  a.outcome = AttemptOutcome::Permanent;
  a.host = "mx.example.net";
  a.ip = "192.0.2.1";
  a.code = 550;
  a.status = "5.1.1";
  a.reply = "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown";
  a.tls = "TLSv1.3/TLS_AES_256_GCM_SHA384";
  e.attempt = a;
  return e;
}

TEST(event_json, DeliveryResultHasEveryField) {
  EXPECT_EQ(event_json(bounced()),
            "{\"id\":\"0123456789ABCDEF-000000000000002a\",\"seq\":42,\"time\":\"2025-12-08T00:00:00.123Z\","
            "\"status\":\"bounced\",\"queue_id\":\"0123456789ABCDEF\",\"message_id\":\"m1@example.org\","
            "\"sender\":\"app@example.org\",\"recipient\":\"nobody@example.net\",\"attempt\":1,\"code\":550,"
            "\"enhanced_code\":\"5.1.1\",\"category\":\"unknown_user\",\"remote_host\":\"mx.example.net\","
            "\"remote_ip\":\"192.0.2.1\",\"tls\":\"TLSv1.3/TLS_AES_256_GCM_SHA384\",\"reply\":\"550 5.1.1 "
            "<nobody@example.net>: Recipient address rejected: User unknown\"}");
}

TEST(event_json, StateChangesWithoutAnAttemptCarryNoReplyFields) {
  struct Row {
    EventKind kind;
    std::string status;
  };
  const Row rows[] = {{EventKind::Received, "received"},
                      {EventKind::Held, "held"},
                      {EventKind::Released, "released"},
                      {EventKind::Deleted, "deleted"},
                      {EventKind::DelayWarning, "delay_warning"}};
  for (const auto& r : rows) {
    DeliveryEvent e = bounced();
    e.kind = r.kind;
    e.attempt.reset();
    const std::string j = event_json(e);
    EXPECT_NE(j.find("\"status\":\"" + r.status + "\""), std::string::npos) << j;
    EXPECT_EQ(j.find("\"reply\""), std::string::npos) << j;
    EXPECT_EQ(j.find("\"category\""), std::string::npos) << j;
  }
}

TEST(event_json, HostileStringsAreEscaped) {
  DeliveryEvent e = bounced();
  e.attempt->reply = "550 \"quoted\"\r\nX-Injected: 1\\ \x01\xff end";
  e.recipient = "a\"b@x";
  e.message_id = "<\n>";
  const std::string j = event_json(e);
  EXPECT_NE(j.find("\"reply\":\"550 \\\"quoted\\\"\\r\\nX-Injected: 1\\\\ \\u0001\xef\xbf\xbd end\""),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"recipient\":\"a\\\"b@x\""), std::string::npos);
  EXPECT_NE(j.find("\"message_id\":\"<\\n>\""), std::string::npos);
  EXPECT_EQ(j.find('\n'), std::string::npos);
  EXPECT_EQ(j.find('\r'), std::string::npos);
}

TEST(event_json, CategoriesComeFromTheClassifier) {
  struct Row {
    AttemptOutcome outcome;
    int code;
    std::string status, reply, category;
  };
  const Row rows[] = {
      {AttemptOutcome::Delivered, 250, "2.0.0", "250 2.0.0 Ok: queued as X", ""},
      {AttemptOutcome::Transient, 421, "4.7.0", "421 4.7.0 Try again later, rate limited", "rate_limited"},
      {AttemptOutcome::Transient, 451, "4.7.1", "451 4.7.1 Greylisted, please try again later", "greylisted"},
      {AttemptOutcome::Permanent, 552, "5.2.2", "552 5.2.2 Mailbox full", "mailbox_full"},
  };
  for (const auto& r : rows) {
    DeliveryEvent e = bounced();
    e.attempt->outcome = r.outcome;
    e.attempt->code = r.code;
    e.attempt->status = r.status;
    e.attempt->reply = r.reply;
    EXPECT_NE(event_json(e).find("\"category\":\"" + r.category + "\""), std::string::npos) << r.reply;
  }
}

TEST(event_json, BatchIsAnArrayInOrder) {
  DeliveryEvent a = bounced(), b = bounced();
  b.seq = 43;
  const DeliveryEvent list[] = {a, b};
  const std::string j = batch_json(list);
  EXPECT_TRUE(j.starts_with("{\"events\":[{\"id\":\"0123456789ABCDEF-000000000000002a\""));
  EXPECT_NE(j.find("},{\"id\":\"0123456789ABCDEF-000000000000002b\""), std::string::npos);
  EXPECT_TRUE(j.ends_with("}]}"));
  EXPECT_EQ(batch_json({}), "{\"events\":[]}");
}

TEST(event_json, Rfc3339) {
  EXPECT_EQ(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_ms(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(rfc3339_ms(1'798'761'599'999), "2026-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace ferry::events
