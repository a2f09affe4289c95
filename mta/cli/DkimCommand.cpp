// DkimCommand: `ferry dkim keygen` (a key file and the DNS record to publish) and `ferry dkim
// sign` (sign a message on stdin with the configured keys, as the server does at acceptance).
// Contract: wiring only; the DKIM rules live in mta/dkim. Exit codes follow sysexits(3).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "ferry/Clock.hpp"
#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/config/ConfigValues.hpp"
#include "mta/dkim/DkimKey.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "mta/dkim/FromConfig.hpp"
#include "mta/ops/SystemClock.hpp"

namespace ferry::cli {
namespace {

constexpr int kExitCantCreate = 73;  // sysexits(3) EX_CANTCREAT

void dkim_usage(std::FILE* out) {
  std::fputs(
      "usage: ferry dkim <command>\n"
      "  keygen --domain D --selector S [--algorithm rsa|ed25519] [--bits N] [--out FILE]\n"
      "      write a new private key (mode 0600; default file D.S.key) and print the DNS TXT\n"
      "      record to publish; rsa keys have 2048 bits unless --bits says more (up to 8192)\n"
      "  sign [--config FILE] [--time UNIX-SECONDS]\n"
      "      sign the message on stdin with the [[dkim]] keys of its From: domain and print it\n"
      "      with the DKIM-Signature header field(s) prepended\n",
      out);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "ferry dkim: %s\n", message.c_str());
  dkim_usage(stderr);
  return kExitUsage;
}

// Writes `text` to a new file `path` with mode 0600; never replaces an existing file (a key that
// is published in DNS must not be lost to a typo).
std::optional<std::string> write_new_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno == EEXIST ? std::string("already exists (ferry never overwrites a key file)")
                           : std::strerror(errno);
  std::optional<std::string> err;
  if (::fchmod(fd, 0600) != 0) err = std::strerror(errno);
  std::size_t done = 0;
  while (!err && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      err = std::strerror(errno);
    else
      done += static_cast<std::size_t>(n);
  }
  if (!err && ::fsync(fd) != 0) err = std::strerror(errno);
  if (::close(fd) != 0 && !err) err = std::strerror(errno);
  if (err) ::unlink(path.c_str());
  return err;
}

// "--name VALUE" or "--name=VALUE".
bool take_value(const Args& args, std::size_t& i, const std::string& name, std::optional<std::string>& value,
                std::string& error) {
  const std::string& a = args[i];
  if (a == name) {
    if (i + 1 == args.size()) {
      error = name + " needs a value";
      return true;
    }
    value = args[++i];
    return true;
  }
  if (a.rfind(name + "=", 0) == 0) {
    value = a.substr(name.size() + 1);
    return true;
  }
  return false;
}

