// parse_https_url: what an rua https: URI may be (RFC 8460 §3) before a connection is made.
#include <gtest/gtest.h>

#include "mta/net/HttpsPost.hpp"

namespace ferry::net {
namespace {

TEST(HttpsUrl, ParsesHostPortAndTarget) {
  auto u = parse_https_url("https://Reports.Example:8443/tls/rpt?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "reports.example");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/tls/rpt?x=1");
  u = parse_https_url("https://r.example");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  u = parse_https_url("https://r.example?q");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/?q");
}

TEST(HttpsUrl, RefusesWhatItCannotVerifyOrSendSafely) {
  for (const char* bad : {"http://r.example/", "https://", "https://user@r.example/", "https://[::1]/",
                          "https://r.example:0/", "https://r.example:70000/", "https://r.example:/",
                          "https://r.example/a b", "https://r.example/\r\nX: y", "mailto:a@b"})
    EXPECT_FALSE(parse_https_url(bad)) << bad;
}

}  // namespace
}  // namespace ferry::net
