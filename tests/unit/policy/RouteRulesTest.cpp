// RouteRules: [[route]] → RouteRule (literal hosts bracketed, TLS policy, password read) and the
// refusal of a password file that cannot be read — shared by the delivery agent and the probe.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "mta/net/ClientTls.hpp"
#include "mta/policy/RouteRules.hpp"

namespace ferry::policy {
namespace {

std::string temp_file(const std::string& content) {
  char name[] = "/tmp/ferry-route-XXXXXX";
  const int fd = ::mkstemp(name);
  ::close(fd);
  std::ofstream(name) << content;
  return name;
}

TEST(RouteRules, MapsEveryField) {
  const std::string secret = temp_file("s3cret\r\nignored second line\n");
  config::Config c;
  config::Route literal;
  literal.domain = "*";
  literal.host = "192.0.2.7";
  literal.host_is_literal = true;
  literal.port = 2525;
  literal.tls = config::RouteTls::Verify;
  config::Route v6 = literal;
  v6.domain = "v6.example";
  v6.host = "2001:db8::1";
  v6.tls = config::RouteTls::Required;
  config::Route named;
  named.domain = "example.org";
  named.host = "smarthost.example.net";
  named.implicit_tls = true;
  named.auth_user = "relay";
  named.auth_password_file = secret;
  named.source_address = "127.0.0.5";
  c.routes = {literal, v6, named};
  auto rules = route_rules(c, net::check_ca_file);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].host, "[192.0.2.7]");
  EXPECT_EQ((*rules)[0].port, 2525);
  EXPECT_EQ((*rules)[0].tls, delivery::TlsPolicy::Verify);
  EXPECT_EQ((*rules)[1].host, "[IPv6:2001:db8::1]");
  EXPECT_EQ((*rules)[1].tls, delivery::TlsPolicy::Required);
  EXPECT_EQ((*rules)[2].host, "smarthost.example.net");
  EXPECT_EQ((*rules)[2].port, 0);
  EXPECT_EQ((*rules)[2].tls, delivery::TlsPolicy::Opportunistic);
  EXPECT_TRUE((*rules)[2].implicit_tls);
  EXPECT_EQ((*rules)[2].auth_user, "relay");
  EXPECT_EQ((*rules)[2].auth_password, "s3cret");
  EXPECT_EQ((*rules)[2].source_address, "127.0.0.5");
  std::remove(secret.c_str());
}

TEST(RouteRules, UnreadableOrEmptyPasswordFileIsAnError) {
  config::Config c;
  config::Route r;
  r.domain = "example.org";
  r.host = "smarthost.example.net";
  r.auth_user = "relay";
  r.auth_password_file = "/nonexistent/ferry/secret";
  c.routes = {r};
  auto missing = route_rules(c, net::check_ca_file);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "[[route]] example.org: auth_password_file /nonexistent/ferry/secret cannot be read");
  const std::string empty = temp_file("");
  c.routes[0].auth_password_file = empty;
  auto blank = route_rules(c, net::check_ca_file);
  ASSERT_FALSE(blank);
  EXPECT_NE(blank.error().message.find("is empty"), std::string::npos);
  std::remove(empty.c_str());
}

TEST(RouteRules, TlsNameAndCaFileArePassedOnAndABadCaFileIsAnError) {
  config::Config c;
  config::Route r;
  r.domain = "*";
  r.host = "192.0.2.10";
  r.host_is_literal = true;
  r.tls = config::RouteTls::Verify;
  r.tls_name = "relay.example.net";
  c.routes = {r};
  auto rules = route_rules(c, net::check_ca_file);
  ASSERT_TRUE(rules) << rules.error().message;
  EXPECT_EQ((*rules)[0].tls_name, "relay.example.net");
  c.routes[0].tls_ca_file = "/nonexistent/ferry/ca.pem";
  auto missing = route_rules(c, net::check_ca_file);
  ASSERT_FALSE(missing);
  EXPECT_NE(
      missing.error().message.find("[[route]] *: tls_ca_file /nonexistent/ferry/ca.pem cannot be loaded"),
      std::string::npos)
      << missing.error().message;
  const std::string junk = temp_file("not a certificate\n");
  c.routes[0].tls_ca_file = junk;
  EXPECT_FALSE(route_rules(c, net::check_ca_file));
  std::remove(junk.c_str());
}

}  // namespace
}  // namespace ferry::policy
