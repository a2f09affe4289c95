// SmtpPolicy: see SmtpPolicy.hpp.
#include "mta/policy/SmtpPolicy.hpp"

namespace ferry::policy {

smtp::RelayRules relay_rules(const config::Config& config, const std::string& hostname) {
  smtp::RelayRules rules;
  rules.local_domains = config::effective_local_domains(config, hostname);
  rules.aliases = config.aliases;
  rules.admin = config.local.admin;
  rules.relay_domains = config.relay.domains;
  return rules;
}

smtp::MasqueradeRule masquerade_rule(const config::Config& config, const std::string& hostname) {
  smtp::MasqueradeRule rule;
  rule.domain = config.local.masquerade;
  if (rule.active()) rule.local_domains = config::effective_local_domains(config, hostname);
  return rule;
}

smtp::SessionPolicy session_policy(const config::Config& config, const std::string& hostname) {
  smtp::SessionPolicy policy;
  policy.hostname = hostname;
  policy.max_message_size = config.smtp.max_message_size;
  policy.max_recipients = config.smtp.max_recipients;
  policy.max_errors = config.smtp.max_errors;
  policy.junk_command_limit = config.smtp.junk_command_limit;
  policy.bare_newline = config.smtp.bare_newline == config::BareNewline::Reject
                            ? smtp::BareNewlinePolicy::Reject
                            : smtp::BareNewlinePolicy::Normalize;
  policy.max_received_headers = config.smtp.max_received_headers;
  return policy;
}

}  // namespace ferry::policy
