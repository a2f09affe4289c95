// SmtpPolicy: the configuration's rules for inbound SMTP in the terms of mta/smtp (RelayRules,
// the configured part of SessionPolicy). One mapping for the daemon's listeners (at start and on
// reload) and for `sendmail -bs` / direct enqueue, so both accept exactly the same mail.
// Contract: pure; per-connection fields (client address, TLS, AUTH availability) are the caller's.
#pragma once

#include <string>

#include "mta/config/Config.hpp"
#include "mta/smtp/RelayPolicy.hpp"
#include "mta/smtp/ServerSession.hpp"

namespace ferry::policy {

// Local domains (the host name first), aliases, the admin address and relay domains.
smtp::RelayRules relay_rules(const config::Config& config, const std::string& hostname);

// Host name, size, recipient and error limits, bare-newline handling, Received: loop limit.
smtp::SessionPolicy session_policy(const config::Config& config, const std::string& hostname);

// [local] masquerade over the local domains; the caller applies it to local submissions only.
smtp::MasqueradeRule masquerade_rule(const config::Config& config, const std::string& hostname);

}  // namespace ferry::policy
