// Transcript tests: replays tests/transcripts/*.txt against ServerSession, one test per file.
// Format (see tests/transcripts/README.md): "C: " client line (+CRLF), "C! " raw bytes without
// CRLF, "S: " expected reply line ("*" at the end = prefix match), "@directive ..." actions.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ferry/text/Cidr.hpp"
#include "mta/smtp/RelayPolicy.hpp"
#include "mta/smtp/ServerSession.hpp"

using namespace ferry;
using namespace ferry::smtp;
using ferry::text::Cidr;

namespace {

std::filesystem::path transcript_dir() {
  return std::filesystem::path(FERRY_SOURCE_DIR) / "tests" / "transcripts";
}

std::vector<std::string> transcript_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(transcript_dir()))
    if (e.path().extension() == ".txt") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// \r \n \t \\ \xHH escapes.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char n = s[++i];
    switch (n) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x':
        if (i + 2 < s.size()) {
          out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        }
        break;
      default:
        out += '\\';
        out += n;
        break;
    }
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

std::map<std::string, std::string> key_values(std::string_view s) {
  std::map<std::string, std::string> kv;
  for (const auto& tok : split(s, ' ')) {
    if (tok.empty()) continue;
    const auto eq = tok.find('=');
    kv[tok.substr(0, eq)] = eq == std::string::npos ? "" : unescape(tok.substr(eq + 1));
  }
  return kv;
}

std::string notify_text(std::uint8_t n) {
  if (n == kNotifyUnspecified) return "-";
  if (n & kNotifyNever) return "NEVER";
  std::string s;
  if (n & kNotifySuccess) s += "SUCCESS,";
  if (n & kNotifyFailure) s += "FAILURE,";
  if (n & kNotifyDelay) s += "DELAY,";
  s.pop_back();
  return s;
}

const char* ret_text(DsnRet r) { return r == DsnRet::Full ? "FULL" : r == DsnRet::Hdrs ? "HDRS" : "-"; }
const char* body_text(BodyType b) {
  switch (b) {
    case BodyType::SevenBit:
      return "7BIT";
    case BodyType::EightBitMime:
      return "8BITMIME";
    case BodyType::BinaryMime:
      return "BINARYMIME";
    default:
      return "-";
  }
}

// Splits a committed body into our Received header and the rest.
std::pair<std::string, std::string> split_received(const std::string& body) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t nl = body.find("\r\n", pos);
    if (nl == std::string::npos) return {body, ""};
    pos = nl + 2;
    if (pos >= body.size() || body[pos] != '\t') break;
  }
  return {body.substr(0, pos), body.substr(pos)};
}

class Runner {
 public:
  explicit Runner(std::string name) : name_(std::move(name)) {
    policy_.hostname = "mx.example.org";
    policy_.client_ip = "192.0.2.10";
    policy_.client_may_relay = true;
    policy_.tls_available = true;
    policy_.auth_available = true;
    rules_.local_domains = {"example.org", "localhost"};
    rules_.aliases = {{"root", "admin@example.net"}};
  }

  void run() {
    std::ifstream in(transcript_dir() / name_, std::ios::binary);
    ASSERT_TRUE(in) << name_;
    std::string line;
    while (std::getline(in, line)) {
      ++lineno_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      step(line);
      if (::testing::Test::HasFatalFailure()) return;
    }
    ensure_session();
    EXPECT_TRUE(replies_.empty()) << where() << "unexpected reply at end: "
                                  << (replies_.empty() ? "" : replies_.front());
  }

 private:
  std::string where() const { return name_ + ":" + std::to_string(lineno_) + ": "; }

