// SignatureTest: HMAC-SHA256 against RFC 4231's vectors, the webhook header and its check.
#include "mta/events/Signature.hpp"

#include <gtest/gtest.h>

namespace ferry::events {
namespace {

TEST(event_signature, Rfc4231Vectors) {
  // RFC 4231 §4.2, test case 1, and §4.3, test case 2.
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(event_signature, HeaderSignsTimestampAndBody) {
  const std::string h = sign_body("Jefe", 1700000000, "{\"events\":[]}");
  EXPECT_EQ(h, "t=1700000000,v1=" + hmac_sha256_hex("Jefe", "1700000000.{\"events\":[]}"));
  EXPECT_TRUE(verify_body("Jefe", h, "{\"events\":[]}", 1700000010, 300));
  EXPECT_FALSE(verify_body("Jefe", h, "{\"events\":[1]}", 1700000010, 300));  // another body
  EXPECT_FALSE(verify_body("jefe", h, "{\"events\":[]}", 1700000010, 300));   // another key
  EXPECT_FALSE(verify_body("Jefe", h, "{\"events\":[]}", 1700000400, 300));   // replayed late
  std::string forged = h;
  forged.replace(2, 10, "1700000300");  // a new time on an old MAC
  EXPECT_FALSE(verify_body("Jefe", forged, "{\"events\":[]}", 1700000300, 300));
  EXPECT_FALSE(verify_body("Jefe", "v1=abc", "{}", 0, 300));
  EXPECT_FALSE(verify_body("Jefe", "t=x,v1=abc", "{}", 0, 300));
}

}  // namespace
}  // namespace ferry::events
