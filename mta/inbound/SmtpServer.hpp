// SmtpServer: the inbound SMTP listeners. One coroutine per connection drives a sans-IO
// ServerSession; the daemon only moves bytes, runs TLS handshakes, checks passwords and hands
// messages to the queue writer. Contract: the 250 after DATA is produced by the session only
// after CommitBatcher reported the synced commit (RFC 5321 §6.1); staged shutdown via stop().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/QueueId.hpp"
#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "mta/inbound/PasswordFile.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::inbound {

struct SmtpServerDeps {
  const config::Config* config = nullptr;
  std::string hostname;
  queue::QueueStore* store = nullptr;
  queue::CommitBatcher* batcher = nullptr;
  std::shared_ptr<boost::asio::ssl::context> tls;  // always set: STARTTLS is always on
  std::shared_ptr<const PasswordFile> passwords;   // null = AUTH disabled
  std::function<void(QueueId)> on_queued;          // e.g. wake the delivery agent
  std::shared_ptr<const dkim::DkimSigner> dkim;    // null or empty = no signing
  // Operations: backpressure, metrics and socket activation.
  std::function<bool()> queue_has_space;                        // false: MAIL gets 452 4.3.1
  std::function<void(std::string_view reply_line)> on_refused;  // every 4xx/5xx reply sent
  std::map<std::size_t, int> inherited_sockets;                 // [[listen]] index -> passed fd
  // Asked for each recipient the relay policy accepted, on listeners with `suppression = true`
  // while [suppression] enabled: a full reply line ("550 5.1.1 <a@b>: suppressed ...") refuses
  // it, nullopt accepts. Unset = no such check.
  std::function<std::optional<std::string>(std::string_view address)> recipient_refusal;
};

struct SmtpServerStats {
  std::uint64_t connections = 0;
  std::uint64_t active = 0;
  std::uint64_t accepted_messages = 0;
  std::uint64_t rejected_connections = 0;
};

class SmtpServer {
 public:
  SmtpServer(boost::asio::io_context& io, SmtpServerDeps deps);
  ~SmtpServer();

  // Binds every [[listen]] (backlog 1024) and starts accepting. Logs each bound address.
  Result<void> start();
  // The bound ports, in [[listen]] order (useful when a listener asked for port 0).
  std::vector<std::uint16_t> ports() const;
  // Stage 1 of shutdown: stop accepting; idle sessions get 421 and close; sessions in a
  // transaction finish it (their commit completes) and get 421 at their next command.
  // `done` runs when no connection is left or `grace` has passed (then the rest are closed).
  void stop(std::chrono::milliseconds grace, std::function<void()> done);
  SmtpServerStats stats() const;
  // SIGHUP: new connections use `config` (same [[listen]] list), TLS context, passwords and
  // DKIM signer; connections already open finish with what they started with. The caller keeps
  // every Config it ever passed alive for the server's lifetime.
  void reconfigure(const config::Config* config, std::shared_ptr<boost::asio::ssl::context> tls,
                   std::shared_ptr<const PasswordFile> passwords,
                   std::shared_ptr<const dkim::DkimSigner> dkim);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ferry::inbound
