// StsPolicyServer: a real HTTPS server on loopback that serves an MTA-STS policy file
// (RFC 8461 §3.3) for the integration tests, with a private test CA and certificates made by
// openssl: "mx" for mx.example.test (an MX to deliver to) and "web" for mta-sts.example.test.
// Contract: start() makes the CA and certificates in dir, serves dir/www on a kernel-chosen
// port; a file "misbehave" in www makes every answer a redirect ("redirect"), a policy sent as
// text/html ("html") or a body over 64 KiB ("big"). requests() counts the policy GETs served.
#pragma once

#include <memory>
#include <string>

#include "integration/support/Subprocess.hpp"
#include "support/TestCa.hpp"

namespace ferry::test {

inline constexpr const char* kStsHttpsServer = R"(
import http.server, ssl, sys, os
os.chdir(sys.argv[1])
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        how = open("misbehave").read().strip() if os.path.exists("misbehave") else ""
        if not how:
            return super().do_GET()
        if how == "redirect":
            self.send_response(301)
            self.send_header("Location", "https://mta-sts.example.test/.well-known/other.txt")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n"
        if how == "big":
            body += b"#" * (70 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if how == "html" else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("listening on port", srv.server_address[1], file=sys.stderr, flush=True)
srv.serve_forever()
)";

// The policy file of example.test with one mx pattern and a day's max_age.
inline std::string sts_policy(const std::string& mode, const std::string& mx) {
  return "version: STSv1\r\nmode: " + mode + "\r\nmx: " + mx + "\r\nmax_age: 86400\r\n";
}

class StsPolicyServer {
 public:
  explicit StsPolicyServer(const TempDir& dir) : dir_(dir) {}
  // The CA, the certificates, www/.well-known/mta-sts.txt (enforce, mx.example.test), the server.
  bool start() {
    const std::string d = dir_.path();
    if (!make_test_ca(d, "FerryStsTestCA") || !make_host_certificate(d, "mx.example.test", "mx") ||
        !make_host_certificate(d, "mta-sts.example.test", "web") ||
        run({"/bin/mkdir", "-p", d + "/www/.well-known"}).exit_code != 0)
      return false;
    set_policy(sts_policy("enforce", "mx.example.test"));
    dir_.write("server.py", kStsHttpsServer);
    web_ = std::make_unique<Background>(std::vector<std::string>{"/usr/bin/python3", d + "/server.py",
                                                                 d + "/www", d + "/web.pem", d + "/web.key"},
                                        d + "/web.log");
    if (!web_->wait_for_output("listening on port")) return false;
    const std::string out = web_->output();
    port_ = std::stoi(out.substr(out.find("listening on port ") + 18));
    return port_ > 0;
  }
  void set_policy(const std::string& text) const { dir_.write("www/.well-known/mta-sts.txt", text); }
  int port() const { return port_; }
  std::string output() const { return web_ ? web_->output() : std::string(); }
  // The GETs of the policy file so far (the server logs one line per request).
  int requests() const {
    const std::string out = output();
    int n = 0;
    for (auto at = out.find("GET /.well-known/mta-sts.txt"); at != std::string::npos;
         at = out.find("GET /.well-known/mta-sts.txt", at + 1))
      ++n;
    return n;
  }

 private:
  const TempDir& dir_;
  std::unique_ptr<Background> web_;
  int port_ = 0;
};

}  // namespace ferry::test
