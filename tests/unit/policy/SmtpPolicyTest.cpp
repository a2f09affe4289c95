// SmtpPolicy: configuration → RelayRules / SessionPolicy, shared by the listeners and sendmail.
#include <gtest/gtest.h>

#include "mta/policy/SmtpPolicy.hpp"

namespace ferry::policy {
namespace {

TEST(SmtpPolicy, MapsTheConfiguredRules) {
  config::Config c;
  c.aliases = {{"root", "admin@example.com"}};
  c.relay.domains = {"relay.example.org"};
  c.smtp.max_message_size = 1234;
  c.smtp.max_recipients = 7;
  c.smtp.max_errors = 3;
  c.smtp.junk_command_limit = 4;
  c.smtp.max_received_headers = 42;
  c.smtp.bare_newline = config::BareNewline::Reject;
  const auto rules = relay_rules(c, "mx.example.net");
  EXPECT_EQ(rules.local_domains, (std::vector<std::string>{"mx.example.net", "localhost"}));
  EXPECT_EQ(rules.aliases.at("root"), "admin@example.com");
  EXPECT_EQ(rules.relay_domains, std::vector<std::string>{"relay.example.org"});
  const auto policy = session_policy(c, "mx.example.net");
  EXPECT_EQ(policy.hostname, "mx.example.net");
  EXPECT_EQ(policy.max_message_size, 1234u);
  EXPECT_EQ(policy.max_recipients, 7u);
  EXPECT_EQ(policy.max_errors, 3u);
  EXPECT_EQ(policy.junk_command_limit, 4u);
  EXPECT_EQ(policy.max_received_headers, 42u);
  EXPECT_EQ(policy.bare_newline, smtp::BareNewlinePolicy::Reject);
  c.smtp.bare_newline = config::BareNewline::Normalize;
  EXPECT_EQ(session_policy(c, "h").bare_newline, smtp::BareNewlinePolicy::Normalize);
}

}  // namespace
}  // namespace ferry::policy
