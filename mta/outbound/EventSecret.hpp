// EventSecret: the HMAC key of an [[events]] webhook, read from its secret_file.
// Contract: the file's first line, 16 bytes at least and the file 4 KiB at most; opened without
// following a symbolic link; the key is never logged (errors name the file only).
#pragma once

#include <string>

#include "ferry/Result.hpp"

namespace ferry::outbound {

Result<std::string> read_event_secret(const std::string& path);

}  // namespace ferry::outbound
