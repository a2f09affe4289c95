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
    if (item == "success") flags |= kNotifySuccess;
    else if (item == "failure") flags |= kNotifyFailure;
    else if (item == "delay") flags |= kNotifyDelay;
    else return std::nullopt;  // includes "" and "never" mixed with others (RFC 3461 §4.1)
    start = comma + 1;
  }
  return flags;
}

std::variant<SendmailOptions, std::string> parse_sendmail_args(const std::vector<std::string>& args, bool as_mailq) {
  SendmailOptions o;
  if (as_mailq) o.mode = SendmailMode::List;
  std::size_t i = 0;
  // The value of a flag: the rest of this argument, or the next argument.
  auto value = [&](const std::string& arg, std::string& out) -> bool {
    if (arg.size() > 2) {
      out = arg.substr(2);
      return true;
    }
    if (i + 1 >= args.size()) return false;
    out = args[++i];
    return true;
  };
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;  // the first recipient
    const char flag = a[1];
    std::string v;
    switch (flag) {
      case 'f':
      case 'r':
        if (!value(a, v)) return std::string("option -") + flag + " needs an address";
        if (v == "<>") v.clear();
        if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
        o.sender = v;
        break;
      case 'F':
        if (!value(a, v)) return std::string("option -F needs a name");
        o.full_name = v;
        break;
      case 'C':
        if (!value(a, v)) return std::string("option -C needs a file name");
        o.config_path = v;
        break;
      case 'N': {
        if (!value(a, v)) return std::string("option -N needs never or success,failure,delay");
        auto n = parse_notify_list(v);
        if (!n) return "option -N: '" + v + "' is not never or a list of success, failure, delay";
        o.notify = *n;
        break;
      }
      case 'R':
        if (!value(a, v)) return std::string("option -R needs full or hdrs");
        if (lower(v) == "full") o.ret = DsnRet::Full;
        else if (lower(v) == "hdrs") o.ret = DsnRet::Hdrs;
        else return "option -R: '" + v + "' is not full or hdrs";
        break;
      case 'V':
        if (!value(a, v) || v.empty()) return std::string("option -V needs an envelope id");
        o.envid = v;
        break;
      case 't':
        if (a != "-t") return "unknown option '" + a + "'";
        o.recipients_from_headers = true;
        break;
      case 'i':
        if (a != "-i") return "unknown option '" + a + "'";
        o.dot_ends_message = false;
        break;
      case 'v':
        o.verbose = true;
        break;
      case 'o':
        // -oi is the only -o option with a meaning here; sendmail ignores the ones it does not
        // know (-oem, -oee, -odb, -oQ/path, ...), and so do we.
        if (a == "-oi") o.dot_ends_message = false;
        else if (a == "-o") {
          if (i + 1 < args.size()) o.ignored.push_back("-o " + args[++i]);
        } else o.ignored.push_back(a);
        break;
      case 'O':
      case 'B':
      case 'L':
      case 'h':
      case 'X':
        // Options with a value that change nothing for a relay (-O option=value, -B 8BITMIME,
        // -L syslog tag, -h hop count, -X log file).
        if (!value(a, v)) return std::string("option -") + flag + " needs a value";
        o.ignored.push_back(std::string("-") + flag + " " + v);
        break;
      case 'U':
      case 'm':
      case 'n':
      case 'x':
        o.ignored.push_back(a);
        break;
      case 'q':
        // -q, -q1h, -qR..., -qI...: run the queue once (the daemon retries on its own schedule).
        o.mode = SendmailMode::Flush;
        break;
      case 'b':
        if (a == "-bm") o.mode = SendmailMode::Deliver;
        else if (a == "-bs") o.mode = SendmailMode::Smtp;
        else if (a == "-bp") o.mode = SendmailMode::List;
        else if (a == "-bi") o.mode = SendmailMode::Aliases;
        else if (a == "-bd" || a == "-bD") return std::string("option ") + a + ": run `ferry serve` to start the daemon";
        else return "unsupported mode '" + a + "'";
        break;
      default:
        return "unknown option '" + a + "'";
    }
  }
  for (; i < args.size(); ++i) o.recipients.push_back(args[i]);
  return o;
}

}  // namespace ferry::cli
