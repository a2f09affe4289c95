// render(): the effective configuration as TOML that loads back to the same Config.
#include <gtest/gtest.h>

#include "ConfigTestSupport.hpp"

namespace ferry::config {
namespace {

using test::load;

void expect_round_trip(const Config& c) {
  const std::string text = render(c);
  auto back = load_config_text(text, "rendered.toml");
  ASSERT_TRUE(back.ok()) << back.error().str() << "\n" << text;
  EXPECT_EQ(*back, c) << text;
  EXPECT_EQ(render(*back), text);
}

TEST(configRender, DefaultRoundTrips) {
  const Config c = load("");
  expect_round_trip(c);
  const std::string text = render(c);
  EXPECT_NE(text.find("[[listen]]\naddress = \"127.0.0.1\"\nport = 2525\nmode = \"relay\"\n"),
            std::string::npos);
  EXPECT_NE(text.find("max_size = \"1GiB\"\n"), std::string::npos);
  EXPECT_NE(text.find("networks = [\"127.0.0.0/8\", \"::1/128\"]\n"), std::string::npos);
  EXPECT_NE(text.find("multiplier = 2.0\n"), std::string::npos);
  EXPECT_NE(text.find("max_age = \"5d\"\n"), std::string::npos);
  EXPECT_NE(text.find("listen = \"127.0.0.1:9925\"\n"), std::string::npos);
}

TEST(configRender, EveryKeyChangedRoundTrips) {
  const Config c = load(R"(
hostname = "mx.example.com"
user = "mail"
[queue]
path = "/var/spool/ferry dir \"q\""
max_size = 1048577
sync = false
min_free = "12.5%"
[[listen]]
address = "::"
port = 25
mode = "relay"
relay_networks = ["10.0.0.0/8", "2001:db8::/32"]
[[listen]]
address = "0.0.0.0"
port = 587
mode = "submission"
relay_networks = []
[relay]
networks = ["192.0.2.0/24"]
domains = ["example.org"]
local_domains = ["example.com", "localhost"]
[aliases]
root = "admin@example.com"
"info.team" = "root"
[local]
admin = "ops@example.com"
masquerade = "example.com"
[smtp]
bare_newline = "reject"
max_message_size = "100MB"
max_recipients = 100
max_errors = 3
max_connections = 10
max_connections_per_ip = 2
command_timeout = "90s"
data_timeout = 601
max_received_headers = 30
transaction_timeout = "20m"
junk_command_limit = 7
stress_command_timeout = "3s"
max_pending_bytes = "300MiB"
limit_relay_networks = true
[tls]
certificate = "/etc/ferry/cert.pem"
key = "/etc/ferry/key.pem"
[auth]
password_file = "/etc/ferry/passwd"
allow_plaintext_loopback = true
on_relay_listeners = true
[delivery]
port = 2526
max_connections = 7
max_per_destination = 7
initial_per_destination = 3
max_addresses = 2
connect_timeout = "250ms"
greeting_timeout = "1m"
mail_timeout = "2m"
rcpt_timeout = "3m"
data_init_timeout = "4m"
data_block_timeout = "5m"
data_done_timeout = "1h"
idle_timeout = "1500ms"
tls_fallback_memory = "10m"
[dns]
servers = ["192.0.2.53", "[2001:db8::53]:5353"]
trust_ad = true
[retry]
first = "1m"
max_interval = "2h"
multiplier = 1.5
jitter = 0.0
max_age = "3d"
after_crash = 0
after_greylist = "90s"
[[pace]]
mx = "*.google.com"
rate = "600/min"
burst = 5
connections = 3
messages_per_connection = 50
backoff_period = "2m"
[[pace]]
domain = "*"
[[route]]
domain = "example.org"
host = "[10.0.0.5]:2525"
tls = "required"
[[route]]
domain = "*"
host = "relay.example.com"
tls = "verify"
implicit_tls = true
auth_user = "me"
auth_password_file = "/p"
source_address = "2001:db8::7"
tls_name = "relay.example.net"
tls_ca_file = "/etc/ferry/ca.pem"
[bounce]
delay_warning = 0
postmaster = "pm@example.com"
max_return_size = 1000
[mta_sts]
enabled = false
ca_file = "/etc/ferry/sts-ca.pem"
https_port = 8443
[log]
format = "json"
[metrics]
listen = ""
)");
  ASSERT_NE(c, load(""));
  EXPECT_EQ(c.queue.min_free.percent, 12.5);
  EXPECT_EQ(c.aliases.at("info.team"), "root");
  expect_round_trip(c);
}

// check-config prints the tables in the order of the embedded default file, each array entry
// where the default file has the table, and a blank line before every header.
TEST(configRender, TablesInTheOrderOfTheDefaultFile) {
  const Config c = load(
      "[[route]]\ndomain = \"example.net\"\nhost = \"[192.0.2.1]\"\n"
      "[[dkim]]\ndomain = \"example.com\"\nselector = \"a\"\nkey = \"/k.pem\"\n");
  const std::string text = render(c);
  std::string headers;
  for (std::size_t at = text.find("\n["); at != std::string::npos; at = text.find("\n[", at + 1)) {
    EXPECT_EQ(text[at - 1], '\n') << "no blank line before the header at " << at;
    headers += text.substr(at + 1, text.find('\n', at + 1) - at - 1) + " ";
  }
  EXPECT_EQ(
      headers,
      "[queue] [[listen]] [relay] [aliases] [local] [smtp] [tls] [auth] [delivery] [dns] [retry] [[route]] "
      "[bounce] [tls_report] [mta_sts] [suppression] [log] [metrics] [[dkim]] ");
  EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
            "hostname = \"" + c.hostname + "\"\nuser = \"" + c.user + "\"\n");
}

TEST(configRender, SizesWithoutBinaryUnitAreIntegers) {
  const Config c = load("[smtp]\nmax_message_size = \"100MB\"\n[queue]\nmin_free = 0\n");
  const std::string text = render(c);
  EXPECT_NE(text.find("max_message_size = 100000000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("min_free = 0\n"), std::string::npos) << text;
  expect_round_trip(c);
}

}  // namespace
}  // namespace ferry::config
