// HttpServer: the [[http]] listeners — HTTP/1.1 submission for applications with Boost.Beast:
// POST /v1/messages (JSON in, 202 with the queue id out) and GET /v1/messages/{id}.
// Contract: a bearer token is checked before anything else; the 202 is sent only after the
// queue writer reported the synced commit (as SMTP's 250), through the same acceptance path
// (PrepareForQueue: DKIM; [smtp] limits); header, body, connections, pending bytes, keep-alive
// and every wait are bounded; stop() closes the listeners and idle connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "ferry/QueueId.hpp"
#include "ferry/Result.hpp"
#include "mta/config/Config.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "mta/inbound/HttpSubmission.hpp"
#include "mta/inbound/TokenFile.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::inbound {

struct HttpServerDeps {
  const config::Config* config = nullptr;
  std::string hostname;
  queue::QueueStore* store = nullptr;
  queue::CommitBatcher* batcher = nullptr;
  std::shared_ptr<const dkim::DkimSigner> dkim;  // null or empty = no signing
  // One token file per [[http]] entry, in order.
  std::vector<std::shared_ptr<const TokenFile>> tokens;
  std::function<void(QueueId)> on_queued;  // wake the delivery agent
  std::function<bool()> queue_has_space;   // false: 503 before anything is read
  // A recipient this returns a reply line for is refused (the suppression list); may be empty.
  std::function<std::optional<std::string>(std::string_view address)> recipient_refusal;
};

// Loads every [[http]] token_file (for start-up, reload and check-config).
Result<std::vector<std::shared_ptr<const TokenFile>>> load_http_tokens(const config::Config& config);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerDeps deps);
  ~HttpServer();

  // Binds every [[http]] entry and starts accepting; logs each bound address.
  Result<void> start();
  std::vector<std::uint16_t> ports() const;  // in [[http]] order
  // Stops accepting and closes idle connections; a request being handled finishes (its commit
  // completes and is answered), then its connection closes.
  void stop();
  // SIGHUP: new requests use the new configuration, signer and tokens ([[http]] list unchanged).
  void reconfigure(const config::Config* config, std::shared_ptr<const dkim::DkimSigner> dkim,
                   std::vector<std::shared_ptr<const TokenFile>> tokens);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ferry::inbound
