// The embedded default (conf/ferry.toml): every key's value, and the overlay rules.
#include <gtest/gtest.h>

#include <chrono>

#include "ConfigTestSupport.hpp"

namespace ferry::config {
namespace {

using namespace std::chrono_literals;
using test::load;

Config defaults() {
  auto r = load_config(std::nullopt);
  if (!r) {
    ADD_FAILURE() << r.error().str();
    return {};
  }
  return *r;
}

TEST(configDefaults, TopLevelAndQueue) {
  const Config c = defaults();
  EXPECT_EQ(c.hostname, "");
  EXPECT_EQ(c.user, "ferry");
  EXPECT_EQ(c.queue.path, "./var/queue");
  EXPECT_EQ(c.queue.max_size, 1ull << 30);
  EXPECT_TRUE(c.queue.sync);
  EXPECT_TRUE(c.queue.min_free.is_percent);
  EXPECT_EQ(c.queue.min_free.percent, 10.0);
  EXPECT_EQ(c.queue.maildrop, "");
  EXPECT_EQ(effective_maildrop(c), "./var/maildrop");
  Config other = c;
  other.queue.path = "/var/lib/ferry/queue/";
  EXPECT_EQ(effective_maildrop(other), "/var/lib/ferry/maildrop");
  other.queue.maildrop = "/var/spool/ferry/maildrop";
  EXPECT_EQ(effective_maildrop(other), "/var/spool/ferry/maildrop");
}

TEST(configDefaults, ListenRelayAliases) {
  const Config c = defaults();
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].address, "127.0.0.1");
  EXPECT_EQ(c.listen[0].port, 2525);
  EXPECT_EQ(c.listen[0].mode, ListenMode::Relay);
  EXPECT_FALSE(c.listen[0].relay_networks.has_value());
  ASSERT_EQ(c.relay.networks.size(), 2u);
  EXPECT_EQ(c.relay.networks[0].str(), "127.0.0.0/8");
  EXPECT_EQ(c.relay.networks[1].str(), "::1/128");
  EXPECT_TRUE(c.relay.domains.empty());
  EXPECT_TRUE(c.relay.local_domains.empty());
  EXPECT_TRUE(c.aliases.empty());
  EXPECT_EQ(c.local.admin, "");
  EXPECT_EQ(c.local.masquerade, "");
}

TEST(configOverlay, LocalAdminAndMasquerade) {
  const Config c = load("[local]\nadmin = \"ops@example.com\"\nmasquerade = \"Example.COM\"\n");
  EXPECT_EQ(c.local.admin, "ops@example.com");
  EXPECT_EQ(c.local.masquerade, "example.com") << "domains are kept in lower case";
}

TEST(configDefaults, SmtpTlsAuth) {
  const Config c = defaults();
  EXPECT_EQ(c.smtp.bare_newline, BareNewline::Normalize);
  EXPECT_EQ(c.smtp.max_message_size, 25ull << 20);
  EXPECT_EQ(c.smtp.max_recipients, 1000u);
  EXPECT_EQ(c.smtp.max_errors, 10u);
  EXPECT_EQ(c.smtp.max_connections, 1000u);
  EXPECT_EQ(c.smtp.max_connections_per_ip, 50u);
  EXPECT_EQ(c.smtp.command_timeout, 5min);
  EXPECT_EQ(c.smtp.data_timeout, 5min);
  EXPECT_EQ(c.smtp.max_received_headers, 50u);
  EXPECT_EQ(c.smtp.transaction_timeout, 30min);
  EXPECT_EQ(c.smtp.junk_command_limit, 100u);
  EXPECT_EQ(c.smtp.stress_command_timeout, 10s);
  EXPECT_EQ(c.smtp.max_pending_bytes, 256ull << 20);
  EXPECT_FALSE(c.smtp.limit_relay_networks);
  EXPECT_EQ(c.tls.certificate, "");
  EXPECT_EQ(c.tls.key, "");
  EXPECT_EQ(c.auth.password_file, "");
  EXPECT_FALSE(c.auth.allow_plaintext_loopback);
  EXPECT_FALSE(c.auth.on_relay_listeners);
}

