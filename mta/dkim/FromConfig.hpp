// FromConfig: config::Config's [[dkim]] entries as DkimSigner entries. Contract: header-only
// bridge for the daemon and the CLI (which link both libraries); ferry_dkim never includes it.
#pragma once

#include <vector>

#include "mta/config/Config.hpp"
#include "mta/dkim/DkimSigner.hpp"

namespace ferry::dkim {

inline std::vector<SigningEntry> signing_entries(const config::Config& cfg) {
  std::vector<SigningEntry> out;
  for (const config::DkimEntry& d : cfg.dkim) {
    SigningEntry e;
    e.domain = d.domain;
    e.selector = d.selector;
    e.key_path = d.key;
    e.header_canon =
        d.header_canonicalization == config::DkimCanonicalization::Simple ? Canon::Simple : Canon::Relaxed;
    e.body_canon =
        d.body_canonicalization == config::DkimCanonicalization::Simple ? Canon::Simple : Canon::Relaxed;
    e.headers = d.headers;
    e.sign_subdomains = d.sign_subdomains;
    e.expire_seconds = std::chrono::duration_cast<std::chrono::seconds>(d.expire).count();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ferry::dkim
