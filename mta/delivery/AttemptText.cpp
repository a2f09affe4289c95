// AttemptText: see AttemptText.hpp.
#include "mta/delivery/AttemptText.hpp"

namespace ferry::delivery {

std::string relay_text(const Attempt& a) {
  if (a.host.empty() && a.ip.empty()) return "none";
  std::string out = a.host.empty() ? a.ip : a.host;
  // A literal host ("[192.0.2.1]") or one named by its address needs no "[ip]" after it.
  if (!a.ip.empty() && !a.host.empty() && a.ip != a.host && a.host.front() != '[') out += "[" + a.ip + "]";
  if (a.port) out += ":" + std::to_string(a.port);
  return out;
}

std::string reply_text(const Attempt& a) {
  std::string out;
  if (a.code) out = std::to_string(a.code) + " ";
  if (!a.status.empty() && a.reply.find(a.status) != 0) out += a.status + " ";
  out += a.reply;
  for (auto& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

}  // namespace ferry::delivery
