// HttpsHeadersTest: an extra header field with a control character (a request split by CR/LF)
// is refused before any connection is made.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "mta/net/ClientTls.hpp"
#include "mta/net/HttpsClient.hpp"

namespace ferry::net {
namespace {

HttpsResponse request_with(const std::string& name, const std::string& value) {
  boost::asio::io_context io;
  auto tls = make_client_tls_context(true);
  EXPECT_TRUE(tls);
  HttpsRequest req;
  req.method = "POST";
  req.host = "hooks.example";
  req.addresses = {"127.0.0.1"};
  req.port = 9;  // discard: refused, if a connection were ever tried
  req.headers = {{name, value}};
  req.timeout = std::chrono::milliseconds(2000);
  HttpsResponse out;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        const auto executor = io.get_executor();
        HttpsResponse r = co_await https_request(executor, **tls, req);
        out = r;
      },
      boost::asio::detached);
  io.run();
  return out;
}

TEST(HttpsHeaders, ControlCharactersAreRefusedBeforeConnecting) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"X-Ferry-Signature", "t=1,v1=ab\r\nX-Injected: 1"},
                                                        {"X-Bad\nName", "v"},
                                                        {"X-Nul", std::string("a\0b", 3)},
                                                        {"X-Del", "a\x7f"}}) {
    const HttpsResponse r = request_with(name, value);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "a header field holds a control character") << name;
  }
  // A clean field goes on to the connection (which fails here: nothing listens on port 9).
  const HttpsResponse clean = request_with("X-Ferry-Signature", "t=1,v1=ab");
  EXPECT_FALSE(clean.ok);
  EXPECT_NE(clean.error, "a header field holds a control character");
}

}  // namespace
}  // namespace ferry::net
