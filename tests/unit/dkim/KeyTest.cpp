// DkimKey: PEM loading errors, generation, DNS record text, base64.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "mta/dkim/DkimKey.hpp"

namespace ferry::dkim {
namespace {

constexpr std::string_view kRsa1024 = R"(-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAL7cx2286pM76yNL
aOwa410sVvZ2VgaJLtU5PWtxHLR4U+6cM2vt/V3gxjV1Jc+kdXWTr4Y9M+kAK06Q
mPZmB0pAKc2udVOqJEkLE4j0zlQM4FgB7s18kRocRcOfpvk89Y8HQvUSZOf5HU51
f2REDALrSvJh0PfN25OBzWPMZx69AgMBAAECgYAdiJI/c9UkdUgcTQXuSvbVqw/F
0WfcWQvrKJFNd9JGRrxOFtOKJuhmx2pESV1RdRRL3k9xyTSoIEOTQ6K3te/4k+43
fZ9gYSCpSjmP3BFMpQUHofm45FCajwa9G087H37ALmeLuEMkWn6Q4C2DTkDehu3v
SSpf7vJd24RHvW3JQQJBAN5ce30D/ZmkfEKuFy66W+EhQw9P45w5SP4NBWpuzi6J
clyu8A8aiZIoLC2+5Ou22GKXr0I4ySrtv2IMX7FJCTECQQDbvGwShahY7GOrXoz4
j+ZXLKZad0It2uMgXCG+dnwfNnn9XECX+0N515bJv8DPDRMc0hrhwU1gJqH3j9wA
HktNAkEAuaILlbqXJIUlF6WuxNvfiHr0OPxA0FMilLTaKJiImGE2kBmbX4CQCOxw
tWAATKhAzU5EicxOZQBGHdympqKKgQJAU+DcPEHLHo62CT+hfmyn19USd2wY1ho9
IygoNWVTQjLwZDen7JwciNE0HTVWa3MpPZIycsTwPWjh4PeIWn817QJBANR5I3d3
SLaZrZXAVt2RBrkjFtZoCX9pINFuUaNG3KEwlwa2vKvV6ZXBYzy/oV+hpX3N/+M7
TgcJmQ1YhWThGRo=
-----END PRIVATE KEY-----
)";

constexpr std::string_view kEcP256 = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtc6fpP4d5QPj8puO
OKclSuRksLPUbPu8Jte3YIydrZOhRANCAARF5x/KeBx71tk0pDW9cyK95goaTtEY
w0k9ud6c98jDofIoVg+TyZFnNBUPkZHF2hDedaLoVb789uZJN3P01oFi
-----END PRIVATE KEY-----
)";

constexpr std::string_view kEncryptedEd25519 = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhYOwDljr3qawICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEKPRyGN/aaa/vDfrQ3WoW8MEQLsN
tIsnBo9Wi+icrwRxCrY9729Uulb513M7jtzlr0g/Ge6OcaO/90VanFtFoAdPYBw3
0xITP5ssnbxeP3F9WTc=
-----END ENCRYPTED PRIVATE KEY-----
)";

// RFC 8032 §7.1 test 1 secret key (the key of RFC 8463 Appendix A), as PKCS#8.
constexpr std::string_view kRfc8032Key =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

std::string temp_file(std::string_view content) {
  char name[] = "/tmp/ferry-dkim-key-XXXXXX";
  const int fd = ::mkstemp(name);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
  return name;
}

std::string load_error(std::string_view pem) {
  const std::string path = temp_file(pem);
  auto k = DkimKey::load(path);
  std::remove(path.c_str());
  if (k) return "(ok)";
  const std::string prefix = "DKIM key " + path + ": ";
  EXPECT_EQ(k.error().message.rfind(prefix, 0), 0u) << k.error().message;  // names the file
  return k.error().message.substr(prefix.size());
}

TEST(dkimKey, LoadErrorsNameTheFile) {
  auto missing = DkimKey::load("/nonexistent/dir/k.pem");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "DKIM key /nonexistent/dir/k.pem: cannot open: No such file or directory");
  const std::string not_pem =
      "not a PEM private key (expected an unencrypted \"PRIVATE KEY\" or \"RSA PRIVATE KEY\")";
  EXPECT_EQ(load_error(""), not_pem);
  EXPECT_EQ(load_error("hello\n"), not_pem);
  EXPECT_EQ(load_error(kEncryptedEd25519), not_pem);
  EXPECT_EQ(load_error(kRsa1024), "RSA key has 1024 bits; at least 2048 are required");
  EXPECT_EQ(load_error(kEcP256), "unsupported key type id-ecPublicKey (DKIM signs with RSA or Ed25519 keys)");
  EXPECT_EQ(load_error(kRfc8032Key), "(ok)");
}

TEST(dkimKey, Ed25519FromPem) {
  auto k = DkimKey::from_pem(kRfc8032Key, "rfc");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->algorithm(), Algorithm::Ed25519Sha256);
  EXPECT_EQ(k->bits(), 256u);
  // RFC 8032 §7.1 test 1 public key, the p= of RFC 8463 Appendix A.2.
  EXPECT_EQ(k->public_key_base64(), "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  EXPECT_EQ(k->dns_txt_value(), "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  auto sig = k->sign("data");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_EQ(*k->sign("data"), *sig);  // Ed25519 is deterministic
}

TEST(dkimKey, GenerateRsaRoundTripsThroughPem) {
  auto k = DkimKey::generate(Algorithm::RsaSha256, 2048);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->bits(), 2048u);
  const std::string pem = k->private_key_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  auto back = DkimKey::from_pem(pem, "generated");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->algorithm(), Algorithm::RsaSha256);
  EXPECT_EQ(back->public_key_base64(), k->public_key_base64());
  // SubjectPublicKeyInfo of a 2048-bit RSA key: 294 bytes -> 392 base64 characters.
  EXPECT_EQ(k->public_key_base64().size(), 392u);
  EXPECT_EQ(k->public_key_base64().rfind("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 0), 0u);
  auto sig = k->sign("data");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 256u);
}

TEST(dkimKey, DnsRecordSplitsAt255Octets) {
  EXPECT_EQ(dns_txt_record("s1", "example.com", "v=DKIM1; k=ed25519; p=abc"),
            "s1._domainkey.example.com. IN TXT \"v=DKIM1; k=ed25519; p=abc\"");
  const std::string text = "v=DKIM1; k=rsa; p=" + std::string(400, 'A');
  const std::string rec = dns_txt_record("s", "d.example", text);
  EXPECT_EQ(rec,
            "s._domainkey.d.example. IN TXT \"" + text.substr(0, 255) + "\" \"" + text.substr(255) + "\"");
}

TEST(dkimKey, Base64) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace ferry::dkim
