// MessageIdFieldTest: the Message-ID taken from a message for the delivery events.
#include "mta/inbound/MessageIdField.hpp"

#include <gtest/gtest.h>

namespace ferry::inbound {
namespace {

TEST(message_id_field, Table) {
  struct Row {
    std::string message, want;
  };
  const std::string long_id(256, 'a');
  const Row rows[] = {
      {"Received: x\r\nMessage-ID: <abc@example.org>\r\n\r\nbody\r\n", "abc@example.org"},
      {"message-id:<A.B@x>\r\n\r\n", "A.B@x"},
      {"MESSAGE-ID:\r\n  <folded@x>\r\nSubject: s\r\n\r\n", "folded@x"},
      {"Subject: s\r\n\r\nMessage-ID: <in-body@x>\r\n", ""},  // the body is not the header
      {"Resent-Message-ID: <r@x>\r\n\r\n", ""},               // another field
      {"Message-ID: <a b@x>\r\n\r\n", ""},                    // not a plain token
      {"Message-ID: <\"q\"@x>\r\n\r\n", ""},                  // quotes are refused
      {"Message-ID: <a@x>\r\nBcc: \r\n\r\n", "a@x"},
      {"Message-ID: <" + long_id + ">\r\n\r\n", ""},              // over 255 octets
      {"Message-ID: <\xc3\xa9@x>\r\n\r\n", ""},                   // not ASCII
      {"Message-ID: <a@x>\r\nMessage-ID: <b@x>\r\n\r\n", "a@x"},  // the first one
      {"Message-ID: <cr\r@x>\r\n\r\n", ""},
      {"", ""},
  };
  for (const auto& r : rows) EXPECT_EQ(message_id_field(r.message), r.want) << r.message;
}

TEST(message_id_field, OnlyTheFirst64KiBOfTheHeaderAreRead) {
  std::string big = "X-Pad: " + std::string(70 * 1024, 'p') + "\r\nMessage-ID: <late@x>\r\n\r\n";
  EXPECT_EQ(message_id_field(big), "");
}

}  // namespace
}  // namespace ferry::inbound
