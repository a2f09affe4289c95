// DefaultHeaders: the header fields DKIM signs when a [[dkim]] entry names none, written once for
// the configuration's default and the signer's.
// Contract: standard library only (the configuration includes it); lower-case names, "from" first.
#pragma once

#include <string>
#include <vector>

namespace ferry::dkim {

// RFC 6376 §5.4.1 recommendations plus the one-click unsubscribe fields of RFC 8058 §3.3, which
// the large mailbox providers require.
inline const std::vector<std::string>& default_signed_headers() {
  static const std::vector<std::string> kHeaders{"from",
                                                 "to",
                                                 "cc",
                                                 "subject",
                                                 "date",
                                                 "message-id",
                                                 "reply-to",
                                                 "in-reply-to",
                                                 "references",
                                                 "mime-version",
                                                 "content-type",
                                                 "content-transfer-encoding",
                                                 "list-unsubscribe",
                                                 "list-unsubscribe-post"};
  return kHeaders;
}

}  // namespace ferry::dkim
