// ClientTls: the OpenSSL client contexts of outbound connections (delivery) and the per-connection
// identity settings. Contract: a verifying context trusts the system's CAs, or only the given
// CA file; set_client_identity sends SNI and, when verifying, makes the handshake fail unless the
// certificate carries that name (RFC 6125) — with no name to check, verification cannot succeed.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "ferry/Result.hpp"
#include "mta/net/DnsMessage.hpp"

namespace ferry::net {

// verify = false: any certificate (opportunistic / required TLS, RFC 7435). verify = true: the
// chain must lead to a CA of `ca_file` (PEM) or, when it is empty, of the system store.
// TLS 1.2 at least. An unreadable or empty CA file is an error naming it.
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(bool verify,
                                                                           const std::string& ca_file = {});

// The CA file loads as a verifying context's trust store: the error names the file and the cause.
Result<void> check_ca_file(const std::string& ca_file);

// SNI (RFC 6066 §3) for `name`, and under `verify` the host-name check of the certificate. An
// empty `name` under `verify` returns false: the caller must not connect (nothing to verify).
bool set_client_identity(SSL* ssl, const std::string& name, bool verify);

// DANE (RFC 7672 §3): a context whose handshakes succeed only when the peer's certificate
// matches a TLSA record given to set_dane (no CA store: PKIX usages are not used for SMTP).
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_dane_context();

// Arms DANE on a connection of a DANE context: SNI is `host` (RFC 7672 §8.1), the reference
// names are `host` and, when it differs, the TLSA base domain (RFC 7672 §3.2.2; they apply to
// DANE-TA only: DANE-EE(3) checks no name and no expiry, §3.1.1). False when OpenSSL refuses
// every record (the caller must not connect).
bool set_dane(SSL* ssl, const std::string& host, const std::string& base_domain,
              const std::vector<dns::Tlsa>& records);

// Which TLSA record the peer's chain matches, computed from the certificates themselves (for
// `ferry probe`, which shows a match without enforcing it): "dane-ee" when a DANE-EE(3) record
// matches the server's certificate, "dane-ta" when a DANE-TA(2) record matches a certificate the
// server sent above it, "" when none does. The chain's signatures are not checked here.
std::string tlsa_match(SSL* ssl, const std::vector<dns::Tlsa>& records);

// After a DANE handshake: the usage of the record that matched, "dane-ee" / "dane-ta", or ""
// when none did (not a DANE connection).
std::string dane_match(SSL* ssl);

}  // namespace ferry::net
