// ConfigWarnings: see ConfigWarnings.hpp.
#include "mta/config/ConfigWarnings.hpp"

#include "ferry/text/Ascii.hpp"

namespace ferry::config {
namespace {

bool is_local_address(const Config& cfg, std::string_view address, std::string_view system_host_name) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return true;
  for (const auto& d : effective_local_domains(cfg, system_host_name))
    if (text::iequals(d, address.substr(at + 1))) return true;
  return false;
}

}  // namespace

std::vector<std::string> config_warnings(const Config& cfg, std::string_view system_host_name) {
  std::vector<std::string> out;
  if (cfg.local.admin.empty())
    out.emplace_back(
        "[local] admin is not set: mail to root and other local users without an alias is refused "
        "(550 5.1.1); set [local] admin = \"you@example.com\" or an [aliases] entry");
  else if (is_local_address(cfg, cfg.local.admin, system_host_name))
    // The rewrite is done once: a local admin address would be sent to this host's own MX.
    out.emplace_back("[local] admin \"" + cfg.local.admin +
                     "\" is in a local domain: mail for local users cannot reach it; use an address "
                     "whose mailbox is elsewhere");
  if (cfg.routes.empty() && cfg.delivery.port == 25)
    out.emplace_back(
        "no [[route]] and [delivery] port = 25: outbound port 25 is often blocked; see README Smarthost");
  return out;
}

}  // namespace ferry::config