  void ensure_session() {
    if (session_) return;
    relay_ = std::make_unique<RelayPolicy>(rules_);
    SessionHooks hooks;
    hooks.next_queue_id = [this] { return QueueId{++ids_}; };
    hooks.now = [] { return WallTime{1704067200000, 0}; };
    hooks.decide_recipient = [this](std::string_view address, bool authenticated) {
      return relay_->decide(address, policy_.client_may_relay, authenticated);
    };
    session_ = std::make_unique<ServerSession>(policy_, hooks);
    if (start_) session_->start();
    drain();
  }

  void drain() {
    while (session_->has_action()) {
      SessionAction a = session_->next_action();
      if (auto* r = std::get_if<SendReply>(&a)) {
        EXPECT_FALSE(closed_) << where() << "reply after Close";
        std::string_view t = r->text;
        ASSERT_TRUE(t.size() >= 2 && t.substr(t.size() - 2) == "\r\n")
            << where() << "reply not CRLF-terminated";
        while (!t.empty()) {
          const auto nl = t.find("\r\n");
          replies_.emplace_back(t.substr(0, nl));
          t.remove_prefix(nl + 2);
        }
      } else if (std::holds_alternative<StartTls>(a)) {
        ++starttls_;
      } else if (auto* v = std::get_if<VerifyAuth>(&a)) {
        auths_.push_back(*v);
      } else if (auto* g = std::get_if<SignMessage>(&a)) {
        signs_.push_back(std::move(*g));
      } else if (auto* c = std::get_if<CommitMessage>(&a)) {
        commits_.push_back(std::move(*c));
      } else if (std::holds_alternative<Close>(a)) {
        closed_ = true;
      }
    }
  }

  void set_policy(const std::string& key, const std::string& v) {
    ASSERT_FALSE(session_) << where() << "@policy after the session started";
    auto b = [&] { return v == "true" || v == "1" || v == "yes"; };
    if (key == "hostname")
      policy_.hostname = v;
    else if (key == "max_message_size")
      policy_.max_message_size = std::stoull(v);
    else if (key == "max_recipients")
      policy_.max_recipients = std::stoull(v);
    else if (key == "max_errors")
      policy_.max_errors = std::stoull(v);
    else if (key == "junk_command_limit")
      policy_.junk_command_limit = std::stoull(v);
    else if (key == "max_received_headers")
      policy_.max_received_headers = std::stoull(v);
    else if (key == "bare_newline")
      policy_.bare_newline = v == "reject" ? BareNewlinePolicy::Reject : BareNewlinePolicy::Normalize;
    else if (key == "tls_available")
      policy_.tls_available = b();
    else if (key == "tls_active")
      policy_.tls_active = b();
    else if (key == "implicit_tls")
      policy_.implicit_tls = b();
    else if (key == "tls_version")
      policy_.tls_version = v;
    else if (key == "tls_cipher")
      policy_.tls_cipher = v;
    else if (key == "auth_available")
      policy_.auth_available = b();
    else if (key == "allow_plaintext_auth")
      policy_.allow_plaintext_auth = b();
    else if (key == "auth_required")
      policy_.auth_required = b();
    else if (key == "client_ip")
      policy_.client_ip = v;
    else if (key == "client_hostname")
      policy_.client_hostname = v;
    else if (key == "relay_allowed" || key == "client_may_relay")
      policy_.client_may_relay = b();
    else if (key == "sign_messages")
      policy_.sign_messages = b();
    else if (key == "relay_networks") {
      // The daemon's computation: client_may_relay = client IP in these networks.
      std::vector<Cidr> nets;
      for (const auto& n : split(v, ','))
        if (!n.empty()) nets.push_back(*Cidr::parse(n));
      policy_.client_may_relay = any_contains(nets, policy_.client_ip);
    } else if (key == "local_domains")
      rules_.local_domains = v.empty() ? std::vector<std::string>{} : split(v, ',');
    else if (key == "relay_domains")
      rules_.relay_domains = v.empty() ? std::vector<std::string>{} : split(v, ',');
    else if (key == "alias") {
      const auto colon = v.find(':');
      rules_.aliases[v.substr(0, colon)] = v.substr(colon + 1);
    } else if (key == "start")
      start_ = b();
    else
      FAIL() << where() << "unknown policy key " << key;
  }

