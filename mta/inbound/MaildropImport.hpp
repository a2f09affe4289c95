// MaildropImport: moves the files `ferry postdrop` left in the maildrop directory into the queue,
// one queue transaction each, then unlinks them. Contract: every file is hostile until proved
// otherwise (any local user wrote it): never followed through a link, regular single-link files
// only, bounded reads, strict decoding; a bad file is moved to <maildrop>/corrupt and logged, a
// good one queued with its owner's login as the sender, whatever the file says.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "ferry/QueueId.hpp"
#include "mta/config/Config.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "queue/CommitBatcher.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::inbound {

struct MaildropDeps {
  std::string dir;                                // the maildrop directory
  std::string hostname;                           // the sender's domain and the Received trace's host
  std::function<const config::Config&()> config;  // the current one (reload)
  std::function<std::shared_ptr<const dkim::DkimSigner>()> signer;  // the current one (reload)
  queue::QueueStore* store = nullptr;
  queue::CommitBatcher* batcher = nullptr;
  boost::asio::any_io_executor executor;  // completions come back here
  std::function<void(QueueId)> on_queued;
};

class MaildropImport {
 public:
  explicit MaildropImport(MaildropDeps deps);
  ~MaildropImport();
  MaildropImport(const MaildropImport&) = delete;
  MaildropImport& operator=(const MaildropImport&) = delete;

  // Imports every finished file not already on its way into the queue (at most 1000 a call).
  void scan();

  struct State;  // shared with the commit completions still in flight

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ferry::inbound
