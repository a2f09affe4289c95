// AttemptText: the relay= and reply notation shared by the delivery log and `ferry queue`.
#include "mta/delivery/AttemptText.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::delivery;

namespace {

Attempt attempt(std::string host, std::string ip, std::uint16_t port) {
  Attempt a;
  a.host = std::move(host);
  a.ip = std::move(ip);
  a.port = port;
  return a;
}

TEST(deliveryAttemptText, RelayInPostfixNotation) {
  EXPECT_EQ(relay_text(attempt("mx.example.org", "192.0.2.1", 25)), "mx.example.org[192.0.2.1]:25");
  EXPECT_EQ(relay_text(attempt("", "192.0.2.1", 25)), "192.0.2.1:25");
  EXPECT_EQ(relay_text(attempt("[192.0.2.1]", "192.0.2.1", 2525)), "[192.0.2.1]:2525");
  EXPECT_EQ(relay_text(attempt("192.0.2.1", "192.0.2.1", 0)), "192.0.2.1");
  EXPECT_EQ(relay_text(attempt("mx.example.org", "", 0)), "mx.example.org");
  EXPECT_EQ(relay_text(attempt("", "", 25)), "none");
}

TEST(deliveryAttemptText, ReplyOnOneLineWithoutRepeatingTheStatus) {
  Attempt a;
  a.code = 451;
  a.status = "4.7.1";
  a.reply = "Greylisted,\r\nplease try later";
  EXPECT_EQ(reply_text(a), "451 4.7.1 Greylisted,  please try later");
  a.reply = "4.7.1 Greylisted";
  EXPECT_EQ(reply_text(a), "451 4.7.1 Greylisted") << "the status is not repeated";
  Attempt local;
  local.status = "4.4.1";
  local.reply = "connection refused";
  EXPECT_EQ(reply_text(local), "4.4.1 connection refused") << "no code: a local error";
}

}  // namespace
