// SevenBitConversion: the delivery agent's conversion of an 8-bit message for a server without
// 8BITMIME: EightBitDowngrade, then a new DKIM signature when the message carries ours (the old
// one no longer matches the quoted-printable body). Contract: runs on the calling thread (RSA
// signing included: rare, one message per 7-bit server); never throws; a signing error keeps
// the converted message and is reported in `warning`.
#pragma once

#include <string>
#include <string_view>

#include "ferry/Clock.hpp"
#include "mta/dkim/DkimSigner.hpp"
#include "mta/smtp/ClientSession.hpp"

namespace ferry::outbound {

struct SevenBitResult {
  smtp::EightBitConversion conversion;
  bool resigned = false;  // our DKIM signature was renewed
  std::string warning;    // why it could not be (the message goes with the broken signature)
};

// `signer` may be null or empty (no [[dkim]]): no re-signing.
SevenBitResult convert_to_7bit(std::string_view message, const dkim::DkimSigner* signer, TimeMs now);

}  // namespace ferry::outbound
