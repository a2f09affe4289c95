// Signature: see Signature.hpp.
#include "mta/events/Signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace ferry::events {

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[mac[i] >> 4]);
    out.push_back(hex[mac[i] & 0xF]);
  }
  return out;
}

std::string sign_body(std::string_view key, std::int64_t unix_seconds, std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string signed_data = t + ".";
  signed_data.append(body);
  return "t=" + t + ",v1=" + hmac_sha256_hex(key, signed_data);
}

bool verify_body(std::string_view key, std::string_view header, std::string_view body,
                 std::int64_t now_unix_seconds, std::int64_t tolerance_seconds) {
  if (!header.starts_with("t=")) return false;
  const auto comma = header.find(",v1=");
  if (comma == std::string_view::npos || comma > 22) return false;
  std::int64_t t = 0;
  const std::string_view ts = header.substr(2, comma - 2);
  auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
  if (ec != std::errc() || p != ts.data() + ts.size()) return false;
  if (t < now_unix_seconds - tolerance_seconds || t > now_unix_seconds + tolerance_seconds) return false;
  const std::string want = sign_body(key, t, body);
  if (want.size() != header.size()) return false;
  return CRYPTO_memcmp(want.data(), header.data(), want.size()) == 0;
}

}  // namespace ferry::events