int keygen(const Args& args) {
  std::optional<std::string> domain, selector, algorithm, bits_text, out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string error;
    if (args[i] == "-h" || args[i] == "--help") {
      dkim_usage(stdout);
      return kExitOk;
    }
    const bool known = take_value(args, i, "--domain", domain, error) ||
                       take_value(args, i, "--selector", selector, error) ||
                       take_value(args, i, "--algorithm", algorithm, error) ||
                       take_value(args, i, "--bits", bits_text, error) ||
                       take_value(args, i, "--out", out, error);
    if (!error.empty()) return usage_error("keygen: " + error);
    if (!known) return usage_error("keygen: unexpected argument '" + args[i] + "'");
  }
  if (!domain || !selector) return usage_error("keygen: --domain and --selector are required");
  if (!config::detail::is_domain(*domain))
    return usage_error("keygen: '" + *domain + "' is not a domain name");
  if (!config::detail::is_domain(*selector))
    return usage_error("keygen: '" + *selector +
                       "' is not a valid selector (letters, digits, hyphens and dots)");
  const std::string d = config::detail::to_lower(*domain), s = config::detail::to_lower(*selector);
  dkim::Algorithm alg = dkim::Algorithm::RsaSha256;
  if (algorithm && *algorithm == "ed25519")
    alg = dkim::Algorithm::Ed25519Sha256;
  else if (algorithm && *algorithm != "rsa")
    return usage_error("keygen: --algorithm is rsa or ed25519");
  unsigned bits = dkim::kMinRsaBits;
  if (bits_text) {
    if (alg != dkim::Algorithm::RsaSha256) return usage_error("keygen: --bits applies to rsa keys only");
    char* end = nullptr;
    const unsigned long v = std::strtoul(bits_text->c_str(), &end, 10);
    if (bits_text->empty() || *end != '\0' || v < dkim::kMinRsaBits || v > 8192)
      return usage_error("keygen: --bits must be between 2048 and 8192");
    bits = static_cast<unsigned>(v);
  }
  const std::string path = out.value_or(d + "." + s + ".key");

  auto key = dkim::DkimKey::generate(alg, bits);
  if (!key) {
    std::fprintf(stderr, "ferry dkim keygen: %s\n", key.error().message.c_str());
    return kExitFailure;
  }
  if (auto err = write_new_file(path, key->private_key_pem())) {
    std::fprintf(stderr, "ferry dkim keygen: cannot create %s: %s\n", path.c_str(), err->c_str());
    return kExitCantCreate;
  }
  std::fprintf(stderr, "ferry dkim keygen: wrote %s (%s, %u bits); publish this DNS record:\n", path.c_str(),
               std::string(dkim::key_type(alg)).c_str(), key->bits());
  std::printf("%s\n", dkim::dns_txt_record(s, d, key->dns_txt_value()).c_str());
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

int sign(const Args& raw) {
  CommonOptions common;
  Args args;
  if (int rc = parse_common_options(raw, common, args); rc != kExitOk) return rc;
  std::optional<std::string> time_text;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string error;
    if (!take_value(args, i, "--time", time_text, error))
      return usage_error("sign: unexpected argument '" + args[i] + "'");
    if (!error.empty()) return usage_error("sign: " + error);
  }
  TimeMs now = now_ms();
  if (time_text) {
    char* end = nullptr;
    const long long v = std::strtoll(time_text->c_str(), &end, 10);
    if (time_text->empty() || *end != '\0' || v < 0) return usage_error("sign: --time is Unix seconds");
    now = static_cast<TimeMs>(v) * 1000;
  }
  const auto cfg = load_cli_config(common);
  if (!cfg) return kExitConfig;
  auto signer = dkim::DkimSigner::create(dkim::signing_entries(*cfg));
  if (!signer) {
    std::fprintf(stderr, "ferry: configuration error: %s\n", signer.error().message.c_str());
    return kExitConfig;
  }
  // The message as the server stores it: CRLF lines (a bare LF becomes CRLF, like sendmail).
  const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  std::string message;
  message.reserve(input.size() + input.size() / 32);
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (input[i] == '\n' && (i == 0 || input[i - 1] != '\r')) message += '\r';
    message += input[i];
  }
  auto outcome = signer->sign(message, now);
  if (!outcome) {
    std::fprintf(stderr, "ferry dkim sign: %s\n", outcome.error().message.c_str());
    return kExitFailure;
  }
  if (outcome->headers.empty()) {
    std::fprintf(stderr, "ferry dkim sign: not signed: %s\n", outcome->skipped.c_str());
    return kExitFailure;
  }
  std::fwrite(outcome->headers.data(), 1, outcome->headers.size(), stdout);
  std::fwrite(message.data(), 1, message.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace

int cmd_dkim(const Args& args) {
  if (args.empty()) return usage_error("a command is required");
  const std::string& sub = args.front();
  const Args rest(args.begin() + 1, args.end());
  if (sub == "keygen") return keygen(rest);
  if (sub == "sign") return sign(rest);
  if (sub == "-h" || sub == "--help" || sub == "help") {
    dkim_usage(stdout);
    return kExitOk;
  }
  return usage_error("unknown command '" + sub + "'");
}

std::string check_dkim_keys(const config::Config& cfg) {
  auto signer = dkim::DkimSigner::create(dkim::signing_entries(cfg));
  return signer ? std::string() : signer.error().message;
}

}  // namespace ferry::cli
