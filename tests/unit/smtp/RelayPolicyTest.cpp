// RelayPolicy: never an open relay; local domains, aliases, postmaster, relay domains.
#include <gtest/gtest.h>

#include "mta/smtp/RelayPolicy.hpp"

using namespace ferry::smtp;
using Kind = RecipientDecision::Kind;

namespace {

RelayPolicy policy() {
  RelayRules rules;
  rules.local_domains = {"example.org", "localhost"};
  rules.aliases = {{"root", "admin@example.com"}, {"Sales@example.org", "team@example.net"}};
  rules.relay_domains = {"backup.example"};
  return RelayPolicy(rules);
}

struct Case {
  const char* address;
  bool networks;
  bool auth;
  Kind kind;
  const char* result;  // rewritten address or reply status
};

class smtp_RelayTable : public ::testing::TestWithParam<Case> {};

TEST_P(smtp_RelayTable, Decides) {
  const Case& c = GetParam();
  auto d = policy().decide(c.address, c.networks, c.auth);
  EXPECT_EQ(d.kind, c.kind) << c.address;
  if (c.kind == Kind::Rewrite) {
    EXPECT_EQ(d.address, c.result) << c.address;
  }
  if (c.kind == Kind::Reject) {
    EXPECT_EQ(d.reply.status.str(), c.result) << c.address << ": " << d.reply.text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Decisions, smtp_RelayTable,
    ::testing::Values(
        // Not an open relay: remote domain from an outside, unauthenticated client.
        Case{"user@remote.example", false, false, Kind::Reject, "5.7.1"},
        Case{"user@remote.example", true, false, Kind::Accept, ""},
        Case{"user@remote.example", false, true, Kind::Accept, ""},
        Case{"user@REMOTE.example", true, true, Kind::Accept, ""},
        // Relay domains: anyone.
        Case{"user@backup.example", false, false, Kind::Accept, ""},
        Case{"user@Backup.Example", false, false, Kind::Accept, ""},
        Case{"user@sub.backup.example", false, false, Kind::Reject, "5.7.1"},  // exact match only
        // Local domains: aliases only, from anyone; unknown users 5.1.1 even for relay clients.
        Case{"root@example.org", false, false, Kind::Rewrite, "admin@example.com"},
        Case{"ROOT@localhost", false, false, Kind::Rewrite, "admin@example.com"},
        Case{"sales@EXAMPLE.org", false, false, Kind::Rewrite, "team@example.net"},
        Case{"sales@localhost", false, false, Kind::Reject, "5.1.1"},  // full-address alias only
        Case{"nobody@example.org", false, false, Kind::Reject, "5.1.1"},
        Case{"nobody@example.org", true, true, Kind::Reject, "5.1.1"},
        // Postmaster: always (RFC 5321 §4.5.1).
        Case{"postmaster@example.org", false, false, Kind::Accept, ""},
        Case{"PostMaster@localhost", false, false, Kind::Accept, ""},
        Case{"postmaster", false, false, Kind::Rewrite, "postmaster@example.org"},
        Case{"postmaster@remote.example", false, false, Kind::Reject, "5.7.1"},
        // Sender-specified routing through a relay domain: only for trusted clients.
        Case{"u%evil.example@backup.example", false, false, Kind::Reject, "5.7.1"},
        Case{"u!evil.example@backup.example", false, false, Kind::Reject, "5.7.1"},
        Case{"\"u@evil.example\"@backup.example", false, false, Kind::Reject, "5.7.1"},
        Case{"u%evil.example@backup.example", true, false, Kind::Accept, ""},
        Case{"u!evil.example@backup.example", false, true, Kind::Accept, ""},
        Case{"\"u@evil.example\"@backup.example", true, true, Kind::Accept, ""},
        Case{"\"u x\"@backup.example", false, false, Kind::Accept, ""}));

TEST(smtp_RelayPolicy, UntrustedRoutingIs550) {
  auto d = policy().decide("u%evil.example@backup.example", false, false);
  EXPECT_EQ(d.reply.code, 550);
  EXPECT_EQ(d.reply.text, "<u%evil.example@backup.example>: Relay access denied (sender-specified routing)");
}

TEST(smtp_RelayPolicy, RejectTexts) {
  auto d = policy().decide("user@remote.example", false, false);
  EXPECT_EQ(d.reply.code, 554);
  EXPECT_EQ(d.reply.text, "<user@remote.example>: Relay access denied");
  auto u = policy().decide("nobody@example.org", false, false);
  EXPECT_EQ(u.reply.code, 550);
}

TEST(smtp_RelayPolicy, PostmasterAliasWins) {
  RelayRules rules;
  rules.local_domains = {"example.org"};
  rules.aliases = {{"postmaster", "ops@example.net"}};
  RelayPolicy p(rules);
  auto d = p.decide("Postmaster", false, false);
  EXPECT_EQ(d.kind, Kind::Rewrite);
  EXPECT_EQ(d.address, "ops@example.net");
}

// [local] admin: every local recipient without an alias reaches the admin, marked for its
// X-Original-To: field; aliases still win; other domains are untouched.
TEST(smtp_RelayPolicy, AdminTakesLocalRecipientsWithoutAnAlias) {
  RelayRules rules;
  rules.local_domains = {"vm", "localhost"};
  rules.aliases = {{"abuse", "abuse-desk@example.net"}};
  rules.admin = "ops@example.com";
  RelayPolicy p(rules);
  struct Row {
    const char* address;
    bool trusted;
    Kind kind;
    const char* to;
    bool original_to;
  };
  for (const Row& r : {Row{"root@vm", true, Kind::Rewrite, "ops@example.com", true},
                       Row{"ROOT@LOCALHOST", false, Kind::Rewrite, "ops@example.com", true},
                       Row{"www-data@vm", true, Kind::Rewrite, "ops@example.com", true},
                       Row{"postmaster@vm", false, Kind::Rewrite, "ops@example.com", true},
                       Row{"postmaster", false, Kind::Rewrite, "ops@example.com", true},
                       Row{"abuse@vm", false, Kind::Rewrite, "abuse-desk@example.net", false},
                       Row{"user@remote.example", true, Kind::Accept, "", false},
                       Row{"user@remote.example", false, Kind::Reject, "", false}}) {
    const auto d = p.decide(r.address, r.trusted, false);
    EXPECT_EQ(d.kind, r.kind) << r.address;
    EXPECT_EQ(d.address, r.to) << r.address;
    EXPECT_EQ(d.original_to, r.original_to) << r.address;
  }
}

// Without an admin our own clients learn the fix from the reply; strangers only that the user is
// unknown (the configuration is nobody else's business).
TEST(smtp_RelayPolicy, WithoutAdminTheReplyNamesTheFixForTrustedClients) {
  RelayRules rules;
  rules.local_domains = {"vm", "localhost"};
  RelayPolicy p(rules);
  for (const auto& [networks, auth] : {std::pair{true, false}, std::pair{false, true}}) {
    const auto d = p.decide("root@vm", networks, auth);
    EXPECT_EQ(d.kind, Kind::Reject);
    EXPECT_EQ(d.reply.code, 550);
    EXPECT_EQ(d.reply.status.str(), "5.1.1");
    EXPECT_EQ(d.reply.text, "<root@vm>: no alias; set [local] admin or [aliases] root");
  }
  const auto outside = p.decide("root@vm", false, false);
  EXPECT_EQ(outside.reply.text,
            "<root@vm>: Recipient address rejected: User unknown in local recipient table");
  EXPECT_EQ(p.decide("postmaster@vm", true, false).kind, Kind::Accept) << "RFC 5321 §4.5.1";
}

TEST(smtp_RelayPolicy, EmptyRulesAreClosed) {
  RelayPolicy p(RelayRules{});
  EXPECT_EQ(p.decide("a@b.example", false, false).kind, Kind::Reject);
  EXPECT_EQ(p.decide("postmaster", false, false).kind, Kind::Accept);
}

}  // namespace
