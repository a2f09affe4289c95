// MaildropFile: the round trip, and every malformed shape a local user could leave in the
// maildrop is refused as a value (no throw, no crash, nothing read past the limits).
#include <gtest/gtest.h>

#include "mta/inbound/MaildropFile.hpp"

namespace ferry::inbound {
namespace {

TEST(MaildropFile, RoundTrip) {
  MaildropEntry e;
  e.recipients = {"a@example.org", "b@example.net"};
  e.notify = kNotifyFailure | kNotifyDelay;
  e.ret = DsnRet::Hdrs;
  e.envid = "env42";
  e.message = "Subject: s\r\n\r\nbody\r\n";
  const std::string file = encode_maildrop(e);
  EXPECT_TRUE(
      file.starts_with("ferry-maildrop 1\nrcpt a@example.org\nrcpt b@example.net\nnotify 12\nret hdrs\n"));
  auto back = decode_maildrop(file, 1000);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->recipients, e.recipients);
  EXPECT_EQ(back->notify, e.notify);
  EXPECT_EQ(back->ret, DsnRet::Hdrs);
  EXPECT_EQ(back->envid, "env42");
  EXPECT_EQ(back->message, e.message);
}

TEST(MaildropFile, RefusesEveryMalformedShape) {
  const std::string body = "\nSubject: s\r\n\r\nb\r\n";
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"no magic", "rcpt a@b\n" + body},
      {"other version", "ferry-maildrop 2\nrcpt a@b\n" + body},
      {"no recipient", "ferry-maildrop 1\n" + body},
      {"a sender is not for the file to say", "ferry-maildrop 1\nsender ceo@bank.example\nrcpt a@b\n" + body},
      {"CR in an address", "ferry-maildrop 1\nrcpt a@b\r\n" + body},
      {"space in an address", "ferry-maildrop 1\nrcpt a@b RCPT TO:<c@d>\n" + body},
      {"angle bracket", "ferry-maildrop 1\nrcpt <a@b>\n" + body},
      {"empty address", "ferry-maildrop 1\nrcpt \n" + body},
      {"notify out of range", "ferry-maildrop 1\nrcpt a@b\nnotify 16\n" + body},
      {"notify not a number", "ferry-maildrop 1\nrcpt a@b\nnotify 1x\n" + body},
      {"bad ret", "ferry-maildrop 1\nrcpt a@b\nret all\n" + body},
      {"header never ends", "ferry-maildrop 1\nrcpt a@b\n"},
      {"line too long", "ferry-maildrop 1\nrcpt " + std::string(2000, 'a') + "\n" + body},
      {"message too large", "ferry-maildrop 1\nrcpt a@b\n\n" + std::string(101, 'x')},
      {"NUL in a line", std::string("ferry-maildrop 1\nrcpt a\0b\n", 26) + body},
  };
  for (const auto& [what, file] : cases) {
    auto r = decode_maildrop(file, 100);
    EXPECT_FALSE(r.ok()) << what;
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, ErrorKind::Invalid) << what;
    }
  }
}

TEST(MaildropFile, RecipientCountIsBounded) {
  std::string file = "ferry-maildrop 1\n";
  for (std::size_t i = 0; i <= kMaildropMaxRecipients; ++i)
    file += "rcpt r" + std::to_string(i) + "@example.org\n";
  EXPECT_FALSE(decode_maildrop(file + "\nb", 100).ok());
}

}  // namespace
}  // namespace ferry::inbound