TEST(configDefaults, DeliveryDnsRetry) {
  const Config c = defaults();
  EXPECT_EQ(c.delivery.port, 25);
  EXPECT_EQ(c.delivery.max_connections, 100u);
  EXPECT_EQ(c.delivery.max_per_destination, 20u);
  EXPECT_EQ(c.delivery.initial_per_destination, 5u);
  EXPECT_EQ(c.delivery.max_addresses, 5u);
  EXPECT_EQ(c.delivery.connect_timeout, 30s);
  EXPECT_EQ(c.delivery.greeting_timeout, 5min);
  EXPECT_EQ(c.delivery.mail_timeout, 5min);
  EXPECT_EQ(c.delivery.rcpt_timeout, 5min);
  EXPECT_EQ(c.delivery.data_init_timeout, 2min);
  EXPECT_EQ(c.delivery.data_block_timeout, 3min);
  EXPECT_EQ(c.delivery.data_done_timeout, 10min);
  EXPECT_EQ(c.delivery.idle_timeout, 5s);
  EXPECT_EQ(c.delivery.tls_fallback_memory, 1h);
  EXPECT_TRUE(c.dns.servers.empty());
  EXPECT_FALSE(c.dns.trust_ad);
  EXPECT_EQ(c.retry.first, 5min);
  EXPECT_EQ(c.retry.max_interval, 1h);
  EXPECT_EQ(c.retry.multiplier, 2.0);
  EXPECT_EQ(c.retry.jitter, 0.1);
  EXPECT_EQ(c.retry.max_age, 120h);
  EXPECT_EQ(c.retry.after_crash, 10s);
  EXPECT_TRUE(c.routes.empty());
}

TEST(configDefaults, BounceLogMetrics) {
  const Config c = defaults();
  EXPECT_EQ(c.bounce.delay_warning, 4h);
  EXPECT_EQ(c.bounce.postmaster, "");
  EXPECT_EQ(c.bounce.max_return_size, 256ull << 10);
  EXPECT_FALSE(c.tls_report.enabled);
  EXPECT_EQ(c.tls_report.organization, "");
  EXPECT_EQ(c.tls_report.contact, "");
  EXPECT_EQ(c.tls_report.from, "");
  EXPECT_TRUE(c.mta_sts.enabled);
  EXPECT_EQ(c.mta_sts.ca_file, "");
  EXPECT_EQ(c.mta_sts.https_port, 443);
  EXPECT_EQ(c.log.format, LogFormat::Text);
  ASSERT_TRUE(c.metrics.listen.has_value());
  EXPECT_EQ(c.metrics.listen->ip, "127.0.0.1");
  EXPECT_EQ(c.metrics.listen->port, 9925);
}

// The struct's member initializers and conf/ferry.toml must not drift apart.
TEST(configDefaults, StructInitializersMatchTheEmbeddedFile) {
  Config c = defaults();
  Config plain;
  plain.listen = c.listen;
  plain.relay.networks = c.relay.networks;
  plain.metrics.listen = c.metrics.listen;
  EXPECT_EQ(c, plain);
}

TEST(configDefaults, EmptyFileIsTheDefault) { EXPECT_EQ(load(""), defaults()); }

TEST(configOverlay, KeysOverrideOneByOne) {
  const Config c = load("hostname = \"MX.Example.com\"\n[queue]\nsync = false\n[smtp]\nmax_errors = 3\n");
  EXPECT_EQ(c.hostname, "mx.example.com");
  EXPECT_FALSE(c.queue.sync);
  EXPECT_EQ(c.queue.path, "./var/queue");  // untouched key of a touched section
  EXPECT_EQ(c.queue.max_size, 1ull << 30);
  EXPECT_EQ(c.smtp.max_errors, 3u);
  EXPECT_EQ(load("[smtp]\njunk_command_limit = 0\n").smtp.junk_command_limit, 0u);  // no limit
  EXPECT_EQ(c.smtp.max_recipients, 1000u);
  EXPECT_EQ(c.listen.size(), 1u);
}

