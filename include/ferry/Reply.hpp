// Reply: an SMTP reply (RFC 5321 §4.2) with its RFC 3463 enhanced status code.
// Contract: plain data; `text` holds the reply text lines joined with "\n" (no codes).
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

struct EnhancedStatus {
  std::uint8_t klass = 0;  // 2, 4 or 5; 0 means "absent"
  std::uint16_t subject = 0;
  std::uint16_t detail = 0;

  bool present() const { return klass != 0; }
  std::string str() const {
    if (!present()) return {};
    return std::to_string(klass) + "." + std::to_string(subject) + "." + std::to_string(detail);
  }
};

struct Reply {
  int code = 0;  // 3-digit reply code; 0 for "no reply" (network error)
  EnhancedStatus status;
  std::string text;

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500 && code < 600; }
};

}  // namespace ferry
