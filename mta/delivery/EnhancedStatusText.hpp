// EnhancedStatusText: what SMTP reply codes and enhanced status codes mean, in words.
// Contract: pure lookups in the RFC 5321 §4.2 reply-code list and the IANA "SMTP Enhanced Status
// Codes" registry (RFC 3463 and its updates); unknown codes get their class/subject meaning.
#pragma once

#include <string>
#include <string_view>

#include "ferry/Reply.hpp"

namespace ferry::delivery {

// RFC 5321 §4.2.1: "Positive Completion", "Transient Negative Completion", ... ("" for others).
std::string_view reply_class_meaning(int code);
// RFC 5321 §4.2.2/§4.2.3 (and RFC 4954, 3207, 7504): "Requested mail action okay, completed"...;
// "" when the code is not a standard one.
std::string_view reply_code_meaning(int code);

// RFC 3463 §3.1: "Success", "Persistent Transient Failure", "Permanent Failure".
std::string_view status_class_meaning(int klass);
// RFC 3463 §3.2: "Addressing Status", "Mailbox Status", ...
std::string_view status_subject_meaning(int subject);
// The registry entry for x.subject.detail ("Bad destination mailbox address"); "" when unknown.
std::string_view status_detail_meaning(int subject, int detail);

// "5.1.1 Permanent Failure, Addressing Status: Bad destination mailbox address"; "" when absent.
std::string describe_status(const EnhancedStatus& status);

}  // namespace ferry::delivery
