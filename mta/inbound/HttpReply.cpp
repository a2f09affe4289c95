// HttpReply: see HttpReply.hpp.
#include "mta/inbound/HttpReply.hpp"

#include "ferry/JsonWriter.hpp"

namespace ferry::inbound {
namespace {

void refused_json(JsonWriter& j, const std::vector<RefusedRecipient>& refused) {
  j.key("refused").begin_array();
  for (const auto& r : refused) {
    j.begin_object();
    j.key("address").value(r.address);
    j.key("reply").value(r.reply);
    j.end_object();
  }
  j.end_array();
}

}  // namespace

HttpReply reply_error(int status, std::string_view message, std::string_view field, bool retry) {
  JsonWriter j;
  j.begin_object();
  j.key("error").value(message);
  if (!field.empty()) j.key("field").value(field);
  j.end_object();
  HttpReply r{status, j.str() + "\n", {}, {}};
  if (retry) r.fields.emplace_back("Retry-After", "30");
  return r;
}

HttpReply reply_unauthorized(bool token_presented) {
  HttpReply r = reply_error(401, token_presented ? "invalid token" : "a bearer token is required");
  r.fields.emplace_back("WWW-Authenticate", token_presented
                                                ? "Bearer realm=\"ferry\", error=\"invalid_token\""
                                                : "Bearer realm=\"ferry\"");
  return r;
}

HttpReply reply_method_not_allowed(std::string_view allow) {
  HttpReply r = reply_error(405, "method not allowed");
  r.fields.emplace_back("Allow", std::string(allow));
  return r;
}

HttpReply reply_problem(const HttpProblem& problem) {
  JsonWriter j;
  j.begin_object();
  j.key("error").value(problem.message);
  if (!problem.field.empty()) j.key("field").value(problem.field);
  if (!problem.refused.empty()) refused_json(j, problem.refused);
  j.end_object();
  return HttpReply{problem.status, j.str() + "\n", {}, {}};
}

HttpReply reply_accepted(QueueId id, std::string_view message_id, const std::vector<std::string>& accepted,
                         const std::vector<RefusedRecipient>& refused) {
  JsonWriter j;
  j.begin_object();
  j.key("id").value(id.str());
  if (message_id.empty())
    j.key("message_id").null();
  else
    j.key("message_id").value(message_id);
  j.key("accepted").begin_array();
  for (const auto& a : accepted) j.value(a);
  j.end_array();
  refused_json(j, refused);
  j.end_object();
  return HttpReply{202, j.str() + "\n", {}, id.str()};
}

}  // namespace ferry::inbound
