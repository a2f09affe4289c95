// QueueDirCheck: the start-up check of the queue directory's ownership and mode (as Postfix's
// `postfix check`). Contract: never changes anything and never follows a symbolic link; a
// failure is an Invalid error whose message names the path, what is wrong and the fix.
#pragma once

#include <string>

#include "ferry/Result.hpp"
#include "mta/ops/RunUser.hpp"

namespace ferry::ops {

// The directory must be a real directory (not a symbolic link) owned by `owner` with mode 0700,
// and data.mdb / lock.mdb, where present, regular files owned by `owner`. A directory that does
// not exist yet is a NotFound error (the queue creates it, as `owner`).
Result<void> check_queue_dir(const std::string& path, const RunUser& owner);

}  // namespace ferry::ops