  void expect_reply(const std::string& want) {
    ASSERT_FALSE(replies_.empty()) << where() << "expected reply '" << want << "', got none";
    const std::string got = replies_.front();
    replies_.pop_front();
    if (!want.empty() && want.back() == '*') {
      EXPECT_EQ(got.substr(0, want.size() - 1), want.substr(0, want.size() - 1)) << where();
    } else {
      EXPECT_EQ(got, want) << where();
    }
  }

  const CommitMessage& last_commit() {
    static CommitMessage empty;
    EXPECT_FALSE(commits_.empty()) << where() << "no CommitMessage";
    return commits_.empty() ? empty : commits_.back();
  }

  void expect_envelope(const std::map<std::string, std::string>& kv) {
    const CommitMessage& c = last_commit();
    const Envelope& e = c.envelope;
    for (const auto& [k, v] : kv) {
      if (k == "from")
        EXPECT_EQ(e.reverse_path, v) << where();
      else if (k == "rcpts") {
        std::string got;
        for (const auto& r : e.recipients) got += (got.empty() ? "" : ",") + r.address;
        EXPECT_EQ(got, v) << where();
      } else if (k == "rcpt_count")
        EXPECT_EQ(e.recipients.size(), std::stoull(v)) << where();
      else if (k == "ret")
        EXPECT_EQ(ret_text(e.ret), v) << where();
      else if (k == "envid")
        EXPECT_EQ(e.envid, v) << where();
      else if (k == "body_type")
        EXPECT_EQ(body_text(e.body_type), v) << where();
      else if (k == "smtputf8")
        EXPECT_EQ(e.smtputf8 ? "1" : "0", v) << where();
      else if (k == "require_tls")
        EXPECT_EQ(e.require_tls ? "1" : "0", v) << where();
      else if (k == "protocol")
        EXPECT_EQ(e.client.protocol, v) << where();
      else if (k == "helo")
        EXPECT_EQ(e.client.helo, v) << where();
      else if (k == "client")
        EXPECT_EQ(e.client.address, v) << where();
      else if (k == "auth_user")
        EXPECT_EQ(e.client.auth_user, v) << where();
      else if (k == "size")
        EXPECT_EQ(e.size, std::stoull(v)) << where();
      else if (k == "queue_id")
        EXPECT_EQ(c.queue_id.str(), v) << where();
      else if (k == "arrival")
        EXPECT_EQ(e.arrival_ms, std::stoll(v)) << where();
      else
        ADD_FAILURE() << where() << "unknown envelope key " << k;
    }
  }

  void expect_rcpt(const std::vector<std::string>& args) {
    // @expect-rcpt <index> address=... notify=... orcpt=...
    const CommitMessage& c = last_commit();
    const std::size_t i = std::stoull(args.at(0));
    ASSERT_LT(i, c.envelope.recipients.size()) << where();
    const auto& r = c.envelope.recipients[i];
    for (std::size_t k = 1; k < args.size(); ++k) {
      const auto eq = args[k].find('=');
      const std::string key = args[k].substr(0, eq), v = unescape(args[k].substr(eq + 1));
      if (key == "address")
        EXPECT_EQ(r.address, v) << where();
      else if (key == "notify")
        EXPECT_EQ(notify_text(r.notify), v) << where();
      else if (key == "orcpt")
        EXPECT_EQ(r.orcpt.empty() ? "-" : r.orcpt, v) << where();
      else
        ADD_FAILURE() << where() << "unknown rcpt key " << key;
    }
  }

