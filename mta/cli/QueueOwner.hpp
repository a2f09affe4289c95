// QueueOwner: the CLI opens the queue only with its owner's rights. Root switches to the owner
// of the queue directory for good before opening it (LMDB follows links in a directory that
// user controls); any other user must be that owner.
// Contract: call before QueueStore::open; files the CLI creates then belong to the queue's owner.
#pragma once

#include <string>

#include "mta/config/Config.hpp"

namespace ferry::cli {

struct QueueAccess {
  enum class Kind {
    Owner,     // this process is (now) the queue's owner, or the queue does not exist yet
    NotOwner,  // a non-root user who does not own the queue
    Refused,   // the directory is unsafe or the switch failed (message says why)
  };
  Kind kind = Kind::Owner;
  std::string message;  // for NotOwner and Refused
};

// When the queue directory does not exist yet, root switches to the configured `user` (the
// account the daemon will run as), so the queue it creates belongs to that account.
QueueAccess become_queue_owner(const config::Config& config);

}  // namespace ferry::cli
