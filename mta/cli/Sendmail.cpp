// Sendmail: `ferry sendmail` (also run as `sendmail`, `mailq`, `newaliases`), the interface cron
// and applications use. The message goes to the running daemon over SMTP on its relay listener;
// when the daemon cannot be reached it is written straight into the queue with QueueStore (as
// Postfix's postdrop does), so local mail is not lost while Ferry is stopped. A user who cannot
// write the queue hands it to `ferry postdrop` for the maildrop instead.
// Contract: exit 0 only after the message is durably queued or in the maildrop; otherwise a
// sysexits(3) code: 75 temporary (daemon down, queue and maildrop not writable, 4xx), 67
// recipient refused, 65 message refused, 69 other refusal, 64 usage, 78 configuration.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <variant>

#include "mta/cli/CliConfig.hpp"
#include "mta/cli/Commands.hpp"
#include "mta/cli/LocalMessage.hpp"
#include "mta/cli/QueueOwner.hpp"
#include "mta/cli/SendmailOptions.hpp"
#include "mta/config/Config.hpp"
#include "mta/dkim/FromConfig.hpp"
#include "mta/inbound/LocalSubmission.hpp"
#include "mta/inbound/MaildropFile.hpp"
#include "mta/inbound/PrepareForQueue.hpp"
#include "mta/ops/PidFile.hpp"
#include "mta/ops/SystemClock.hpp"
#include "mta/policy/SmtpPolicy.hpp"
#include "mta/smtp/AddressParser.hpp"
#include "mta/smtp/ClientSession.hpp"
#include "mta/smtp/DotStuffer.hpp"
#include "mta/smtp/ReceivedHeader.hpp"
#include "mta/smtp/RelayPolicy.hpp"
#include "mta/smtp/ServerSession.hpp"
#include "queue/QueueStore.hpp"

#ifndef FERRY_DEFAULT_CONFIG
#define FERRY_DEFAULT_CONFIG "/etc/ferry/ferry.toml"
#endif

