// Log: one line per event to stderr (journald picks it up), in Postfix's spirit.
// Contract: thread-safe; each call writes one whole line.
#pragma once

#include <string_view>

namespace ferry::daemon {

enum class LogLevel { Info, Warning, Error };

void log(LogLevel level, std::string_view line);
inline void log_info(std::string_view line) { log(LogLevel::Info, line); }
inline void log_warning(std::string_view line) { log(LogLevel::Warning, line); }
inline void log_error(std::string_view line) { log(LogLevel::Error, line); }

}  // namespace ferry::daemon
