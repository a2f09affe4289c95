// Log: one line per event to stderr (journald picks it up), in Postfix's spirit.
// Contract: thread-safe; each call writes one whole line: text ("ferry: ...") or, with
// [log] format = "json", one JSON object per line ({"time","level","queue_id","msg"}). Whatever
// the line holds, a client's CR LF can never start a line of its own: text lines show control
// characters as \xNN (ferry/text/SafeText.hpp), JSON lines as JSON escapes; ill-formed UTF-8
// becomes U+FFFD in both.
#pragma once

#include <string>
#include <string_view>

namespace ferry::ops {

enum class LogLevel { Info, Warning, Error };
enum class LogStyle { Text, Json };

void log(LogLevel level, std::string_view line);
inline void log_info(std::string_view line) { log(LogLevel::Info, line); }
inline void log_warning(std::string_view line) { log(LogLevel::Warning, line); }
inline void log_error(std::string_view line) { log(LogLevel::Error, line); }

// Switches the format of every later line (start-up and SIGHUP reload).
void set_log_style(LogStyle style);

// The text line for one event, with its newline (exposed for tests).
std::string format_text_log_line(LogLevel level, std::string_view line);

// The JSON line for one event (exposed for tests). `unix_ms` is the event time.
std::string format_json_log_line(LogLevel level, std::string_view line, long long unix_ms);

}  // namespace ferry::ops
