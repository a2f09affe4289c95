// Log: see Log.hpp. A mutex keeps lines whole when several threads log at once. JSON lines carry
// the queue id as its own field when the line starts with one ("<id>: ..."), as Postfix's do.
#include "mta/ops/Log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "ferry/JsonEscape.hpp"
#include "ferry/text/SafeText.hpp"

namespace ferry::ops {
namespace {

std::atomic<LogStyle> g_style{LogStyle::Text};

// A queue id is 16 upper-case hex digits (QueueId::str()).
bool starts_with_queue_id(std::string_view line) {
  if (line.size() < 18 || line[16] != ':' || line[17] != ' ') return false;
  for (std::size_t i = 0; i < 16; ++i) {
    char c = line[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

void set_log_style(LogStyle style) { g_style.store(style); }

std::string format_json_log_line(LogLevel level, std::string_view line, long long unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char when[80];  // room for any int fields (GCC -Wformat-truncation checks the worst case)
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  std::string out = "{\"time\":\"";
  out += when;
  out += "\",\"level\":\"";
  out += level == LogLevel::Info ? "info" : level == LogLevel::Warning ? "warning" : "error";
  out += '"';
  if (starts_with_queue_id(line)) {
    out += ",\"queue_id\":\"";
    out.append(line.substr(0, 16));
    out += '"';
    line.remove_prefix(18);
  }
  out += ",\"msg\":\"";
  // JSON's own escapes (\n, \u001b) keep a line whole; ill-formed UTF-8 becomes U+FFFD there.
  append_json_escaped(out, line);
  out += "\"}\n";
  return out;
}

std::string format_text_log_line(LogLevel level, std::string_view line) {
  std::string out = "ferry: ";
  if (level == LogLevel::Warning) out += "warning: ";
  if (level == LogLevel::Error) out += "error: ";
  // The last line of defence: callers put client names, addresses and remote replies in lines.
  text::append_safe_text(out, line);
  out.push_back('\n');
  return out;
}

void log(LogLevel level, std::string_view line) {
  static std::mutex mutex;
  std::string out;
  if (g_style.load() == LogStyle::Json) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    out = format_json_log_line(level, line, now.count());
  } else {
    out = format_text_log_line(level, line);
  }
  std::lock_guard lock(mutex);
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ferry::ops