  void step(const std::string& line) {
    const std::string_view l = line;
    if (l.substr(0, 3) == "C: " || l == "C:") {
      ensure_session();
      session_->feed(unescape(l.size() > 3 ? l.substr(3) : "") + "\r\n");
      drain();
    } else if (l.substr(0, 3) == "C! ") {
      ensure_session();
      session_->feed(unescape(l.substr(3)));
      drain();
    } else if (l.substr(0, 3) == "S: " || l == "S:") {
      ensure_session();
      expect_reply(std::string(l.size() > 3 ? l.substr(3) : ""));
    } else if (l[0] == '@') {
      directive(line);
    } else {
      FAIL() << where() << "unrecognised line: " << line;
    }
  }

  void directive(const std::string& line) {
    const auto sp = line.find(' ');
    const std::string cmd = line.substr(0, sp);
    const std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    const auto args = split(rest, ' ');
    if (cmd == "@policy") {
      for (const auto& [k, v] : key_values(rest)) set_policy(k, v);
      return;
    }
    if (cmd == "@repeat") {
      // @repeat N <line with {i}> : the line N times, {i} = 1..N.
      const auto sp2 = rest.find(' ');
      const int n = std::stoi(rest.substr(0, sp2));
      const std::string tmpl = rest.substr(sp2 + 1);
      for (int i = 1; i <= n; ++i) {
        std::string one = tmpl;
        for (auto p = one.find("{i}"); p != std::string::npos; p = one.find("{i}"))
          one.replace(p, 3, std::to_string(i));
        step(one);
        if (::testing::Test::HasFatalFailure()) return;
      }
      return;
    }
    ensure_session();
    if (cmd == "@commit") {
      ASSERT_GT(commits_.size(), commit_results_) << where() << "@commit without a pending CommitMessage";
      ++commit_results_;
      const std::string& what = args.at(0);
      if (what == "ok")
        session_->commit_result(Result<void>());
      else if (what == "map_full")
        session_->commit_result(make_error(ErrorKind::MapFull, "map full"));
      else if (what == "disk_full")
        session_->commit_result(make_error(ErrorKind::DiskFull, "disk full"));
      else if (what == "fail")
        session_->commit_result(make_error(ErrorKind::Io, "io error"));
      else
        FAIL() << where() << "bad @commit " << what;
    } else if (cmd == "@sign") {
      // Answers the pending SignMessage: "ok" prepends a DKIM-Signature field as the daemon would.
      ASSERT_GT(signs_.size(), sign_results_) << where() << "@sign without a pending SignMessage";
      SignMessage& sign = signs_[sign_results_++];
      const std::string& what = args.at(0);
      if (what == "ok")
        session_->sign_result("DKIM-Signature: v=1; d=example.org\r\n" + sign.body);
      else if (what == "unsigned")
        session_->sign_result(std::move(sign.body));
      else if (what == "fail")
        session_->sign_result(make_error(ErrorKind::Security, "no key"));
      else if (what == "busy")
        session_->sign_result(make_error(ErrorKind::Busy, "no memory"));
      else
        FAIL() << where() << "bad @sign " << what;
    } else if (cmd == "@expect-signs") {
      EXPECT_EQ(signs_.size(), std::stoul(args.at(0))) << where();
    } else if (cmd == "@commit-unsolicited") {
      session_->commit_result(Result<void>());  // must produce nothing
    } else if (cmd == "@auth") {
      const std::string& what = args.at(0);
      session_->auth_result(what == "ok"     ? AuthOutcome::Ok
                            : what == "temp" ? AuthOutcome::TempFail
                                             : AuthOutcome::Invalid);
    } else if (cmd == "@tls") {
      session_->tls_started(args.at(0), args.size() > 1 ? args[1] : "");
    } else if (cmd == "@ehlo") {
      // EHLO <name>, consuming the whole 250 reply (checked in detail by 01-ehlo-keywords.txt).
      session_->feed("EHLO " + (rest.empty() ? std::string("client.example") : rest) + "\r\n");
      drain();
      while (true) {
        ASSERT_FALSE(replies_.empty()) << where() << "EHLO reply incomplete";
        const std::string r = replies_.front();
        replies_.pop_front();
        ASSERT_EQ(r.substr(0, 3), "250") << where() << r;
        if (r.size() < 4 || r[3] == ' ') break;
      }
    } else if (cmd == "@shutdown") {
      session_->shutdown();
    } else if (cmd == "@expect-starttls") {
      EXPECT_EQ(starttls_, std::stoul(args.at(0).empty() ? "1" : args.at(0))) << where();
    } else if (cmd == "@expect-close") {
      EXPECT_TRUE(closed_) << where();
    } else if (cmd == "@expect-open") {
      EXPECT_FALSE(closed_) << where();
    } else if (cmd == "@expect-commits") {
      EXPECT_EQ(commits_.size(), std::stoul(args.at(0))) << where();
    } else if (cmd == "@expect-no-reply") {
      EXPECT_TRUE(replies_.empty()) << where() << "pending reply: " << replies_.front();
    } else if (cmd == "@expect-auth") {
      // @expect-auth MECH user password [authzid]
      ASSERT_FALSE(auths_.empty()) << where() << "no VerifyAuth";
      const auto& a = auths_.back();
      EXPECT_EQ(a.mechanism, args.at(0)) << where();
      EXPECT_EQ(a.user, unescape(args.at(1))) << where();
      EXPECT_EQ(a.password, unescape(args.at(2))) << where();
      EXPECT_EQ(a.authzid, args.size() > 3 ? unescape(args[3]) : "") << where();
    } else if (cmd == "@expect-auths") {
      EXPECT_EQ(auths_.size(), std::stoul(args.at(0))) << where();
    } else if (cmd == "@expect-envelope") {
      expect_envelope(key_values(rest));
    } else if (cmd == "@expect-rcpt") {
      expect_rcpt(args);
    } else if (cmd == "@expect-body") {
      EXPECT_EQ(split_received(last_commit().body).second, unescape(rest)) << where();
    } else if (cmd == "@expect-body-starts") {
      // The whole committed body (signature fields and our Received header included) starts so.
      const std::string& body = last_commit().body;
      EXPECT_TRUE(body.starts_with(unescape(rest))) << where() << body.substr(0, 80);
    } else if (cmd == "@expect-body-size") {
      EXPECT_EQ(split_received(last_commit().body).second.size(), std::stoull(args.at(0))) << where();
    } else if (cmd == "@expect-received") {
      // The whole Received header, escaped (CRLF as \r\n, TAB as \t).
      EXPECT_EQ(split_received(last_commit().body).first, unescape(rest)) << where();
    } else if (cmd == "@expect-received-contains") {
      const std::string r = split_received(last_commit().body).first;
      EXPECT_NE(r.find(unescape(rest)), std::string::npos) << where() << r;
    } else {
      FAIL() << where() << "unknown directive " << cmd;
    }
    drain();
  }

  std::string name_;
  int lineno_ = 0;
  SessionPolicy policy_;
  RelayRules rules_;
  bool start_ = true;
  std::unique_ptr<RelayPolicy> relay_;
  std::unique_ptr<ServerSession> session_;
  std::uint64_t ids_ = 0;
  std::deque<std::string> replies_;
  std::vector<SignMessage> signs_;
  std::size_t sign_results_ = 0;
  std::vector<CommitMessage> commits_;
  std::size_t commit_results_ = 0;
  std::vector<VerifyAuth> auths_;
  std::size_t starttls_ = 0;
  bool closed_ = false;
};

class smtp_Transcript : public ::testing::TestWithParam<std::string> {};

TEST_P(smtp_Transcript, Replays) { Runner(GetParam()).run(); }

INSTANTIATE_TEST_SUITE_P(smtp, smtp_Transcript, ::testing::ValuesIn(transcript_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param.substr(0, info.param.rfind('.'));
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
