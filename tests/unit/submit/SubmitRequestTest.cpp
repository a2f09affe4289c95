// Tests for the request model: the two shapes, every field's validation, header injection.
#include <gtest/gtest.h>

#include "mta/submit/SubmitRequest.hpp"

using namespace ferry::submit;

namespace {

ferry::Result<SubmitRequest, RequestError> parse(const std::string& json, const RequestLimits& limits = {}) {
  auto v = parse_json(json);
  EXPECT_TRUE(v) << json;
  if (!v) return RequestError{"json", v.error().message};
  return parse_submit_request(*v, limits);
}

TEST(SubmitRequest, PartsRequest) {
  auto r = parse(R"({"from":"app@example.com","to":["a@example.net","b@example.org"],"subject":"Hi",
                    "text":"line1\nline2","html":"<p>x</p>","headers":{"X-Tag":"welcome","Reply-To":"s@example.com"}})");
  ASSERT_TRUE(r) << r.error().field << ": " << r.error().message;
  EXPECT_EQ(r->from, "app@example.com");
  ASSERT_EQ(r->to.size(), 2u);
  EXPECT_EQ(*r->text, "line1\r\nline2");
  EXPECT_EQ(*r->html, "<p>x</p>");
  ASSERT_EQ(r->headers.size(), 2u);
  EXPECT_EQ(r->headers[0].first, "X-Tag");
  EXPECT_FALSE(r->raw);
}

TEST(SubmitRequest, RawRequestIsNormalisedToCrlf) {
  auto r = parse(
      R"({"from":"app@example.com","to":["a@example.net"],"raw":"Subject: x\nFrom: app@example.com\n\nbody\r\nmore\rend"})");
  ASSERT_TRUE(r) << r.error().field << ": " << r.error().message;
  EXPECT_EQ(*r->raw, "Subject: x\r\nFrom: app@example.com\r\n\r\nbody\r\nmore\r\nend");
}

TEST(SubmitRequest, RefusesBadRequests) {
  struct {
    const char* json;
    const char* field;
  } cases[] = {
      {R"([1])", ""},
      {R"({"to":["a@example.net"],"text":"x"})", "from"},
      {R"({"from":"app@example.com","text":"x"})", "to"},
      {R"({"from":"app@example.com","to":[],"text":"x"})", "to"},
      {R"({"from":"app@example.com","to":"a@example.net","text":"x"})", "to"},
      {R"({"from":"app@example.com","to":[1],"text":"x"})", "to[0]"},
      {R"({"from":"app@example.com","to":["a@example.net","not an address"],"text":"x"})", "to[1]"},
      {R"({"from":"app@example.com","to":["a@example.net>, <evil@x.y"],"text":"x"})", "to[0]"},
      {R"({"from":"app@example.com","to":["postmaster"],"text":"x"})", "to[0]"},
      {R"({"from":"app","to":["a@example.net"],"text":"x"})", "from"},
      {R"({"from":"","to":["a@example.net"],"text":"x"})", "from"},
      {R"({"from":"app@example.com","to":["a@example.net"]})", "text"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":1})", "text"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","cc":["c@x.y"]})", "cc"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","subject":"a\r\nBcc: evil@x.y"})",
       "subject"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","subject":"nul\u0000"})", "subject"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"X-A":"v\r\nBcc: evil@x.y"}})",
       "headers.x-a"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"X-A":"v\nX-B: w"}})",
       "headers.x-a"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"X A":"v"}})", "headers"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"X:A":"v"}})", "headers"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"":"v"}})", "headers"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"Content-Type":"text/html"}})",
       "headers.content-type"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"mime-version":"2.0"}})",
       "headers.mime-version"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"Content-Transfer-Encoding":"8bit"}})",
       "headers.content-transfer-encoding"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"From":"boss@example.com"}})",
       "headers.from"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"Bcc":"x@y.z"}})",
       "headers.bcc"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"DKIM-Signature":"v=1"}})",
       "headers.dkim-signature"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"X-A":1}})", "headers.x-a"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":{"X-A":"caf\u00e9"}})",
       "headers.x-a"},
      {R"({"from":"app@example.com","to":["a@example.net"],"text":"x","headers":[]})", "headers"},
      {R"({"from":"app@example.com","to":["a@example.net"],"raw":"no header here"})", "raw"},
      {R"({"from":"app@example.com","to":["a@example.net"],"raw":"\nSubject: x\n\nbody"})", "raw"},
      {R"({"from":"app@example.com","to":["a@example.net"],"raw":"Subject: x\n\nnul\u0000"})", "raw"},
      {R"({"from":"app@example.com","to":["a@example.net"],"raw":"Subject: x\n\nb","text":"x"})", "raw"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().field, c.field) << c.json << " -> " << r.error().message;
  }
}

TEST(SubmitRequest, BoundsRecipientsHeadersAndLines) {
  RequestLimits limits;
  limits.max_recipients = 2;
  EXPECT_TRUE(parse(R"({"from":"a@b.cc","to":["x@y.zz","z@y.zz"],"text":"x"})", limits));
  EXPECT_FALSE(parse(R"({"from":"a@b.cc","to":["x@y.zz","z@y.zz","w@y.zz"],"text":"x"})", limits));
  std::string longline =
      R"({"from":"a@b.cc","to":["x@y.zz"],"raw":"Subject: x\n\n)" + std::string(999, 'a') + "\"}";
  auto r = parse(longline);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "raw");
  std::string longvalue =
      R"({"from":"a@b.cc","to":["x@y.zz"],"text":"x","headers":{"X-A":")" + std::string(901, 'a') + "\"}}";
  EXPECT_FALSE(parse(longvalue));
}

TEST(SubmitRequest, FieldNames) {
  EXPECT_TRUE(is_field_name("X-Custom_1"));
  EXPECT_FALSE(is_field_name("X Custom"));
  EXPECT_FALSE(is_field_name("X:Custom"));
  EXPECT_FALSE(is_field_name("X\x7f"));
  EXPECT_FALSE(is_field_name(""));
}

}  // namespace
