// RunUser: the account that owns the queue and runs the daemon, and switching to it as root.
// Contract: resolve_run_user fails closed (a missing account is an error, never "stay root");
// AsRunUser switches the effective ids for a scope and restores them, become() is for good.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "ferry/Result.hpp"

namespace ferry::ops {

struct RunUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
  bool drop = false;  // started as root and `user` names another account: switch to it
};

// Started by a non-root user: that user. Started as root: the account `user` names ("root" =
// stay root). An account that does not exist is an Invalid error whose message says how to fix it.
Result<RunUser> resolve_run_user(const std::string& user);

// The account that owns uid `uid` (its name and primary group; "uid N" when it has no entry).
RunUser run_user_for_uid(uid_t uid, gid_t fallback_gid);

// Switches to `user` for good: supplementary groups, gid, uid; checks root cannot be regained.
Result<void> become(const RunUser& user);

// As root: effective uid/gid and groups of `user` for the lifetime of the object, so files
// opened meanwhile are opened with that user's rights (a symbolic link planted by that user
// leads nowhere it could not go itself) and files created belong to it. No-op unless user.drop.
class AsRunUser {
 public:
  explicit AsRunUser(const RunUser& user);
  ~AsRunUser();
  AsRunUser(const AsRunUser&) = delete;
  AsRunUser& operator=(const AsRunUser&) = delete;
  // False when the switch failed (the error says why): do not open anything then.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  bool switched_ = false;
  gid_t saved_gid_ = 0;
  std::vector<gid_t> saved_groups_;
  std::string error_;
};

}  // namespace ferry::ops
