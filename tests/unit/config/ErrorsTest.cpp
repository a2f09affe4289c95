// Every class of configuration error, with its exact "file:line:column: key: message".
#include <gtest/gtest.h>

#include "ConfigTestSupport.hpp"

namespace ferry::config {
namespace {

using test::error_of;

struct Case {
  const char* name;
  const char* text;
  const char* want;
};

void check(const Case* begin, const Case* end) {
  for (const Case* c = begin; c != end; ++c)
    EXPECT_EQ(error_of(c->text), c->want) << c->name << ":\n" << c->text;
}

#define LISTEN(extra) "[[listen]]\naddress = \"0.0.0.0\"\nport = 25\nmode = \"relay\"\n" extra

TEST(configErrors, UnknownKeys) {
  const Case cases[] = {
      {"top level", "hostname = \"a.example\"\nbogus = 1\n", "t.toml:2:1: bogus: unknown key"},
      {"top-level table", "[bogus]\nx = 1\n", "t.toml:1:2: bogus: unknown key"},
      {"in section", "[queue]\nmax_sise = \"2GiB\"\n",
       "t.toml:2:1: queue.max_sise: unknown key; did you mean \"max_size\"?"},
      {"dotted", "smtp.max_error = 3\n",
       "t.toml:1:6: smtp.max_error: unknown key; did you mean \"max_errors\"?"},
      {"in [[listen]]", LISTEN("foo = 1\n"), "t.toml:5:1: listen[0].foo: unknown key"},
      {"in second [[listen]]", LISTEN("") LISTEN("prot = 26\n"),
       "t.toml:9:1: listen[1].prot: unknown key; did you mean \"port\"?"},
      {"in [[route]]", "[[route]]\ndomain = \"*\"\nhots = \"x.example\"\n",
       "t.toml:3:1: route[0].hots: unknown key; did you mean \"host\"?"},
  };
  check(std::begin(cases), std::end(cases));
}

TEST(configErrors, WrongTypes) {
  const Case cases[] = {
      {"port string", "[[listen]]\naddress = \"0.0.0.0\"\nport = \"x\"\nmode = \"relay\"\n",
       "t.toml:3:8: listen[0].port: expected integer, got string"},
      {"hostname int", "hostname = 5\n", "t.toml:1:12: hostname: expected string, got integer"},
      {"sync string", "[queue]\nsync = \"yes\"\n", "t.toml:2:8: queue.sync: expected boolean, got string"},
      {"duration bool", "[smtp]\ncommand_timeout = true\n",
       "t.toml:2:19: smtp.command_timeout: expected string or integer, got boolean"},
      {"size float", "[smtp]\nmax_message_size = 1.5\n",
       "t.toml:2:20: smtp.max_message_size: expected string or integer, got float"},
      {"section not table", "queue = 5\n", "t.toml:1:9: queue: expected table, got integer"},
      {"listen not array", "listen = \"x\"\n", "t.toml:1:10: listen: expected array of tables, got string"},
      {"listen element", "listen = [1]\n", "t.toml:1:11: listen[0]: expected table, got integer"},
      {"networks not array", "[relay]\nnetworks = \"10.0.0.0/8\"\n",
       "t.toml:2:12: relay.networks: expected array, got string"},
      {"network element", "[relay]\nnetworks = [\"10.0.0.0/8\", 5]\n",
       "t.toml:2:27: relay.networks[1]: expected string, got integer"},
      {"multiplier string", "[retry]\nmultiplier = \"2\"\n",
       "t.toml:2:14: retry.multiplier: expected float, got string"},
      {"alias int", "[aliases]\nroot = 1\n", "t.toml:2:8: aliases.root: expected string, got integer"},
      {"date", "[bounce]\ndelay_warning = 1979-05-27\n",
       "t.toml:2:17: bounce.delay_warning: expected string or integer, got date"},
  };
  check(std::begin(cases), std::end(cases));
}

TEST(configErrors, InvalidValues) {
  const Case cases[] = {
      {"listen port", "[[listen]]\naddress = \"0.0.0.0\"\nport = 70000\nmode = \"relay\"\n",
       "t.toml:3:8: listen[0].port: must be between 0 and 65535, got 70000"},
      {"delivery port 0", "[delivery]\nport = 0\n",
       "t.toml:2:8: delivery.port: must be between 1 and 65535, got 0"},
      {"port too big", "[delivery]\nport = 65536\n",
       "t.toml:2:8: delivery.port: must be between 1 and 65535, got 65536"},
      {"mode", "[[listen]]\naddress = \"0.0.0.0\"\nport = 25\nmode = \"smtp\"\n",
       "t.toml:4:8: listen[0].mode: invalid value \"smtp\" (expected relay, submission or submissions)"},
      {"listen address", "[[listen]]\naddress = \"localhost\"\nport = 25\nmode = \"relay\"\n",
       "t.toml:2:11: listen[0].address: \"localhost\" is not an IP address"},
      {"missing address", "[[listen]]\nport = 25\nmode = \"relay\"\n",
       "t.toml:1:1: listen[0].address: required key is missing"},
      {"missing mode", "[[listen]]\naddress = \"::\"\nport = 25\n",
       "t.toml:1:1: listen[0].mode: required key is missing (relay, submission or submissions)"},
      {"listen empty", "listen = []\n", "t.toml:1:10: listen: at least one [[listen]] is required"},
      {"listen duplicate", LISTEN("") LISTEN(""),
       "t.toml:5:1: listen[1]: same address and port as listen[0]"},
      {"listen port 0 twice",
       "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
       "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"submission\"\n",
       "(ok)"},
      {"bad cidr", "[relay]\nnetworks = [\"10.0.0.0/8\", \"10.0.0/8\"]\n",
       "t.toml:2:27: relay.networks[1]: \"10.0.0/8\" is not a CIDR (e.g. 192.0.2.0/24 or 2001:db8::/32)"},
      {"cidr host bits", "[relay]\nnetworks = [\"10.0.0.1/8\"]\n",
       "t.toml:2:13: relay.networks[0]: \"10.0.0.1/8\" has host bits set (did you mean 10.0.0.0/8?)"},
      {"cidr prefix",
       "[[listen]]\naddress = \"::\"\nport = 25\nmode = \"relay\"\nrelay_networks = [\"::/200\"]\n",
       "t.toml:5:19: listen[0].relay_networks[0]: invalid prefix length in \"::/200\" (0..128)"},
      {"bad duration", "[delivery]\nconnect_timeout = \"30 s\"\n",
       "t.toml:2:19: delivery.connect_timeout: invalid duration \"30 s\" (expected a number with unit ms, s, "
       "m, h "
       "or d, e.g. \"30s\"; a bare number is seconds)"},
      {"negative duration", "[smtp]\ndata_timeout = -5\n",
       "t.toml:2:16: smtp.data_timeout: must not be negative, got -5"},
      {"zero timeout", "[smtp]\ndata_timeout = \"0s\"\n",
       "t.toml:2:16: smtp.data_timeout: must be greater than 0"},
      {"zero transaction timeout", "[smtp]\ntransaction_timeout = \"0s\"\n",
       "t.toml:2:23: smtp.transaction_timeout: must be greater than 0"},
      {"zero stress timeout", "[smtp]\nstress_command_timeout = 0\n",
       "t.toml:2:26: smtp.stress_command_timeout: must be greater than 0"},
      {"negative junk limit", "[smtp]\njunk_command_limit = -1\n",
       "t.toml:2:22: smtp.junk_command_limit: must be between 0 and 1000000, got -1"},
      {"bad size", "[smtp]\nmax_message_size = \"12QB\"\n",
       "t.toml:2:20: smtp.max_message_size: invalid size \"12QB\" (expected a number with unit B, KB, MB, "
       "GB, KiB, "
       "MiB or GiB, e.g. \"25MiB\"; a bare number is bytes)"},
      {"max_size small", "[queue]\nmax_size = \"512KiB\"\n",
       "t.toml:2:12: queue.max_size: must be at least 1MiB, got 512KiB"},
      {"min_free pct", "[queue]\nmin_free = \"100%\"\n",
       "t.toml:2:12: queue.min_free: invalid percentage \"100%\" (expected 0% to below 100%, e.g. \"10%\")"},
      {"min_free junk", "[queue]\nmin_free = \"lots\"\n",
       "t.toml:2:12: queue.min_free: invalid size \"lots\" (expected a number with unit B, KB, MB, GB, KiB, "
       "MiB or "
       "GiB, e.g. \"25MiB\"; a bare number is bytes)"},
      {"count zero", "[smtp]\nmax_recipients = 0\n",
       "t.toml:2:18: smtp.max_recipients: must be between 1 and 1000000, got 0"},
      {"initial window zero", "[delivery]\ninitial_per_destination = 0\n",
       "t.toml:2:27: delivery.initial_per_destination: must be between 1 and 1000000, got 0"},
      {"after_crash negative", "[retry]\nafter_crash = -1\n",
       "t.toml:2:15: retry.after_crash: must not be negative, got -1"},
      {"after_crash junk", "[retry]\nafter_crash = \"soon\"\n",
       "t.toml:2:15: retry.after_crash: invalid duration \"soon\" (expected a number with unit ms, s, m, h "
       "or d, "
       "e.g. \"30s\"; a bare number is seconds)"},
      {"jitter", "[retry]\njitter = 1.5\n",
       "t.toml:2:10: retry.jitter: must be between 0.0 and 1.0, got 1.5"},
      {"jitter negative", "[retry]\njitter = -0.1\n",
       "t.toml:2:10: retry.jitter: must be between 0.0 and 1.0, got -0.1"},
      {"multiplier", "[retry]\nmultiplier = 0.5\n",
       "t.toml:2:14: retry.multiplier: must be at least 1.0, got 0.5"},
      {"first > max_interval", "[retry]\nfirst = \"2h\"\n",
       "t.toml:2:9: retry.first: must not exceed retry.max_interval (1h)"},
      {"max_interval < first", "[retry]\nmax_interval = \"1m\"\n",
       "t.toml:2:16: retry.max_interval: must not be less than retry.first (5m)"},
      {"tls key only", "[tls]\nkey = \"/etc/k.pem\"\n",
       "t.toml:2:7: tls.key: set tls.certificate too (both or neither)"},
      {"tls_report without organization", "[tls_report]\nenabled = true\ncontact = \"x@a.test\"\n",
       "t.toml:2:11: tls_report.enabled: needs tls_report.organization (the reports' organization-name)"},
      {"tls_report without contact", "[tls_report]\nenabled = true\norganization = \"Org\"\n",
       "t.toml:2:11: tls_report.enabled: needs tls_report.contact (the reports' contact-info)"},
      {"tls_report two-line organization", "[tls_report]\norganization = \"a\\nb\"\n",
       "t.toml:2:16: tls_report.organization: must be one line of printable text"},
      {"tls_report bad from", "[tls_report]\nfrom = \"nobody\"\n",
       "t.toml:2:8: tls_report.from: \"nobody\" is not a mail address (local@domain)"},
      {"per destination", "[delivery]\nmax_per_destination = 500\n",
       "t.toml:2:23: delivery.max_per_destination: must not exceed delivery.max_connections (100)"},
      {"per ip", "[smtp]\nmax_connections = 10\n",
       "t.toml:2:19: smtp.max_connections: must not be less than smtp.max_connections_per_ip (50)"},
      {"hostname", "hostname = \"bad_name\"\n",
       "t.toml:1:12: hostname: \"bad_name\" is not a valid host name"},
      {"user empty", "user = \"\"\n", "t.toml:1:8: user: must not be empty"},
      {"local domain", "[relay]\nlocal_domains = [\"-x.example\"]\n",
       "t.toml:2:18: relay.local_domains[0]: \"-x.example\" is not a valid domain name"},
      {"alias target", "[aliases]\nroot = \"a b@example.com\"\n",
       "t.toml:2:8: aliases.root: \"a b@example.com\" is not a mail address (local@domain) or local name"},
      {"local admin", "[local]\nadmin = \"root\"\n",
       "t.toml:2:9: local.admin: \"root\" is not a mail address (local@domain)"},
      {"local masquerade", "[local]\nmasquerade = \"example..com\"\n",
       "t.toml:2:14: local.masquerade: \"example..com\" is not a valid domain name"},
      {"local unknown key", "[local]\nadmins = \"a@b.example\"\n",
       "t.toml:2:1: local.admins: unknown key; did you mean \"admin\"?"},
      {"smtp bare_newline", "[smtp]\nbare_newline = \"strip\"\n",
       "t.toml:2:16: smtp.bare_newline: invalid value \"strip\" (expected normalize or reject)"},
      {"dns server", "[dns]\nservers = [\"ns.example\"]\n",
       "t.toml:2:12: dns.servers[0]: \"ns.example\" is not an IP address"},
      {"dns port", "[dns]\nservers = [\"192.0.2.1:0\"]\n",
       "t.toml:2:12: dns.servers[0]: invalid port \"0\" (1..65535)"},
      {"metrics no port", "[metrics]\nlisten = \"127.0.0.1\"\n",
       "t.toml:2:10: metrics.listen: missing port (use IP:PORT or [IPv6]:PORT)"},
      {"log format", "[log]\nformat = \"xml\"\n",
       "t.toml:2:10: log.format: invalid value \"xml\" (expected text or json)"},
      {"postmaster", "[bounce]\npostmaster = \"nobody\"\n",
       "t.toml:2:14: bounce.postmaster: \"nobody\" is not a mail address (local@domain)"},
      {"route tls", "[[route]]\ndomain = \"*\"\ntls = \"maybe\"\n",
       "t.toml:3:7: route[0].tls: invalid value \"maybe\" (expected opportunistic, required or verify)"},
      {"route domain missing", "[[route]]\nhost = \"relay.example\"\n",
       "t.toml:1:1: route[0].domain: required key is missing (a domain or \"*\")"},
      {"route host", "[[route]]\ndomain = \"*\"\nhost = \"relay example\"\n",
       "t.toml:3:8: route[0].host: \"relay example\" is not a host name or [IP] literal (e.g. "
       "\"relay.example.com:587\" or \"[192.0.2.1]:25\")"},
      {"route port conflict", "[[route]]\ndomain = \"*\"\nhost = \"[10.0.0.5]:2525\"\nport = 26\n",
       "t.toml:4:8: route[0].port: conflicts with the port given in host"},
      {"route auth half", "[[route]]\ndomain = \"*\"\nauth_user = \"me\"\n",
       "t.toml:1:1: route[0].auth_password_file: auth_user and auth_password_file must be set together"},
      {"route duplicate", "[[route]]\ndomain = \"a.example\"\n[[route]]\ndomain = \"A.example\"\n",
       "t.toml:4:10: route[1].domain: duplicate route for \"a.example\" (see route[0])"},
      {"route source", "[[route]]\ndomain = \"*\"\nsource_address = \"eth0\"\n",
       "t.toml:3:18: route[0].source_address: \"eth0\" is not an IP address"},
      {"route verify literal", "[[route]]\ndomain = \"*\"\nhost = \"[192.0.2.10]:587\"\ntls = \"verify\"\n",
       "t.toml:3:8: route[0].tls_name: tls = \"verify\" with an IP-literal host needs tls_name (the name the "
       "certificate must carry)"},
      {"route tls_name", "[[route]]\ndomain = \"*\"\ntls_name = \"not a name\"\n",
       "t.toml:3:12: route[0].tls_name: \"not a name\" is not a host name"},
  };
  check(std::begin(cases), std::end(cases));
}

TEST(configErrors, SyntaxErrorsUseTomlPositions) {
  const Case cases[] = {
      {"header", "[queue\n", "t.toml:1:7: Error while parsing table header: expected ']', saw '\\n'"},
      {"value", "[smtp]\nmax_errors = \n",
       "t.toml:2:14: Error while parsing key-value pair: expected value, saw '\\n'"},
      {"redefined", "[queue]\n[queue]\n",
       "t.toml:2:1: Error while parsing table header: cannot redefine existing table 'queue'"},
  };
  check(std::begin(cases), std::end(cases));
}

TEST(configErrors, FileNameOfTheEmbeddedDefaultIsNotUsedForUserErrors) {
  // A relation broken by the user's file points at the user's key even if the other came from the default.
  EXPECT_EQ(error_of("[tls]\ncertificate = \"/c.pem\"\n"),
            "t.toml:2:15: tls.certificate: set tls.key too (both or neither)");
}

}  // namespace
}  // namespace ferry::config
