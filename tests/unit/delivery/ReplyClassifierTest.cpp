// ReplyClassifier tables: remote replies and local/network failures → outcome + RFC 3463 status.
#include "mta/delivery/ReplyClassifier.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::delivery;

namespace {
constexpr auto D = AttemptOutcome::Delivered;
constexpr auto T = AttemptOutcome::Transient;
constexpr auto P = AttemptOutcome::Permanent;

Reply reply(int code, EnhancedStatus s = {}, std::string text = "text") {
  return Reply{code, s, std::move(text)};
}
}  // namespace

struct ReplyCase {
  Reply reply;
  AttemptOutcome outcome;
  const char* status;
};

class ReplyTable : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(ReplyTable, Classifies) {
  const auto& c = GetParam();
  Attempt a = classify_reply(c.reply, 1234);
  EXPECT_EQ(a.outcome, c.outcome);
  EXPECT_EQ(a.status, c.status);
  EXPECT_EQ(a.code, c.reply.code);
  EXPECT_EQ(a.reply, c.reply.text);
  EXPECT_EQ(a.time_ms, 1234);
  EXPECT_TRUE(a.host.empty());
}

INSTANTIATE_TEST_SUITE_P(
    deliveryReplies, ReplyTable,
    ::testing::Values(
        ReplyCase{reply(250), D, "2.0.0"}, ReplyCase{reply(250, {2, 6, 0}), D, "2.6.0"},
        ReplyCase{reply(251), D, "2.0.0"}, ReplyCase{reply(421), T, "4.0.0"},
        ReplyCase{reply(450, {4, 2, 1}), T, "4.2.1"}, ReplyCase{reply(451), T, "4.0.0"},
        ReplyCase{reply(452, {4, 5, 3}), T, "4.5.3"}, ReplyCase{reply(550, {5, 1, 1}), P, "5.1.1"},
        ReplyCase{reply(552, {5, 2, 2}), P, "5.2.2"}, ReplyCase{reply(552, {5, 3, 4}), P, "5.3.4"},
        ReplyCase{reply(554), P, "5.0.0"}, ReplyCase{reply(556, {5, 1, 10}), P, "5.1.10"},
        // class disagreeing with the basic code is corrected (RFC 3463 §2)
        ReplyCase{reply(550, {4, 1, 1}), P, "5.1.1"}, ReplyCase{reply(451, {5, 7, 1}), T, "4.7.1"},
        // unknown / malformed: transient, never a bounce (RFC 5321 §4.3.2)
        ReplyCase{reply(354), T, "4.5.0"}, ReplyCase{reply(199), T, "4.5.0"},
        ReplyCase{reply(699), T, "4.5.0"}, ReplyCase{reply(0), T, "4.5.0"},
        ReplyCase{reply(42), T, "4.5.0"}));

struct ErrorCase {
  NetworkErrorKind kind;
  std::string detail;
  AttemptOutcome outcome;
  const char* status;
  const char* text_contains;
};

class ErrorTable : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorTable, Classifies) {
  const auto& c = GetParam();
  Attempt a = classify_error(NetworkError{c.kind, c.detail}, 99);
  EXPECT_EQ(a.outcome, c.outcome) << to_string(c.kind);
  EXPECT_EQ(a.status, c.status) << to_string(c.kind);
  EXPECT_EQ(a.code, 0);
  EXPECT_NE(a.reply.find(c.text_contains), std::string::npos) << a.reply;
  if (!c.detail.empty()) {
    EXPECT_NE(a.reply.find(c.detail), std::string::npos) << a.reply;
  }
  EXPECT_EQ(a.time_ms, 99);
}

using K = NetworkErrorKind;
INSTANTIATE_TEST_SUITE_P(
    deliveryErrors, ErrorTable,
    ::testing::Values(ErrorCase{K::ConnectRefused, "", T, "4.4.1", "refused"},
                      ErrorCase{K::Timeout, "connect", T, "4.4.1", "timed out while waiting for connect"},
                      ErrorCase{K::Timeout, "greeting", T, "4.4.1", "timed out"},
                      ErrorCase{K::Timeout, "rcpt", T, "4.4.2", "timed out while waiting for rcpt"},
                      ErrorCase{K::Timeout, "data_done", T, "4.4.2", "timed out"},
                      ErrorCase{K::ConnectionDropped, "after DATA", T, "4.4.2", "connection lost"},
                      ErrorCase{K::TlsFailure, "certificate verify failed", T, "4.7.5", "TLS"},
                      ErrorCase{K::TlsNotOffered, "", T, "4.7.4", "TLS is required"},
                      ErrorCase{K::AuthFailure, "", T, "4.7.0", "authentication"},
                      ErrorCase{K::ProtocolError, "bad reply line", T, "4.5.0", "protocol"},
                      ErrorCase{K::DnsNxDomain, "nowhere.example", P, "5.1.2", "NXDOMAIN"},
                      ErrorCase{K::DnsNullMx, "example.com", P, "5.1.10", "null MX"},
                      ErrorCase{K::DnsTemporary, "SERVFAIL", T, "4.4.3", "DNS"},
                      ErrorCase{K::NoUsableMx, "", P, "5.4.4", "no MX host"},
                      ErrorCase{K::MailLoop, "", P, "5.4.6", "loops back"},
                      ErrorCase{K::EightBitUnsupported, "", P, "5.6.3", "8BITMIME"},
                      ErrorCase{K::Utf8Unsupported, "", P, "5.6.7", "SMTPUTF8"},
                      ErrorCase{K::MessageTooBig, "", P, "5.3.4", "size"},
                      ErrorCase{K::BadAddressLiteral, "[1.2.3]", P, "5.1.2", "literal"},
                      ErrorCase{K::ConfigError, "", T, "4.3.5", "configuration"},
                      ErrorCase{K::HostsUnreachable, "", T, "4.4.1", "unreachable"}));

TEST(deliveryReplyClassifier, EveryKindHasAName) {
  for (int k = 0; k <= static_cast<int>(K::HostsUnreachable); ++k)
    EXPECT_STRNE(to_string(static_cast<K>(k)), "unknown");
}

TEST(deliveryReplyClassifier, ExpiredKeepsLastReplyAsDiagnostic) {
  Attempt last;
  last.host = "mx.example.org";
  last.ip = "192.0.2.1";
  last.port = 25;
  last.code = 451;
  last.status = "4.7.1";
  last.reply = "greylisted";
  Attempt a = expired_attempt(&last, 5);
  EXPECT_EQ(a.outcome, AttemptOutcome::Expired);
  EXPECT_EQ(a.status, "4.4.7");
  EXPECT_EQ(a.code, 0);
  EXPECT_EQ(a.host, "mx.example.org");
  EXPECT_NE(a.reply.find("451 4.7.1 greylisted"), std::string::npos) << a.reply;
  Attempt none = expired_attempt(nullptr, 5);
  EXPECT_EQ(none.status, "4.4.7");
  EXPECT_EQ(none.reply, "delivery time expired");
}

TEST(deliveryReplyClassifier, StatusOf) {
  EXPECT_EQ(status_of(reply(250)).str(), "2.0.0");
  EXPECT_EQ(status_of(reply(550, {5, 7, 26})).str(), "5.7.26");
  EXPECT_EQ(outcome_of(reply(299)), D);
  EXPECT_EQ(outcome_of(reply(300)), T);
}