namespace ferry::cli {
namespace {

constexpr int kExitDataErr = 65;
constexpr int kExitNoUser = 67;
constexpr int kExitUnavailable = 69;
constexpr int kExitIoErr = 74;

void say(const std::string& text) { std::fprintf(stderr, "sendmail: %s\n", text.c_str()); }

std::string system_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string login_name() {
  if (passwd* pw = getpwuid(getuid()); pw && pw->pw_name) return pw->pw_name;
  return "uid" + std::to_string(getuid());
}

smtp::WallTime wall_now() {
  TimeMs now = now_ms();
  std::time_t t = static_cast<std::time_t>(now / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  return smtp::WallTime{now, static_cast<int>(local.tm_gmtoff / 60)};
}

std::string random_hex(std::size_t n) {
  std::random_device rd;
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += digits[rd() % 16];
  return s;
}

// -C, else $FERRY_CONFIG, else the installed /etc/ferry/ferry.toml when present, else the
// embedded default (nullopt, as `ferry serve` without --config).
std::optional<std::string> sendmail_config_path(const SendmailOptions& o) {
  if (o.config_path) return o.config_path;
  if (const char* env = std::getenv("FERRY_CONFIG"); env && *env) return std::string(env);
  if (struct stat st{}; ::stat(FERRY_DEFAULT_CONFIG, &st) == 0) return std::string(FERRY_DEFAULT_CONFIG);
  return std::nullopt;
}

std::optional<config::Config> load_sendmail_config(const SendmailOptions& o) {
  CommonOptions common;
  common.config_path = sendmail_config_path(o);
  return load_cli_config(common);
}

Args config_args(const SendmailOptions& o) {
  if (o.config_path) return {"--config", *o.config_path};
  if (const char* env = std::getenv("FERRY_CONFIG"); env && *env) return {};
  if (struct stat st{}; ::stat(FERRY_DEFAULT_CONFIG, &st) == 0) return {"--config", FERRY_DEFAULT_CONFIG};
  return {};
}

// The daemon's relay listener, as a loopback address when it listens on a wildcard.
std::optional<std::pair<std::string, std::uint16_t>> daemon_address(const config::Config& cfg) {
  for (const auto& l : cfg.listen) {
    if (l.mode != config::ListenMode::Relay || l.port == 0) continue;
    std::string ip = l.address;
    if (ip == "0.0.0.0") ip = "127.0.0.1";
    if (ip == "::") ip = "::1";
    return std::make_pair(ip, l.port);
  }
  return std::nullopt;
}

// A blocking TCP connection to the daemon; -1 with `error` set when it cannot be reached.
int connect_daemon(const std::string& ip, std::uint16_t port, std::string& error) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (ip.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) return error = "bad address " + ip, -1;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) return error = "bad address " + ip, -1;
    len = sizeof *a;
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return error = std::strerror(errno), -1;
  timeval tv{300, 0};  // RFC 5321 §4.5.3.2: the data-termination reply may take minutes
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error = "connect to " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool write_all_fd(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

struct Submission {
  std::string sender;  // "" = <>
  std::vector<std::string> recipients;
  std::string message;  // CRLF, headers completed (without our Received)
  const SendmailOptions* options = nullptr;
};

int code_exit(int code, int permanent) {
  return code >= 400 && code < 500 ? kExitTempFail : (code == 0 ? kExitTempFail : permanent);
}

// What the dialogue with the daemon showed: the reply that decided (the last one before our QUIT)
// as the daemon wrote it, for the messages users see.
struct Dialogue {
  bool verbose = false;
  std::string lines;    // the reply being received, lines joined with "\n"
  std::string command;  // what the deciding reply answered ("greeting", "RCPT TO"...)
  int code = 0;
  std::string text;         // its lines, codes included
  std::string waiting_for;  // the last command sent, for "connection lost"
  std::string lost;         // why the connection ended early, or empty

  void observe(const smtp::TranscriptEvent& e) {
    using K = smtp::TranscriptKind;
    if (e.kind == K::Sent) {
      if (verbose) std::fprintf(stderr, ">>> %.*s\n", static_cast<int>(e.line.size()), e.line.data());
      waiting_for = std::string(e.line.substr(0, e.line.find(' ')));
    } else if (e.kind == K::MessageData) {
      waiting_for = "the message data";
    } else if (e.kind == K::Received) {
      if (verbose) std::fprintf(stderr, "<<< %.*s\n", static_cast<int>(e.line.size()), e.line.data());
      if (!lines.empty()) lines += "\n";
      lines += e.line;
    } else if (e.command != "QUIT") {
      command = std::string(e.command);
      code = e.reply->code;
      text = std::exchange(lines, {});
    } else {
      lines.clear();
    }
  }
};

// The envelope as the daemon should receive it: DSN parameters as given, SMTPUTF8 when an
// address needs it (RFC 6531 §3.4), 8BITMIME for an 8-bit body (RFC 6152).
Envelope submission_envelope(const Submission& s) {
  const SendmailOptions& o = *s.options;
  Envelope e;
  e.reverse_path = s.sender;
  e.smtputf8 = smtp::has_8bit(s.sender);
  for (const auto& r : s.recipients) {
    e.recipients.push_back(EnvelopeRecipient{r, "", o.notify});
    e.smtputf8 = e.smtputf8 || smtp::has_8bit(r);
  }
  e.ret = o.ret;
  e.envid = o.envid;
  e.body_type = smtp::has_8bit(s.message) ? BodyType::EightBitMime : BodyType::Unspecified;
  return e;
}

// Drives the session over the blocking socket until it closes: write what it asks, read, feed;
// QUIT once the transaction is over. Returns the results.
std::vector<smtp::RecipientResult> run_session(int fd, smtp::ClientSession& session, Dialogue& d) {
  std::vector<smtp::RecipientResult> results;
  char buf[4096];
  while (!session.closed() || session.has_action()) {
    std::string broken;
    for (auto& action : session.take_actions()) {
      if (auto* send = std::get_if<smtp::ClientSend>(&action)) {
        if (broken.empty() && !write_all(fd, send->bytes)) broken = std::strerror(errno);
      } else if (auto* done = std::get_if<smtp::ClientDone>(&action)) {
        results.insert(results.end(), done->results.begin(), done->results.end());
      }
    }
    if (!broken.empty()) {
      d.lost = "write failed: " + broken;
      session.connection_lost(d.lost);
      continue;
    }
    if (session.closed() || session.has_action()) continue;
    if (session.idle()) {
      session.finish();  // RFC 5321 §4.1.1.10
      continue;
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      d.lost = n == 0 ? "connection closed by the daemon" : std::strerror(errno);
      session.connection_lost(d.lost);
      continue;
    }
    session.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  return results;
}

// The exit code for a submission that was not queued, with the daemon's reason on stderr.
int refusal_exit(const Submission& s, const Dialogue& d, const std::vector<smtp::RecipientResult>& results) {
  if (d.code >= 400) {
    if (d.command == "greeting")
      return say("daemon greeting: " + d.text), code_exit(d.code, kExitUnavailable);
    if (d.command == "EHLO" || d.command == "HELO")
      return say("EHLO: " + d.text), code_exit(d.code, kExitUnavailable);
    if (d.command == "MAIL FROM")
      return say("sender <" + s.sender + ">: " + d.text), code_exit(d.code, kExitUnavailable);
    if (d.command == "RCPT TO") {
      // All or nothing: the caller learns of the failure from the exit code, no bounce is sent.
      std::string who;
      for (const auto& r : results)
        if (r.attempt.code == d.code && r.index < s.recipients.size()) who = s.recipients[r.index];
      say("recipient <" + who + ">: " + d.text + " (message not sent)");
      return code_exit(d.code, kExitNoUser);
    }
    if (d.command == "DATA") return say("DATA: " + d.text), code_exit(d.code, kExitUnavailable);
    return say("message: " + d.text), code_exit(d.code, kExitDataErr);
  }
  if (!d.lost.empty())
    return say((d.waiting_for.empty() ? "daemon greeting" : d.waiting_for) + ": connection lost"),
           kExitTempFail;
  // Refused before anything was sent (the daemon's announced SIZE, say).
  for (const auto& r : results) {
    if (r.attempt.outcome == AttemptOutcome::Delivered) continue;
    say("message: " + r.attempt.status + " " + r.attempt.reply);
    return r.attempt.outcome == AttemptOutcome::Permanent ? kExitDataErr : kExitTempFail;
  }
  return say("the daemon ended the session"), kExitTempFail;
}

// Submits over SMTP with the one SMTP client (lock-step, no TLS on loopback, all recipients or
// none). Returns the exit code; `queue_id` gets the id from "queued as".
int submit_smtp(int fd, const Submission& s, std::string& queue_id) {
  Dialogue d;
  d.verbose = s.options->verbose;
  smtp::ClientOptions o;
  o.helo_name = system_host_name();
  o.tls = smtp::ClientTlsPolicy::None;
  o.use_pipelining = false;
  o.all_recipients_or_none = true;
  o.transcript = [&d](const smtp::TranscriptEvent& e) { d.observe(e); };
  smtp::ClientSession session(std::move(o), submission_envelope(s), s.message);
  const auto results = run_session(fd, session, d);
  const bool queued = session.messages_sent() == 1 && results.size() == s.recipients.size() &&
                      std::all_of(results.begin(), results.end(), [](const smtp::RecipientResult& r) {
                        return r.attempt.outcome == AttemptOutcome::Delivered;
                      });
  if (!queued) return refusal_exit(s, d, results);
  if (auto at = d.text.find("queued as "); at != std::string::npos) queue_id = d.text.substr(at + 10);
  return kExitOk;
}

// Opens the queue for a direct enqueue; prints why not and returns null when it cannot.
std::unique_ptr<queue::QueueStore> open_queue_for_writing(const config::Config& cfg,
                                                          const std::string& why_direct) {
  const std::string& path = cfg.queue.path;
  // Root writes the queue as its owner, so the files it creates never lock the daemon out.
  if (auto access = become_queue_owner(cfg); access.kind == QueueAccess::Kind::Refused) {
    say("the daemon is not reachable (" + why_direct + ") and " + access.message +
        ": message not sent, try again later");
    return nullptr;
  }
  if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0) {
    say("the daemon is not reachable (" + why_direct + ") and the queue " + path +
        " is not writable by this user: message not sent, try again later");
    return nullptr;
  }
  auto opened = queue::QueueStore::open(queue_options(cfg));
  if (!opened) {
    say("the daemon is not reachable (" + why_direct + ") and the queue " + path + " cannot be opened (" +
        opened.error().message + "): message not sent, try again later");
    return nullptr;
  }
  return std::move(*opened);
}

// The submission as the daemon's acceptance path takes it.
inbound::LocalSubmission local_submission(const Submission& s) {
  inbound::LocalSubmission local;
  local.sender = s.sender;
  local.recipients = s.recipients;
  local.message = s.message;
  local.notify = s.options->notify;
  local.ret = s.options->ret;
  local.envid = s.options->envid;
  local.uid = getuid();
  local.login = login_name();
  return local;
}

// Writes the message into the queue with the envelope shape the SMTP server produces.
int enqueue_direct(queue::QueueStore& store, const config::Config& cfg, const std::string& hostname,
                   const Submission& s, std::string& queue_id) {
  std::optional<dkim::DkimSigner> signer;
  if (!cfg.dkim.empty()) {
    // Local mail is signed as mail from the relay networks is (the daemon does it at acceptance).
    auto created = dkim::DkimSigner::create(dkim::signing_entries(cfg));
    if (!created) return say("DKIM: " + created.error().message + ": message not sent"), kExitTempFail;
    signer = std::move(*created);
  }
  const QueueId id = store.allocate_id();
  queue_id = id.str();
  auto msg = inbound::make_local_message(cfg, hostname, signer ? &*signer : nullptr, local_submission(s), id,
                                         wall_now());
  if (!msg) {
    const Error& e = msg.error();
    if (e.kind == ErrorKind::NotFound) return say(e.message + " (message not sent)"), kExitNoUser;
    if (e.kind == ErrorKind::Security) return say(e.message + ": message not sent"), kExitTempFail;
    return say(e.message), kExitDataErr;
  }
  auto r = store.enqueue(*msg);
  if (!r) {
    say("cannot queue the message: " + r.error().message);
    return r.error().kind == ErrorKind::MapFull || r.error().kind == ErrorKind::DiskFull ? kExitTempFail
                                                                                         : kExitIoErr;
  }
  return kExitOk;
}

// Whether this user may write the queue (root may: it switches to the queue's owner).
bool may_write_queue(const config::Config& cfg) {
  if (::geteuid() == 0) return true;
  if (become_queue_owner(cfg).kind != QueueAccess::Kind::Owner) return false;
  const char* path = cfg.queue.path.c_str();
  return ::access(path, F_OK) != 0 || ::access(path, W_OK) == 0;
}

// ferry-postdrop next to this binary (installed setgid ferry-drop), else `ferry postdrop`.
std::vector<std::string> postdrop_command(const SendmailOptions& o) {
  std::string self(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
  self.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  std::vector<std::string> argv;
  const std::string helper = self.substr(0, self.rfind('/') + 1) + "ferry-postdrop";
  if (!self.empty() && ::access(helper.c_str(), X_OK) == 0)
    argv = {helper};
  else
    argv = {self.empty() ? std::string("/proc/self/exe") : self, "postdrop"};
  // postdrop clears its environment: the configuration this sendmail uses is named explicitly.
  if (auto path = sendmail_config_path(o)) argv.insert(argv.end(), {"-C", *path});
  return argv;
}

// The daemon is down and this user cannot write the queue: hand the message to postdrop for the
// maildrop (as Postfix's sendmail does), with a clean environment. Returns postdrop's exit code.
int drop_in_maildrop(const Submission& s) {
  inbound::MaildropEntry entry;
  entry.recipients = s.recipients;
  entry.notify = s.options->notify;
  entry.ret = s.options->ret;
  entry.envid = s.options->envid;
  entry.message = s.message;
  const std::string data = inbound::encode_maildrop(entry);
  const std::vector<std::string> argv = postdrop_command(*s.options);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return say(std::string("pipe: ") + std::strerror(errno)), kExitTempFail;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    char* no_env[] = {nullptr};
    ::execve(args[0], args.data(), no_env);
    std::fprintf(stderr, "sendmail: cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(kExitTempFail);
  }
  ::close(fds[0]);
  ::signal(SIGPIPE, SIG_IGN);  // postdrop may refuse before reading everything
  const bool written = pid > 0 && write_all_fd(fds[1], data);
  ::close(fds[1]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return say("cannot run postdrop"), kExitTempFail;
  if (!WIFEXITED(status)) return say("postdrop failed"), kExitTempFail;
  if (WEXITSTATUS(status) == kExitOk && !written) return kExitTempFail;
  return WEXITSTATUS(status);
}

int deliver(const SendmailOptions& o, const config::Config& cfg) {
  const std::string hostname = config::effective_hostname(cfg, system_host_name());
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  Submission s;
  s.options = &o;
  s.sender = o.sender ? *o.sender : login_name() + "@" + hostname;
  const std::string from_address = o.sender && !o.sender->empty() ? *o.sender : login_name() + "@" + hostname;
  LocalMessageOptions lm;
  lm.dot_ends_message = o.dot_ends_message;
  lm.recipients_from_headers = o.recipients_from_headers;
  lm.from = format_from(o.full_name, from_address);
  lm.date = smtp::format_rfc5322_date(wall_now());
  lm.message_id = "<" + std::to_string(now_ms()) + "." + random_hex(12) + "@" + hostname + ">";
  LocalMessage prepared = prepare_local_message(input, lm);
  s.message = std::move(prepared.message);
  // sendmail -t: recipients from the header, plus (as Postfix does) those given as arguments.
  // A bare user name gets our host name as domain (Postfix's myorigin); "postmaster" stays.
  auto qualify = [&](std::string a) {
    if (a.find('@') == std::string::npos && !(a.size() == 10 && strcasecmp(a.c_str(), "postmaster") == 0))
      a += "@" + hostname;
    return a;
  };
  auto add = [&](const std::string& raw) {
    std::string a = qualify(raw);
    if (std::find(s.recipients.begin(), s.recipients.end(), a) == s.recipients.end())
      s.recipients.push_back(a);
  };
  for (const auto& r : prepared.recipients) add(r);
  for (const auto& r : o.recipients)
    for (auto& a : parse_address_list(r)) add(a);
  if (!s.sender.empty()) s.sender = qualify(s.sender);
  if (s.recipients.empty()) {
    say(o.recipients_from_headers ? "no recipient addresses found in the message header"
                                  : "no recipients given");
    return kExitUsage;
  }

  std::string why_direct = "no relay listener with a fixed port in the configuration";
  std::string queue_id;
  if (auto where = daemon_address(cfg)) {
    const int fd = connect_daemon(where->first, where->second, why_direct);
    if (fd >= 0) {
      const int rc = submit_smtp(fd, s, queue_id);
      ::close(fd);
      if (o.verbose && rc == kExitOk) say("queued as " + queue_id + " by the daemon");
      return rc;
    }
  }
  if (!may_write_queue(cfg)) {
    const int rc = drop_in_maildrop(s);
    if (o.verbose && rc == kExitOk) say("left in the maildrop for the daemon (" + why_direct + ")");
    return rc;
  }
  auto store = open_queue_for_writing(cfg, why_direct);
  if (!store) return kExitTempFail;
  int rc = enqueue_direct(*store, cfg, hostname, s, queue_id);
  if (rc == kExitOk) {
    if (o.verbose) say("queued as " + queue_id + " directly in " + cfg.queue.path + " (" + why_direct + ")");
    ops::wake_daemon(cfg.queue.path);
  }
  return rc;
}

// -bs with the daemon reachable: relay bytes both ways until the daemon closes.
int proxy_smtp(int fd) {
  std::string pending;
  bool stdin_open = true;
  char buf[16384];
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, static_cast<short>(stdin_open ? POLLIN : 0), 0}};
    if (::poll(fds, stdin_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return kExitIoErr;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return kExitOk;
      if (std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout) != static_cast<std::size_t>(n))
        return kExitIoErr;
      std::fflush(stdout);
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) {
        stdin_open = false;
        ::shutdown(fd, SHUT_WR);
      } else if (!write_all(fd, std::string_view(buf, static_cast<std::size_t>(n)))) {
        return kExitTempFail;
      }
    }
  }
}

// -bs with the daemon down: the same ServerSession as the daemon's, committing straight into
// the queue. The client is trusted like one in the relay networks; no TLS and no AUTH.
int local_smtp(const config::Config& cfg, queue::QueueStore& store) {
  const std::string hostname = config::effective_hostname(cfg, system_host_name());
  smtp::RelayPolicy relay(policy::relay_rules(cfg, hostname));
  smtp::SessionPolicy policy = policy::session_policy(cfg, hostname);
  policy.client_ip = "127.0.0.1";
  policy.client_hostname = "localhost";
  policy.client_may_relay = true;
  policy.masquerade = policy::masquerade_rule(cfg, hostname);  // a local user submits
  smtp::SessionHooks hooks;
  hooks.next_queue_id = [&] { return store.allocate_id(); };
  hooks.now = [] { return wall_now(); };
  hooks.decide_recipient = [&](std::string_view address, bool authenticated) {
    return relay.decide(address, true, authenticated);
  };
  smtp::ServerSession session(policy, hooks);
  session.start();
  bool queued = false;
  char buf[16384];
  for (;;) {
    for (auto& action : session.take_actions()) {
      if (auto* reply = std::get_if<smtp::SendReply>(&action)) {
        std::fwrite(reply->text.data(), 1, reply->text.size(), stdout);
      } else if (auto* commit = std::get_if<smtp::CommitMessage>(&action)) {
        const queue::NewMessage m = inbound::to_queue_record(commit->queue_id, std::move(commit->envelope),
                                                             std::move(commit->body), now_ms());
        auto r = store.enqueue(m);
        if (r)
          queued = true;
        else
          say(commit->queue_id.str() + ": cannot queue the message: " + r.error().message);
        session.commit_result(r);
      }
    }
    std::fflush(stdout);
    if (session.has_action()) continue;
    if (session.closed()) break;
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    session.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  if (queued) ops::wake_daemon(cfg.queue.path);
  return kExitOk;
}

}  // namespace

int cmd_sendmail(const Args& args, bool as_mailq) {
  auto parsed = parse_sendmail_args(args, as_mailq);
  if (!parsed) {
    say(parsed.error());
    std::fputs(
        "usage: sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret] [-V envid] [-C config] [-v] "
        "[recipient ...]\n       sendmail -bs | -bp | -q\n",
        stderr);
    return kExitUsage;
  }
  const SendmailOptions& o = *parsed;
  if (o.verbose)
    for (const auto& ign : o.ignored) say("ignoring option " + ign);
  if (o.mode == SendmailMode::Aliases) {
    say("aliases are the [aliases] table of ferry.toml: nothing to rebuild");
    return kExitOk;
  }
  if (o.mode == SendmailMode::List || o.mode == SendmailMode::Flush) {
    Args q = config_args(o);
    q.push_back(o.mode == SendmailMode::List ? "list" : "flush");
    return cmd_queue(q);
  }
  auto cfg = load_sendmail_config(o);
  if (!cfg) return kExitConfig;
  if (o.mode == SendmailMode::Smtp) {
    std::string why;
    if (auto where = daemon_address(*cfg)) {
      int fd = connect_daemon(where->first, where->second, why);
      if (fd >= 0) {
        int rc = proxy_smtp(fd);
        ::close(fd);
        return rc;
      }
    } else {
      why = "no relay listener with a fixed port in the configuration";
    }
    auto store = open_queue_for_writing(*cfg, why);
    if (!store) {
      std::printf("421 4.3.0 %s Mail system unavailable, try again later\r\n", system_host_name().c_str());
      return kExitTempFail;
    }
    return local_smtp(*cfg, *store);
  }
  return deliver(o, *cfg);
}

}  // namespace ferry::cli
