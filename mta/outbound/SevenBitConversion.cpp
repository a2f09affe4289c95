// SevenBitConversion: see SevenBitConversion.hpp.
#include "mta/outbound/SevenBitConversion.hpp"

#include "mta/delivery/EightBitDowngrade.hpp"

namespace ferry::outbound {

SevenBitResult convert_to_7bit(std::string_view message, const dkim::DkimSigner* signer, TimeMs now) {
  SevenBitResult out;
  delivery::Downgrade d = delivery::downgrade_8bit(message);
  if (!d.ok()) {
    // 8-bit header fields make an internationalized message (RFC 6532): without SMTPUTF8 that is
    // 5.6.7 (RFC 6531 §3.5); other 8-bit content that cannot be converted is 5.6.3 (RFC 6152 §3).
    out.conversion.status = d.failure == delivery::DowngradeFailure::EightBitHeader ? "5.6.7" : "5.6.3";
    out.conversion.reason = d.detail;
    return out;
  }
  out.conversion.converted = true;
  out.conversion.body = std::move(d.message);
  if (!signer || signer->empty()) return out;
  auto resigned = signer->resign(out.conversion.body, now);
  if (!resigned) {
    out.warning = "DKIM re-signing after the 7-bit conversion failed: " + resigned.error().message;
    return out;
  }
  out.resigned = resigned->size() != out.conversion.body.size() || *resigned != out.conversion.body;
  out.conversion.body = std::move(*resigned);
  return out;
}

}  // namespace ferry::outbound
