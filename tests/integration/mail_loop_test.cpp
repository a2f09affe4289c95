// Integration: mail that would loop back to this Ferry through one of its own interface
// addresses (a wildcard listener answers on all of them) is refused at the first hop with 5.4.6,
// whether an MX record or a route points there. Only loopback addresses are used: 127.0.0.0/8
// are interface addresses too (the non-loopback case is the unit test of the address matching).
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/support/MailClient.hpp"
#include "integration/support/OpsSupport.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/DnsServer.hpp"

namespace ferry {
namespace {

using test::send_mail;

TEST(MailLoop, OwnAddressBehindAWildcardListenerIsALoopAtTheFirstHop) {
  test::DnsServer dns({"--mx-host=loop.test,self.loop.test,10", "--host-record=self.loop.test,127.0.0.5"});
  test::TempDir dir;
  const int port = test::free_port();
  dir.write("ferry.toml", "hostname = \"ferry.test\"\nuser = \"root\"\n[queue]\npath = \"" + dir.file("q") +
                              "\"\nmax_size = \"64MiB\"\n"
                              "[[listen]]\naddress = \"0.0.0.0\"\nport = " +
                              std::to_string(port) + "\nmode = \"relay\"\n[delivery]\nport = " +
                              std::to_string(port) + "\n[dns]\nservers = [\"" + dns.address() +
                              "\"]\n[retry]\nfirst = \"1h\"\n"
                              "[[route]]\ndomain = \"routed.test\"\nhost = \"[127.0.0.9]:" +
                              std::to_string(port) + "\"\n");
  test::Background serve({FERRY_BINARY, "serve", "--config", dir.file("ferry.toml")}, dir.file("log"));
  ASSERT_TRUE(serve.wait_for_output("ready: ")) << serve.output();

  ASSERT_EQ(send_mail(port, "a@sender.test", {"x@loop.test"}, "Subject: mx loop\n\nx\n"), "ok");
  ASSERT_TRUE(serve.wait_for_output("to=<x@loop.test>", 15000)) << serve.output();
  ASSERT_EQ(send_mail(port, "a@sender.test", {"y@routed.test"}, "Subject: route loop\n\nx\n"), "ok");
  ASSERT_TRUE(serve.wait_for_output("to=<y@routed.test>", 15000)) << serve.output();
  const std::string log = serve.output();
  for (const char* rcpt : {"to=<x@loop.test>", "to=<y@routed.test>"}) {
    const auto at = log.find(rcpt);
    const std::string line = log.substr(at, log.find('\n', at) - at);
    EXPECT_NE(line.find("dsn=5.4.6"), std::string::npos) << line;
    EXPECT_NE(line.find("status=bounced"), std::string::npos) << line;
  }
  // Refused before connecting: the only messages this server accepted are the two above and the
  // bounces for them, never a relayed copy of its own mail.
  std::size_t accepted = 0;
  for (auto p = log.find("nrcpt="); p != std::string::npos; p = log.find("nrcpt=", p + 1)) ++accepted;
  EXPECT_LE(accepted, 4u) << log;
  serve.stop(SIGTERM);
}

}  // namespace
}  // namespace ferry
