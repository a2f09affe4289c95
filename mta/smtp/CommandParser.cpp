#include "mta/smtp/CommandParser.hpp"

#include <limits>
#include <vector>

#include "ferry/text/Ascii.hpp"
#include "ferry/text/Xtext.hpp"
#include "mta/smtp/ReplyText.hpp"

namespace ferry::smtp {

using namespace ferry::text;  // the ASCII helpers

const char* to_string(Verb verb) noexcept {
  switch (verb) {
    case Verb::Unknown:
      return "UNKNOWN";
    case Verb::Helo:
      return "HELO";
    case Verb::Ehlo:
      return "EHLO";
    case Verb::Mail:
      return "MAIL";
    case Verb::Rcpt:
      return "RCPT";
    case Verb::Data:
      return "DATA";
    case Verb::Bdat:
      return "BDAT";
    case Verb::Rset:
      return "RSET";
    case Verb::Noop:
      return "NOOP";
    case Verb::Quit:
      return "QUIT";
    case Verb::Vrfy:
      return "VRFY";
    case Verb::Expn:
      return "EXPN";
    case Verb::Help:
      return "HELP";
    case Verb::StartTls:
      return "STARTTLS";
    case Verb::Auth:
      return "AUTH";
    case Verb::Unimplemented:
      return "UNIMPLEMENTED";
  }
  return "UNKNOWN";
}

Verb parse_verb(std::string_view w) noexcept {
  struct Entry {
    const char* name;
    Verb verb;
  };
  static constexpr Entry table[] = {
      {"HELO", Verb::Helo},          {"EHLO", Verb::Ehlo},          {"MAIL", Verb::Mail},
      {"RCPT", Verb::Rcpt},          {"DATA", Verb::Data},          {"BDAT", Verb::Bdat},
      {"RSET", Verb::Rset},          {"NOOP", Verb::Noop},          {"QUIT", Verb::Quit},
      {"VRFY", Verb::Vrfy},          {"EXPN", Verb::Expn},          {"HELP", Verb::Help},
      {"STARTTLS", Verb::StartTls},  {"AUTH", Verb::Auth},          {"TURN", Verb::Unimplemented},
      {"SEND", Verb::Unimplemented}, {"SOML", Verb::Unimplemented}, {"SAML", Verb::Unimplemented},
      {"ETRN", Verb::Unimplemented},
  };
  for (const auto& e : table)
    if (iequals(w, e.name)) return e.verb;
  return Verb::Unknown;
}

Reply address_error_reply(AddressError error, PathKind kind) {
  // RFC 3463: X.1.7 bad sender address syntax, X.1.3 bad destination address syntax.
  const char* status = kind == PathKind::Reverse ? "5.1.7" : "5.1.3";
  const char* who = kind == PathKind::Reverse ? "sender" : "recipient";
  switch (error) {
    case AddressError::LocalPartTooLong:
      return make_reply(501, status, std::string("Error: ") + who + " local part exceeds 64 octets");
    case AddressError::DomainTooLong:
      return make_reply(501, status, std::string("Error: ") + who + " domain exceeds 255 octets");
    case AddressError::PathTooLong:
      // §4.5.3.1.10: "501 Path too long".
      return make_reply(501, status, "Path too long");
    case AddressError::Utf8NotAllowed:
      // RFC 6531 §3.5: 553 5.6.7 for non-ASCII addresses without SMTPUTF8.
      return make_reply(553, "5.6.7", "Error: UTF-8 address requires SMTPUTF8");
    case AddressError::Syntax:
    case AddressError::None:
      break;
  }
  return make_reply(501, status, std::string("Error: bad ") + who + " address syntax");
}

namespace {

Reply syntax(std::string_view usage) {
  return make_reply(501, "5.5.4", std::string("Syntax: ") + std::string(usage));
}
Reply bad_param(std::string_view what) {
  return make_reply(501, "5.5.4", std::string("Error: ") + std::string(what));
}
Reply unsupported(std::string_view key) {
  // RFC 5321 §4.1.1.11: 555 for an unrecognised MAIL/RCPT parameter.
  return make_reply(555, "5.5.4", "Error: unsupported parameter " + std::string(key));
}

std::optional<std::uint64_t> parse_number(std::string_view s, bool saturate) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
      if (!saturate) return std::nullopt;
      v = std::numeric_limits<std::uint64_t>::max();
      continue;
    }
    v = v * 10 + d;
  }
  return v;
}

struct Param {
  std::string_view key;
  std::string_view value;
  bool has_value = false;
};

