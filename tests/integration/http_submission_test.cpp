// Integration: HTTP submission ([[http]]) on a real `ferry serve`, driven with curl: a rendered
// message and a raw one are queued (202 only once committed), DKIM-signed and delivered to a
// fake MX; tokens, bad requests, size limits, the status endpoint and a refusing queue.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "integration/support/MailClient.hpp"
#include "integration/support/Subprocess.hpp"
#include "support/FakeMx.hpp"

namespace ferry {
namespace {

using namespace std::chrono_literals;

const std::string kToken = "app-token-0123456789abcdef";
const std::string kPython = "/usr/bin/python3";
const std::string kVerifyPy = std::string(FERRY_SOURCE_DIR) + "/tests/integration/dkim/verify.py";

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct HttpResult {
  int status = 0;
  std::string headers;
  std::string body;
};

class HttpSubmission : public ::testing::Test {
 protected:
  void SetUp() override { mx_ = std::make_unique<test::FakeMx>("127.0.0.1"); }

  void TearDown() override {
    if (serve_) EXPECT_EQ(serve_->stop(SIGTERM, 15000), 0) << serve_->output();
  }

  void write_tokens(mode_t mode = 0600) {
    dir_.write("tokens", "# applications\n\nnot-this-one-0123456789\n" + kToken + "\n");
    ::chmod(dir_.file("tokens").c_str(), mode);
  }

  std::string config(const std::string& extra) {
    return "hostname = \"ferry.test\"\nuser = \"root\"\n"
           "[queue]\npath = \"" +
           dir_.file("q") + "\"\nmax_size = \"" + max_size_ + "\"\n" + queue_extra_ +
           "[[listen]]\naddress = \"127.0.0.1\"\nport = 0\nmode = \"relay\"\n"
           "[metrics]\nlisten = \"\"\n"
           "[[route]]\ndomain = \"*\"\nhost = \"[127.0.0.1]:" +
           std::to_string(mx_->port()) +
           "\"\n"
           "[[http]]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"" +
           dir_.file("tokens") + "\"\n" + extra;
  }

