// SendmailOptions: see SendmailOptions.hpp. Flags follow sendmail(8): a flag's value may be
// attached (-fuser@example.org) or the next argument (-f user@example.org).
#include "mta/cli/SendmailOptions.hpp"
#include "ferry/text/Ascii.hpp"

#include <algorithm>
#include <cctype>

namespace ferry::cli {
namespace {

std::string lower(std::string_view s) { return text::to_lower(s); }

}  // namespace

std::optional<std::uint8_t> parse_notify_list(const std::string& text) {
  const std::string t = lower(text);
  if (t == "never") return kNotifyNever;
  std::uint8_t flags = 0;
  std::size_t start = 0;
  while (start <= t.size()) {
    std::size_t comma = t.find(',', start);
    if (comma == std::string::npos) comma = t.size();
    const std::string item = t.substr(start, comma - start);
    if (item == "success")
      flags |= kNotifySuccess;
    else if (item == "failure")
      flags |= kNotifyFailure;
    else if (item == "delay")
      flags |= kNotifyDelay;
    else
      return std::nullopt;  // includes "" and "never" mixed with others (RFC 3461 §4.1)
    start = comma + 1;
  }
  return flags;
}

namespace {

// The arguments and the one being read; a flag's value may consume the next one.
struct ArgCursor {
  const std::vector<std::string>& args;
  std::size_t i = 0;

  // The value of a flag: the rest of this argument, or the next argument.
  bool value(const std::string& arg, std::string& out) {
    if (arg.size() > 2) {
      out = arg.substr(2);
      return true;
    }
    if (i + 1 >= args.size()) return false;
    out = args[++i];
    return true;
  }
};

using Outcome = std::optional<std::string>;  // the usage error, if any

// A flag that takes a value: what it needs (for the error when the value is missing) and what
// the value does.
struct ValuedFlag {
  const char* flags;
  const char* needs;
  Outcome (*apply)(SendmailOptions& o, char flag, std::string v);
};

Outcome set_sender(SendmailOptions& o, char, std::string v) {
  if (v == "<>") v.clear();
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  o.sender = v;
  return std::nullopt;
}

Outcome set_notify(SendmailOptions& o, char, std::string v) {
  auto n = parse_notify_list(v);
  if (!n) return "option -N: '" + v + "' is not never or a list of success, failure, delay";
  o.notify = *n;
  return std::nullopt;
}

Outcome set_ret(SendmailOptions& o, char, std::string v) {
  if (lower(v) == "full")
    o.ret = DsnRet::Full;
  else if (lower(v) == "hdrs")
    o.ret = DsnRet::Hdrs;
  else
    return "option -R: '" + v + "' is not full or hdrs";
  return std::nullopt;
}

Outcome set_envid(SendmailOptions& o, char, std::string v) {
  if (v.empty()) return std::string("option -V needs an envelope id");
  o.envid = v;
  return std::nullopt;
}

constexpr ValuedFlag kValuedFlags[] = {
    {"fr", "an address", set_sender},
    {"F", "a name",
     [](SendmailOptions& o, char, std::string v) -> Outcome {
       o.full_name = v;
       return std::nullopt;
     }},
    {"C", "a file name",
     [](SendmailOptions& o, char, std::string v) -> Outcome {
       o.config_path = v;
       return std::nullopt;
     }},
    {"N", "never or success,failure,delay", set_notify},
    {"R", "full or hdrs", set_ret},
    {"V", "an envelope id", set_envid},
    // Options with a value that change nothing for a relay (-O option=value, -B 8BITMIME,
    // -L syslog tag, -h hop count, -X log file).
    {"OBLhX", "a value",
     [](SendmailOptions& o, char flag, std::string v) -> Outcome {
       o.ignored.push_back(std::string("-") + flag + " " + v);
       return std::nullopt;
     }},
};

const ValuedFlag* valued_flag(char flag) {
  for (const ValuedFlag& f : kValuedFlags)
    if (std::string_view(f.flags).find(flag) != std::string_view::npos) return &f;
  return nullptr;
}

// -b: the mode of operation.
Outcome set_mode(SendmailOptions& o, const std::string& a) {
  if (a == "-bm")
    o.mode = SendmailMode::Deliver;
  else if (a == "-bs")
    o.mode = SendmailMode::Smtp;
  else if (a == "-bp")
    o.mode = SendmailMode::List;
  else if (a == "-bi")
    o.mode = SendmailMode::Aliases;
  else if (a == "-bd" || a == "-bD")
    return std::string("option ") + a + ": run `ferry serve` to start the daemon";
  else
    return "unsupported mode '" + a + "'";
  return std::nullopt;
}

// The flags without a value.
Outcome switch_flag(SendmailOptions& o, const std::string& a, ArgCursor& cur) {
  switch (a[1]) {
    case 't':
      if (a != "-t") return "unknown option '" + a + "'";
      o.recipients_from_headers = true;
      return std::nullopt;
    case 'i':
      if (a != "-i") return "unknown option '" + a + "'";
      o.dot_ends_message = false;
      return std::nullopt;
    case 'v':
      o.verbose = true;
      return std::nullopt;
    case 'o':
      // -oi is the only -o option with a meaning here; sendmail ignores the ones it does not
      // know (-oem, -oee, -odb, -oQ/path, ...), and so do we.
      if (a == "-oi")
        o.dot_ends_message = false;
      else if (a == "-o") {
        if (cur.i + 1 < cur.args.size()) o.ignored.push_back("-o " + cur.args[++cur.i]);
      } else
        o.ignored.push_back(a);
      return std::nullopt;
    case 'U':
    case 'm':
    case 'n':
    case 'x':
      o.ignored.push_back(a);
      return std::nullopt;
    case 'q':
      // -q, -q1h, -qR..., -qI...: run the queue once (the daemon retries on its own schedule).
      o.mode = SendmailMode::Flush;
      return std::nullopt;
    case 'b':
      return set_mode(o, a);
    default:
      return "unknown option '" + a + "'";
  }
}

}  // namespace

Result<SendmailOptions, std::string> parse_sendmail_args(const std::vector<std::string>& args,
                                                         bool as_mailq) {
  SendmailOptions o;
  if (as_mailq) o.mode = SendmailMode::List;
  ArgCursor cur{args};
  for (; cur.i < args.size(); ++cur.i) {
    const std::string& a = args[cur.i];
    if (a == "--") {
      ++cur.i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;  // the first recipient
    Outcome error;
    if (const ValuedFlag* f = valued_flag(a[1])) {
      std::string v;
      if (!cur.value(a, v)) return std::string("option -") + a[1] + " needs " + f->needs;
      error = f->apply(o, a[1], std::move(v));
    } else {
      error = switch_flag(o, a, cur);
    }
    if (error) return *error;
  }
  for (std::size_t i = cur.i; i < args.size(); ++i) o.recipients.push_back(args[i]);
  return o;
}

}  // namespace ferry::cli