// esmtp-param = esmtp-keyword ["=" esmtp-value] (§4.1.2).
std::optional<Reply> split_params(std::string_view rest, std::vector<Param>& out) {
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    if (i >= rest.size()) break;
    std::size_t end = rest.find(' ', i);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view tok = rest.substr(i, end - i);
    i = end;
    Param p;
    const std::size_t eq = tok.find('=');
    p.key = tok.substr(0, eq);
    if (p.key.empty() || !is_alnum(p.key[0])) return bad_param("malformed parameter");
    for (char c : p.key)
      if (!is_alnum(c) && c != '-') return bad_param("malformed parameter");
    if (eq != std::string_view::npos) {
      p.has_value = true;
      p.value = tok.substr(eq + 1);
      if (p.value.empty()) return bad_param("malformed parameter value");
      for (char c : p.value) {
        const auto u = static_cast<unsigned char>(c);
        // esmtp-value = 1*(%d33-60 / %d62-126), RFC 6531 §3.3 adds UTF-8.
        if (u < 33 || u == '=' || u == 127) return bad_param("malformed parameter value");
      }
    }
    for (const auto& q : out)
      if (iequals(q.key, p.key))
        return bad_param("duplicate parameter " + std::string(p.key));  // RFC 3461 3461-10
    out.push_back(p);
  }
  return std::nullopt;
}

std::optional<Reply> parse_mail_params(const std::vector<Param>& params, MailParameters& m) {
  for (const auto& p : params) {
    if (iequals(p.key, "SIZE")) {
      // RFC 1870 §6: SIZE=size-value (1*20DIGIT).
      if (!p.has_value) return bad_param("SIZE requires a value");
      auto n = parse_number(p.value, true);
      if (!n) return bad_param("bad SIZE value");
      m.size = *n;
    } else if (iequals(p.key, "BODY")) {
      if (!p.has_value) return bad_param("BODY requires a value");
      if (iequals(p.value, "7BIT"))
        m.body = BodyType::SevenBit;
      else if (iequals(p.value, "8BITMIME"))
        m.body = BodyType::EightBitMime;
      else if (iequals(p.value, "BINARYMIME"))
        m.body = BodyType::BinaryMime;
      else
        return bad_param("bad BODY value");
    } else if (iequals(p.key, "SMTPUTF8")) {
      // RFC 6531 §3.4: SMTPUTF8 takes no value.
      if (p.has_value) return bad_param("SMTPUTF8 takes no value");
      m.smtputf8 = true;
    } else if (iequals(p.key, "RET")) {
      // RFC 3461 §4.3.
      if (!p.has_value) return bad_param("RET requires a value");
      if (iequals(p.value, "FULL"))
        m.ret = DsnRet::Full;
      else if (iequals(p.value, "HDRS"))
        m.ret = DsnRet::Hdrs;
      else
        return bad_param("bad RET value");
    } else if (iequals(p.key, "ENVID")) {
      // RFC 3461 §4.4: ENVID=xtext, at most 100 characters.
      if (!p.has_value || p.value.size() > 100) return bad_param("bad ENVID value");
      auto decoded = xtext_decode(p.value);
      if (!decoded) return bad_param("bad ENVID value");
      m.envid = std::move(*decoded);
      m.has_envid = true;
    } else if (iequals(p.key, "AUTH")) {
      // RFC 4954 §5: AUTH=mailbox|<> — accepted; we do not trust it, so it is ignored.
      if (!p.has_value) return bad_param("AUTH requires a value");
      if (p.value != "<>" && !xtext_valid(p.value)) return bad_param("bad AUTH value");
      m.auth = true;
    } else if (iequals(p.key, "REQUIRETLS")) {
      // RFC 8689 §2: REQUIRETLS takes no value.
      if (p.has_value) return bad_param("REQUIRETLS takes no value");
      m.requiretls = true;
    } else {
      return unsupported(p.key);
    }
  }
  return std::nullopt;
}