TEST(configOverlay, ListenArrayReplacesTheDefault) {
  const Config c = load(
      "[[listen]]\naddress = \"0.0.0.0\"\nport = 25\nmode = \"relay\"\n"
      "[[listen]]\naddress = \"::\"\nport = 587\nmode = \"submission\"\nrelay_networks = []\n"
      "[[listen]]\naddress = \"0.0.0.0\"\nport = 465\nmode = \"submissions\"\nrelay_networks = "
      "[\"10.0.0.0/8\"]\n");
  ASSERT_EQ(c.listen.size(), 3u);
  EXPECT_EQ(c.listen[0].port, 25);
  EXPECT_EQ(c.listen[1].address, "::");
  EXPECT_EQ(c.listen[1].mode, ListenMode::Submission);
  EXPECT_EQ(c.listen[2].mode, ListenMode::Submissions);
  EXPECT_EQ(&effective_relay_networks(c, c.listen[0]), &c.relay.networks);
  EXPECT_TRUE(effective_relay_networks(c, c.listen[1]).empty());
  ASSERT_EQ(effective_relay_networks(c, c.listen[2]).size(), 1u);
  EXPECT_TRUE(effective_relay_networks(c, c.listen[2])[0].contains("10.1.2.3"));
}

TEST(configOverlay, ArraysReplaceAndAliasesMerge) {
  const Config c = load(
      "[relay]\nnetworks = [\"192.0.2.0/24\"]\ndomains = [\"Example.ORG\"]\nlocal_domains = "
      "[\"example.com\"]\n"
      "[aliases]\nroot = \"admin@example.com\"\nabuse = \"root\"\n"
      "[dns]\nservers = [\"192.0.2.53\", \"192.0.2.54:5353\", \"[2001:db8::53]:53\", \"2001:db8::54\"]\n");
  ASSERT_EQ(c.relay.networks.size(), 1u);
  EXPECT_EQ(c.relay.networks[0].str(), "192.0.2.0/24");
  EXPECT_EQ(c.relay.domains, std::vector<std::string>{"example.org"});
  EXPECT_EQ(c.relay.local_domains, std::vector<std::string>{"example.com"});
  EXPECT_EQ(c.aliases.at("root"), "admin@example.com");
  EXPECT_EQ(c.aliases.at("abuse"), "root");
  ASSERT_EQ(c.dns.servers.size(), 4u);
  EXPECT_EQ(c.dns.servers[0], (SocketAddress{"192.0.2.53", 53}));
  EXPECT_EQ(c.dns.servers[1], (SocketAddress{"192.0.2.54", 5353}));
  EXPECT_EQ(c.dns.servers[2], (SocketAddress{"2001:db8::53", 53}));
  EXPECT_EQ(c.dns.servers[3], (SocketAddress{"2001:db8::54", 53}));
}

