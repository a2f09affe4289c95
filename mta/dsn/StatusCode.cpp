// StatusCode: RFC 3463 status selection (see StatusCode.hpp).
#include "mta/dsn/StatusCode.hpp"

namespace ferry::dsn {
namespace {

bool valid_number(std::string_view part) {
  if (part.empty() || part.size() > 3) return false;
  if (part.size() > 1 && part[0] == '0') return false;  // RFC 3463 §2: no leading zeros
  for (char c : part)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

const char* to_string(Action action) noexcept {
  switch (action) {
    case Action::Failed:
      return "failed";
    case Action::Delayed:
      return "delayed";
    case Action::Delivered:
      return "delivered";
    case Action::Relayed:
      return "relayed";
  }
  return "failed";
}

bool valid_status(std::string_view s) noexcept {
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
  s.remove_prefix(2);
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  return valid_number(s.substr(0, dot)) && valid_number(s.substr(dot + 1));
}

std::string status_for(Action action, const Attempt& attempt) {
  std::string s;
  if (valid_status(attempt.status))
    s = attempt.status;
  else if (attempt.outcome == AttemptOutcome::Expired)
    s = "4.4.7";  // RFC 3463 X.4.7
  else if (attempt.code >= 200 && attempt.code < 300)
    s = "2.0.0";
  else if (attempt.code >= 400 && attempt.code < 500)
    s = "4.0.0";
  else if (attempt.code >= 500 && attempt.code < 600)
    s = "5.0.0";

  switch (action) {
    case Action::Failed:
      if (s.empty() || s[0] == '2') return "5.0.0";
      return s;  // 4.x.x stays: a transient condition that ran out of time (e.g. 4.4.7)
    case Action::Delayed:
      if (s.empty() || s[0] == '2') return "4.0.0";
      s[0] = '4';  // a report that will still be retried is transient by definition
      return s;
    case Action::Delivered:
    case Action::Relayed:
      if (s.empty() || s[0] != '2') return "2.0.0";
      return s;
  }
  return s;
}

}  // namespace ferry::dsn