std::optional<Reply> parse_rcpt_params(const std::vector<Param>& params, RcptParameters& r) {
  for (const auto& p : params) {
    if (iequals(p.key, "NOTIFY")) {
      // RFC 3461 §4.1: NEVER, or a comma list of SUCCESS, FAILURE, DELAY.
      if (!p.has_value) return bad_param("NOTIFY requires a value");
      std::uint8_t flags = 0;
      std::string_view v = p.value;
      while (true) {
        const std::size_t comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        if (iequals(item, "NEVER"))
          flags |= kNotifyNever;
        else if (iequals(item, "SUCCESS"))
          flags |= kNotifySuccess;
        else if (iequals(item, "FAILURE"))
          flags |= kNotifyFailure;
        else if (iequals(item, "DELAY"))
          flags |= kNotifyDelay;
        else
          return bad_param("bad NOTIFY value");
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
      if ((flags & kNotifyNever) && flags != kNotifyNever) return bad_param("NOTIFY=NEVER must be alone");
      r.notify = flags;
    } else if (iequals(p.key, "ORCPT")) {
      // RFC 3461 §4.2: ORCPT=addr-type ";" xtext; kept verbatim, at most 500 characters.
      if (!p.has_value || p.value.size() > 500) return bad_param("bad ORCPT value");
      const std::size_t semi = p.value.find(';');
      if (semi == std::string_view::npos || semi == 0 || semi + 1 == p.value.size())
        return bad_param("bad ORCPT value");
      for (char c : p.value.substr(0, semi))
        if (!is_alnum(c) && c != '-') return bad_param("bad ORCPT value");
      if (!xtext_valid(p.value.substr(semi + 1))) return bad_param("bad ORCPT value");
      r.orcpt = std::string(p.value);
    } else {
      return unsupported(p.key);
    }
  }
  return std::nullopt;
}

std::optional<Reply> parse_path_command(std::string_view arg, std::string_view keyword, PathKind kind,
                                        const CommandParseOptions& options, Command& cmd) {
  const bool mail = kind == PathKind::Reverse;
  const char* usage = mail ? "MAIL FROM:<address>" : "RCPT TO:<address>";
  if (!istarts_with(arg, keyword)) return syntax(usage);
  arg.remove_prefix(keyword.size());
  while (!arg.empty() && arg[0] == ' ') arg.remove_prefix(1);  // "MAIL FROM: <a@b>" is common
  if (arg.empty() || arg[0] != '<') return syntax(usage);
  // UTF-8 is checked after the parameters (SMTPUTF8 follows the path on MAIL).
  auto parsed = parse_path(arg, kind, true, options.limits);
  if (!parsed.ok()) return address_error_reply(parsed.error, kind);
  cmd.path = std::move(parsed.path);
  std::string_view rest = arg.substr(parsed.consumed);
  if (!rest.empty() && rest[0] != ' ') return address_error_reply(AddressError::Syntax, kind);
  std::vector<Param> params;
  if (auto err = split_params(rest, params)) return err;
  if (!params.empty() && !options.esmtp) return unsupported(params.front().key);  // no EHLO: no extensions
  if (mail) {
    if (auto err = parse_mail_params(params, cmd.mail)) return err;
    if (cmd.path.utf8 && !cmd.mail.smtputf8) return address_error_reply(AddressError::Utf8NotAllowed, kind);
  } else {
    if (auto err = parse_rcpt_params(params, cmd.rcpt)) return err;
  }
  return std::nullopt;
}

}  // namespace

CommandParseResult parse_command(std::string_view line, const CommandParseOptions& options) {
  CommandParseResult r;
  Command& cmd = r.command;
  std::size_t sp = line.find(' ');
  std::string_view word = line.substr(0, sp);
  cmd.verb_text = std::string(word);
  cmd.verb = parse_verb(word);

  const std::size_t max = cmd.verb == Verb::Auth ? kMaxAuthLine : kMaxCommandLine;
  if (line.size() > max) {
    r.error = make_reply(500, "5.5.6", "Error: line too long");
    return r;
  }
  if (cmd.verb == Verb::Unknown) {
    r.error = make_reply(500, "5.5.2", "Error: command not recognized");
    return r;
  }
  std::string_view arg = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\t')) arg.remove_suffix(1);
  cmd.argument = std::string(arg);

  auto no_arg = [&](const char* usage) {
    if (!arg.empty()) r.error = syntax(usage);
  };
  switch (cmd.verb) {
    case Verb::Helo:
    case Verb::Ehlo:
      if (arg.empty()) r.error = syntax(cmd.verb == Verb::Helo ? "HELO hostname" : "EHLO hostname");
      break;
    case Verb::Mail:
      if (auto err = parse_path_command(arg, "FROM:", PathKind::Reverse, options, cmd)) r.error = err;
      break;
    case Verb::Rcpt:
      if (auto err = parse_path_command(arg, "TO:", PathKind::Forward, options, cmd)) r.error = err;
      break;
    case Verb::Data:
      no_arg("DATA");
      break;
    case Verb::Rset:
      no_arg("RSET");
      break;
    case Verb::Quit:
      no_arg("QUIT");
      break;
    case Verb::StartTls:
      no_arg("STARTTLS");
      break;
    case Verb::Vrfy:
      if (arg.empty()) r.error = syntax("VRFY address");
      break;
    case Verb::Auth:
      if (arg.empty()) r.error = syntax("AUTH mechanism [initial-response]");
      break;
    case Verb::Bdat: {
      // RFC 3030 §2: bdat-cmd = "BDAT" SP chunk-size [SP end-marker]; end-marker = "LAST".
      std::string_view size_text = arg.substr(0, arg.find(' '));
      std::string_view tail =
          size_text.size() < arg.size() ? arg.substr(size_text.size() + 1) : std::string_view{};
      while (!tail.empty() && tail.front() == ' ') tail.remove_prefix(1);
      auto n = parse_number(size_text, true);
      if (!n || (!tail.empty() && !iequals(tail, "LAST"))) {
        r.error = syntax("BDAT count [LAST]");
        break;
      }
      cmd.bdat_size = *n;
      cmd.bdat_last = !tail.empty();
      break;
    }
    case Verb::Noop:
    case Verb::Help:
    case Verb::Expn:
    case Verb::Unimplemented:
    case Verb::Unknown:
      break;
  }
  return r;
}

}  // namespace ferry::smtp