  void start(const std::string& extra = "[retry]\nfirst = \"1s\"\nmax_interval = \"1s\"\n") {
    write_tokens();
    dir_.write("ferry.toml", config(extra));
    serve_ = std::make_unique<test::Background>(
        std::vector<std::string>{FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")},
        dir_.file("log"));
    ASSERT_TRUE(serve_->wait_for_output("ready: ")) << serve_->output();
    http_port_ = test::port_from_log(serve_->output(), 1);  // after the SMTP listener
    ASSERT_GT(http_port_, 0) << serve_->output();
  }

  // One request with curl; `token` empty = no Authorization field.
  HttpResult request(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::string& token = kToken) {
    std::vector<std::string> argv{
        "/usr/bin/curl", "-sS", "-D",   dir_.file("headers"), "-o", dir_.file("body"), "-w",
        "%{http_code}",  "-X",  method, "--max-time",         "30"};
    if (!token.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
    if (!body.empty() || method == "POST") {
      dir_.write("request.json", body);
      argv.insert(argv.end(),
                  {"-H", "Content-Type: application/json", "--data-binary", "@" + dir_.file("request.json")});
    }
    argv.push_back("http://127.0.0.1:" + std::to_string(http_port_) + path);
    auto r = test::run(argv, "", 40);
    HttpResult out;
    out.status = r.exit_code == 0 ? std::atoi(r.out.c_str()) : -1;
    out.headers = test::run({"/bin/cat", dir_.file("headers")}).out;
    out.body = test::run({"/bin/cat", dir_.file("body")}).out;
    return out;
  }

  static std::string id_of(const HttpResult& r) {
    std::smatch m;
    const std::regex re("\"id\":\"([0-9A-F]{16})\"");
    return std::regex_search(r.body, m, re) ? std::string(m[1]) : std::string();
  }

  std::string queue_list() {
    return test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "list", "--json"}).out;
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeMx> mx_;
  std::unique_ptr<test::Background> serve_;
  int http_port_ = 0;
  std::string queue_extra_;         // more [queue] keys
  std::string max_size_ = "64MiB";  // [queue] max_size
};

// The key `ferry dkim keygen` made and the TXT record it printed, for verify.py.
std::string keygen_ed25519(const test::TempDir& dir) {
  auto r = test::run({FERRY_BINARY, "dkim", "keygen", "--domain", "example.test", "--selector", "ed1",
                      "--algorithm", "ed25519", "--out", dir.file("ed1.key")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  const std::regex quoted(R"re("([^"]*)")re");
  std::string text;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), quoted); it != std::sregex_iterator(); ++it)
    text += (*it)[1];
  return text;
}

TEST_F(HttpSubmission, RendersQueuesSignsAndDelivers) {
  const std::string txt = keygen_ed25519(dir_);
  start("[retry]\nfirst = \"1s\"\n[[dkim]]\ndomain = \"example.test\"\nselector = \"ed1\"\nkey = \"" +
        dir_.file("ed1.key") + "\"\n");
  auto r = request(
      "POST", "/v1/messages",
      R"({"from":"app@example.test","to":["bob@remote.test","carol@remote.test"],)"
      R"("subject":"Caf\u00e9 ready","text":"Hello Bob,\nyour order shipped.","html":"<p>Hello Bob</p>",)"
      R"("headers":{"X-Tag":"welcome","Reply-To":"help@example.test"}})");
  ASSERT_EQ(r.status, 202) << r.body << serve_->output();
  const std::string id = id_of(r);
  ASSERT_EQ(id.size(), 16u) << r.body;
  EXPECT_TRUE(has(r.body, "\"message_id\":\"<" + id + "@ferry.test>\"")) << r.body;
  EXPECT_TRUE(has(r.body, R"("accepted":["bob@remote.test","carol@remote.test"],"refused":[])")) << r.body;
  ASSERT_TRUE(mx_->wait_messages(1)) << serve_->output();
  const auto m = mx_->messages().at(0);
  EXPECT_EQ(m.mail_from, "app@example.test");
  EXPECT_EQ(m.rcpt_to, (std::vector<std::string>{"bob@remote.test", "carol@remote.test"}));
  for (const char* field :
       {"DKIM-Signature: v=1; a=ed25519-sha256;",
        "Received: from [127.0.0.1] ([127.0.0.1])\r\n\tby ferry.test (Ferry) with HTTP (token line 4)\r\n",
        "From: app@example.test\r\n", "To: bob@remote.test,\r\n carol@remote.test\r\n",
        "Subject: =?UTF-8?B?Q2Fmw6kgcmVhZHk=?=\r\n", "X-Tag: welcome\r\n", "Reply-To: help@example.test\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/alternative; boundary=", "\r\n\r\nHello Bob,\r\nyour order shipped.\r\n"})
    EXPECT_TRUE(has(m.data, field)) << field << "\n" << m.data;
  EXPECT_TRUE(has(m.data, "Message-ID: <" + id + "@ferry.test>\r\n")) << m.data;
  auto verified = test::run({kPython, kVerifyPy, "--txt", "ed1._domainkey.example.test=" + txt}, m.data);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err << m.data;
  EXPECT_TRUE(serve_->wait_for_output(id + ": http: POST /v1/messages 202 client=[127.0.0.1], token line 4"))
      << serve_->output();
  EXPECT_FALSE(has(serve_->output(), kToken)) << "a token reached the log";
}

TEST_F(HttpSubmission, RawMessageIsQueuedAsGiven) {
  start();
  auto r = request(
      "POST", "/v1/messages",
      R"({"from":"app@example.test","to":["bob@remote.test"],)"
      R"("raw":"From: app@example.test\nTo: bob@remote.test\nSubject: raw one\n\n.dot line\nbody\n"})");
  ASSERT_EQ(r.status, 202) << r.body << serve_->output();
  EXPECT_TRUE(has(r.body, "\"message_id\":null")) << r.body;
  ASSERT_TRUE(mx_->wait_messages(1)) << serve_->output();
  const auto m = mx_->messages().at(0);
  EXPECT_TRUE(has(m.data, "(Ferry) with HTTP (token line 4)\r\n\tid " + id_of(r) + "; ")) << m.data;
  EXPECT_TRUE(
      has(m.data,
          "From: app@example.test\r\nTo: bob@remote.test\r\nSubject: raw one\r\n\r\n.dot line\r\nbody\r\n"))
      << m.data;
  EXPECT_FALSE(has(m.data, "MIME-Version")) << "a raw message is not rewritten";
}

// The daemon wires HTTP submissions to the suppression list as it does RCPT: a listed recipient
// is refused with the list's reply, the others are queued; all refused is 422, nothing queued.
TEST_F(HttpSubmission, SuppressedRecipientsAreRefused) {
  start();
  auto added = test::run({FERRY_BINARY, "suppress", "--config", dir_.file("ferry.toml"), "add",
                          "gone@remote.test", "--reason", "test"});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  auto all =
      request("POST", "/v1/messages", R"({"from":"app@example.test","to":["Gone@remote.test"],"text":"x"})");
  EXPECT_EQ(all.status, 422) << all.body;
  EXPECT_TRUE(has(all.body, "550 5.1.1 <Gone@remote.test>: suppressed by the postmaster on")) << all.body;
  EXPECT_EQ(queue_list(), "[]\n");
  auto some =
      request("POST", "/v1/messages",
              R"({"from":"app@example.test","to":["gone@remote.test","bob@remote.test"],"text":"x"})");
  ASSERT_EQ(some.status, 202) << some.body;
  EXPECT_TRUE(has(some.body, R"("refused":[{"address":"gone@remote.test")")) << some.body;
  ASSERT_TRUE(mx_->wait_messages(1)) << serve_->output();
  const auto m = mx_->messages().at(0);
  ASSERT_EQ(m.rcpt_to.size(), 1u);
  EXPECT_EQ(m.rcpt_to[0], "bob@remote.test");
}

TEST_F(HttpSubmission, TokensAreCheckedFirst) {
  start();
  const std::string msg = R"({"from":"app@example.test","to":["bob@remote.test"],"text":"x"})";
  auto none = request("POST", "/v1/messages", msg, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(has(none.headers, "WWW-Authenticate: Bearer realm=\"ferry\"\r\n")) << none.headers;
  auto wrong = request("POST", "/v1/messages", msg, kToken + "x");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(has(wrong.headers, "error=\"invalid_token\"")) << wrong.headers;
  // Without a valid token, nothing tells whether a queue id exists.
  EXPECT_EQ(request("GET", "/v1/messages/0123456789ABCDEF", "", "").status, 401);
  EXPECT_EQ(request("GET", "/v1/messages/0123456789ABCDEF").status, 404);
  EXPECT_EQ(request("GET", "/v1/nothing").status, 404);
  EXPECT_EQ(request("PUT", "/v1/messages", msg).status, 405);
  EXPECT_EQ(queue_list(), "[]\n");
  EXPECT_EQ(mx_->messages().size(), 0u);
}

TEST_F(HttpSubmission, BadRequestsGet400AndNothingIsQueued) {
  start();
  struct {
    const char* body;
    const char* expect;
  } cases[] = {
      {R"({"from":"app@example.test","to":["bob@remote.test"],"text":"x",})", "invalid JSON: offset"},
      {R"({"from":"app@example.test","to":["bob@remote.test"],"to":["eve@remote.test"],"text":"x"})",
       "duplicate key"},
      {R"({"from":"app@example.test","to":["bob at remote"],"text":"x"})", R"("field":"to[0]")"},
      {R"({"from":"app@example.test","to":["bob@remote.test"],"subject":"x\r\nBcc: eve@remote.test","text":"x"})",
       R"("field":"subject")"},
      {R"({"from":"app@example.test","to":["bob@remote.test"],"text":"x","headers":{"X-A":"1\nBcc: eve@remote.test"}})",
       R"("field":"headers.x-a")"},
      {R"({"from":"app@example.test","to":["bob@remote.test"],"text":"x","headers":{"Content-Type":"text/html"}})",
       R"("field":"headers.content-type")"},
      {"{\"from\":\"app@example.test\",\"to\":[\"bob@remote.test\"],\"text\":\"\xff\"}", "invalid UTF-8"},
  };
  for (const auto& c : cases) {
    auto r = request("POST", "/v1/messages", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_TRUE(has(r.body, c.expect)) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(queue_list(), "[]\n");
}

TEST_F(HttpSubmission, SizeLimitsGive413) {
  start("[smtp]\nmax_message_size = \"64KiB\"\n");
  // Rendered above max_message_size: refused after rendering, as SMTP refuses after DATA.
  const std::string big = std::string(70 * 1024, 'a');
  auto rendered = request("POST", "/v1/messages",
                          R"({"from":"app@example.test","to":["bob@remote.test"],"text":")" + big + "\"}");
  EXPECT_EQ(rendered.status, 413) << rendered.body;
  // A body over twice the limit (plus 64 KiB) is refused from its Content-Length, unread.
  const std::string huge = std::string(200 * 1024, 'a');
  auto unread = request("POST", "/v1/messages",
                        R"({"from":"app@example.test","to":["bob@remote.test"],"text":")" + huge + "\"}");
  EXPECT_EQ(unread.status, 413) << unread.body;
  // Just under the limit is accepted.
  const std::string fits = std::string(60 * 1024, 'a');
  auto ok = request("POST", "/v1/messages",
                    R"({"from":"app@example.test","to":["bob@remote.test"],"text":")" + fits + "\"}");
  EXPECT_EQ(ok.status, 202) << ok.body;
  EXPECT_TRUE(mx_->wait_messages(1)) << serve_->output();
}

TEST_F(HttpSubmission, StatusShowsAttemptsThenTheMessageIsGone) {
  mx_->on_rcpt = [](const std::string&, int attempt) {
    return attempt == 1 ? std::string("451 4.7.1 Greylisted, try again") : std::string("250 2.1.5 Ok");
  };
  start("[retry]\nfirst = \"2s\"\nmax_interval = \"2s\"\nafter_greylist = \"2s\"\n");
  auto r =
      request("POST", "/v1/messages", R"({"from":"app@example.test","to":["grey@remote.test"],"text":"x"})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = id_of(r);
  // The 202 came after the commit: the message is in the queue at once.
  auto at_once = request("GET", "/v1/messages/" + id);
  EXPECT_EQ(at_once.status, 200) << at_once.body;
  EXPECT_TRUE(has(at_once.body, "\"id\":\"" + id + "\"")) << at_once.body;
  ASSERT_TRUE(serve_->wait_for_output("status=deferred (451 4.7.1 Greylisted")) << serve_->output();
  auto deferred = request("GET", "/v1/messages/" + id);
  EXPECT_EQ(deferred.status, 200);
  EXPECT_TRUE(has(deferred.body, R"("address":"grey@remote.test","state":"pending")")) << deferred.body;
  EXPECT_TRUE(has(deferred.body, R"("reply":"Greylisted, try again")")) << deferred.body;
  EXPECT_TRUE(has(deferred.body, R"("category":"greylisted")")) << deferred.body;
  // The same JSON as `ferry queue show --json` (the history is one record: compare the stable part).
  auto show = test::run({FERRY_BINARY, "queue", "--config", dir_.file("ferry.toml"), "show", "--json", id});
  EXPECT_EQ(show.out.substr(0, 120), deferred.body.substr(0, 120));
  ASSERT_TRUE(mx_->wait_messages(1, 20s)) << serve_->output();
  ASSERT_TRUE(serve_->wait_for_output("to=<grey@remote.test>, relay=[127.0.0.1]")) << serve_->output();
  HttpResult gone;
  for (int i = 0; i < 100; ++i) {
    gone = request("GET", "/v1/messages/" + id);
    if (gone.status == 404) break;
    usleep(50 * 1000);
  }
  EXPECT_EQ(gone.status, 404);
  EXPECT_TRUE(has(gone.body, "delivered, bounced, deleted or never queued")) << gone.body;
}

TEST_F(HttpSubmission, QueueShortOfSpaceGets503AndNothingIsQueued) {
  queue_extra_ = "min_free = \"99.9%\"\n";
  start();
  ASSERT_TRUE(serve_->wait_for_output("refusing")) << serve_->output();
  auto r =
      request("POST", "/v1/messages", R"({"from":"app@example.test","to":["bob@remote.test"],"text":"x"})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_TRUE(has(r.headers, "Retry-After: ")) << r.headers;
  EXPECT_EQ(queue_list(), "[]\n");
}

TEST_F(HttpSubmission, TokenFileOthersMayReadIsRefused) {
  write_tokens(0644);
  dir_.write("ferry.toml", config(""));
  auto check = test::run({FERRY_BINARY, "check-config", "--config", dir_.file("ferry.toml")});
  EXPECT_EQ(check.exit_code, 78);
  EXPECT_TRUE(has(check.err, "other users may read or write it")) << check.err;
  auto serve = test::run({FERRY_BINARY, "serve", "--config", dir_.file("ferry.toml")}, "", 30);
  EXPECT_EQ(serve.exit_code, 78) << serve.err;
  EXPECT_FALSE(has(serve.err, kToken));
}

TEST_F(HttpSubmission, ReloadReadsTheTokenFileAgain) {
  start();
  const std::string path = "/v1/messages/0123456789ABCDEF";
  EXPECT_EQ(request("GET", path).status, 404);
  const std::string next = "next-token-0123456789abcdef";
  dir_.write("tokens", next + "\n");
  ::kill(serve_->pid(), SIGHUP);
  ASSERT_TRUE(serve_->wait_for_output("reloaded configuration")) << serve_->output();
  EXPECT_EQ(request("GET", path).status, 401);
  EXPECT_EQ(request("GET", path, "", next).status, 404);
}

// A commit that fails (the LMDB map is full; the free-space gate is off with min_free 0%) is
// answered 503 and leaves nothing queued; every 202 before it names a queued message.
TEST_F(HttpSubmission, FailedCommitGets503AndEvery202IsQueued) {
  mx_->on_rcpt = [](const std::string&, int) { return std::string("451 4.3.0 not now"); };
  queue_extra_ = "min_free = \"0%\"\n";
  max_size_ = "1MiB";
  start("[retry]\nfirst = \"1h\"\n");
  std::string text;
  for (int i = 0; i < 4000; ++i) text += std::string(70, 'a') + "\\n";  // ~280 KiB
  std::vector<std::string> accepted;
  HttpResult refused;
  for (int i = 0; i < 20 && refused.status == 0; ++i) {
    auto r = request("POST", "/v1/messages",
                     R"({"from":"app@example.test","to":["bob@remote.test"],"text":")" + text + "\"}");
    if (r.status == 202)
      accepted.push_back(id_of(r));
    else
      refused = r;
  }
  ASSERT_EQ(refused.status, 503) << refused.body << " after " << accepted.size() << "\n" << serve_->output();
  EXPECT_TRUE(has(refused.body, "the queue is full; the message was not queued")) << refused.body;
  EXPECT_TRUE(has(refused.headers, "Retry-After: ")) << refused.headers;
  EXPECT_TRUE(has(serve_->output(), "commit failed (map-full)")) << serve_->output();
  EXPECT_GE(accepted.size(), 1u);
  const std::string list = queue_list();
  for (const auto& id : accepted) EXPECT_TRUE(has(list, "\"id\":\"" + id + "\"")) << id << list;
  std::size_t queued = 0;
  for (std::size_t at = 0; (at = list.find("\"id\":", at)) != std::string::npos; ++at) ++queued;
  EXPECT_EQ(queued, accepted.size()) << list;
}

// Python's http.client on raw connections: the number of connections and of requests on one
// connection are bounded.
TEST_F(HttpSubmission, ConnectionsAndKeepAliveAreBounded) {
  start();
  const std::string script =
      "import http.client,socket,sys\n"
      "port=int(sys.argv[1]); auth={'Authorization':'Bearer " +
      kToken +
      "'}\n"
      "c=http.client.HTTPConnection('127.0.0.1',port,timeout=20)\n"
      "closes=[]\n"
      "for i in range(100):\n"
      "  c.request('GET','/v1/messages/0123456789ABCDEF',headers=auth); r=c.getresponse(); r.read()\n"
      "  closes.append(r.status==404 and (r.getheader('Connection') or '').lower()=='close')\n"
      "print('keepalive', closes.index(True) if True in closes else -1, closes.count(True))\n"
      "idle=[socket.create_connection(('127.0.0.1',port)) for i in range(64)]\n"
      "c=http.client.HTTPConnection('127.0.0.1',port,timeout=20)\n"
      "c.request('GET','/v1/messages/0123456789ABCDEF',headers=auth); r=c.getresponse()\n"
      "print('over', r.status)\n"
      "for s in idle: s.close()\n";
  auto r = test::run({kPython, "-c", script, std::to_string(http_port_)}, "", 60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "keepalive 99 1\n")) << r.out;  // the 100th answer closes the connection
  EXPECT_TRUE(has(r.out, "over 503\n")) << r.out;        // the 65th connection is turned away
  EXPECT_TRUE(serve_->wait_for_output("too many connections")) << serve_->output();
  // Once they are gone, requests are served again.
  int again = 0;
  for (int i = 0; i < 100 && again != 404; ++i) {
    again = request("GET", "/v1/messages/0123456789ABCDEF").status;
    if (again != 404) usleep(50 * 1000);
  }
  EXPECT_EQ(again, 404);
}

}  // namespace
}  // namespace ferry