TEST(configOverlay, Routes) {
  const Config c = load(
      "[[route]]\ndomain = \"example.org\"\nhost = \"[10.0.0.5]:2525\"\ntls = \"required\"\n"
      "[[route]]\ndomain = \"*\"\nhost = \"Relay.Example.com:587\"\ntls = \"verify\"\nauth_user = \"me\"\n"
      "auth_password_file = \"/etc/ferry/pass\"\nsource_address = \"192.0.2.7\"\n"
      "[[route]]\ndomain = \"tls.example\"\ntls = \"verify\"\nimplicit_tls = true\nport = 465\n");
  ASSERT_EQ(c.routes.size(), 3u);
  EXPECT_EQ(c.routes[0].host, "10.0.0.5");
  EXPECT_TRUE(c.routes[0].host_is_literal);
  EXPECT_EQ(c.routes[0].port, std::optional<std::uint16_t>(2525));
  EXPECT_EQ(c.routes[0].tls, RouteTls::Required);
  EXPECT_EQ(c.routes[1].domain, "*");
  EXPECT_EQ(c.routes[1].host, "relay.example.com");
  EXPECT_FALSE(c.routes[1].host_is_literal);
  EXPECT_EQ(c.routes[1].port, std::optional<std::uint16_t>(587));
  EXPECT_EQ(c.routes[1].auth_user, "me");
  EXPECT_EQ(c.routes[1].auth_password_file, "/etc/ferry/pass");
  EXPECT_EQ(c.routes[1].source_address, "192.0.2.7");
  EXPECT_EQ(c.routes[2].host, "");
  EXPECT_TRUE(c.routes[2].implicit_tls);
  EXPECT_EQ(c.routes[2].port, std::optional<std::uint16_t>(465));
  EXPECT_EQ(c.routes[1].tls_name, "");
  EXPECT_EQ(c.routes[1].tls_ca_file, "");
}

TEST(configOverlay, RouteTlsNameAndCaFile) {
  const Config c = load(
      "[delivery]\ntls_fallback_memory = \"10m\"\n"
      "[[route]]\ndomain = \"*\"\nhost = \"[192.0.2.10]:587\"\ntls = \"verify\"\ntls_name = "
      "\"Relay.Example.net\"\n"
      "tls_ca_file = \"/etc/ferry/ca.pem\"\n");
  EXPECT_EQ(c.delivery.tls_fallback_memory, 10min);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].tls_name, "relay.example.net");
  EXPECT_EQ(c.routes[0].tls_ca_file, "/etc/ferry/ca.pem");
}

TEST(configOverlay, MinFreeAsSizeAndMetricsOff) {
  const Config c = load("[queue]\nmin_free = \"2GiB\"\n[metrics]\nlisten = \"\"\n");
  EXPECT_FALSE(c.queue.min_free.is_percent);
  EXPECT_EQ(c.queue.min_free.bytes, 2ull << 30);
  EXPECT_FALSE(c.metrics.listen.has_value());
  EXPECT_EQ(load("[queue]\nmin_free = \"12.5%\"\n").queue.min_free.percent, 12.5);
  EXPECT_EQ(load("[queue]\nmin_free = 4096\n").queue.min_free.bytes, 4096u);
}

TEST(configOverlay, DelayWarningZeroDisables) {
  EXPECT_EQ(load("[bounce]\ndelay_warning = \"0\"\n").bounce.delay_warning, 0ms);
  EXPECT_EQ(load("[bounce]\ndelay_warning = 0\n").bounce.delay_warning, 0ms);
}

TEST(configHelpers, EffectiveHostnameAndLocalDomains) {
  Config c;
  EXPECT_EQ(effective_hostname(c, "box.example.net"), "box.example.net");
  EXPECT_EQ(effective_local_domains(c, "Box.Example.net"),
            (std::vector<std::string>{"box.example.net", "localhost"}));
  c.hostname = "mx.example.com";
  EXPECT_EQ(effective_hostname(c, "box.example.net"), "mx.example.com");
  EXPECT_EQ(effective_local_domains(c, "box"), (std::vector<std::string>{"mx.example.com", "localhost"}));
  c.relay.local_domains = {"example.com"};
  EXPECT_EQ(effective_local_domains(c, "box"), (std::vector<std::string>{"example.com"}));
}

TEST(configLoadFile, MissingFileNamesFileAndErrno) {
  auto r = load_config(std::string("/nonexistent/ferry.toml"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "/nonexistent/ferry.toml: cannot open: No such file or directory");
}

}  // namespace
}  // namespace ferry::config
