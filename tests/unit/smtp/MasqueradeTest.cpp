// Masquerade and OriginalTo: the rewrites of a relay-only host's local mail, table-driven.
#include <gtest/gtest.h>

#include "mta/smtp/Masquerade.hpp"
#include "mta/smtp/OriginalTo.hpp"

using namespace ferry::smtp;

namespace {

MasqueradeRule rule() { return MasqueradeRule{"example.com", {"vm", "localhost"}}; }

TEST(smtp_Masquerade, Addresses) {
  struct Row {
    const char* in;
    const char* out;
  };
  for (const Row& r : {Row{"root@vm", "root@example.com"}, Row{"cron@VM", "cron@example.com"},
                       Row{"app@localhost", "app@example.com"}, Row{"app@vm.other", "app@vm.other"},
                       Row{"a@example.org", "a@example.org"}, Row{"", ""}, Row{"postmaster", "postmaster"},
                       Row{"\"a@vm\"@elsewhere.example", "\"a@vm\"@elsewhere.example"}})
    EXPECT_EQ(masquerade_address(r.in, rule()), r.out) << r.in;
  EXPECT_EQ(masquerade_address("root@vm", MasqueradeRule{}), "root@vm") << "inactive";
}

TEST(smtp_Masquerade, FromField) {
  struct Row {
    const char* in;
    const char* out;
  };
  for (const Row& r : {
           Row{"From: root@vm\r\nTo: root@vm\r\n\r\nroot@vm\r\n",
               "From: root@example.com\r\nTo: root@vm\r\n\r\nroot@vm\r\n"},
           Row{"Subject: s\nfrom: Cron Daemon <root@vm>\n\nb\n",
               "Subject: s\nfrom: Cron Daemon <root@example.com>\n\nb\n"},
           Row{"From: a@vm,\r\n b@localhost (me), c@example.org\r\nX: y\r\n\r\n",
               "From: a@example.com,\r\n b@example.com (me), c@example.org\r\nX: y\r\n\r\n"},
           Row{"From: x@vmware.example\r\n\r\n", "From: x@vmware.example\r\n\r\n"},
           Row{"To: a@vm\r\n\r\nFrom: root@vm\r\n", "To: a@vm\r\n\r\nFrom: root@vm\r\n"},  // body only
           Row{"From: root@vm", "From: root@example.com"},                                 // no line end
           Row{"X-From: root@vm\r\n\r\n", "X-From: root@vm\r\n\r\n"},
       }) {
    std::string message = r.in;
    masquerade_from_field(message, rule());
    EXPECT_EQ(message, r.out) << r.in;
  }
}

TEST(smtp_OriginalTo, OneFieldPerDistinctAddressAndNoInjection) {
  EXPECT_EQ(original_to_fields({}), "");
  EXPECT_EQ(original_to_fields({"root@vm", "cron@vm", "root@vm"}),
            "X-Original-To: root@vm\r\nX-Original-To: cron@vm\r\n");
  EXPECT_EQ(original_to_fields({"a@vm\r\nBcc: x@evil.example", "b@vm"}), "X-Original-To: b@vm\r\n");
}

}  // namespace
