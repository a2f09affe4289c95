// MailClient: the two things most integration tests do with a running `ferry serve`: find the
// port its log says it listens on, and submit one message with a real client (Python smtplib).
// Contract: header-only test code; every subprocess is bounded by a timeout.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "integration/support/Subprocess.hpp"

namespace ferry::test {

// The port of the `which`-th "listening on ADDR:PORT " line of a daemon log; 0 when absent.
inline int port_from_log(const std::string& log, std::size_t which = 0) {
  static const std::regex re("listening on [^ ]*:([0-9]+) ");
  std::size_t i = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it, ++i)
    if (i == which) return std::stoi((*it)[1]);
  return 0;
}

// Sends `body` (LF line ends, turned into CRLF) with smtplib to 127.0.0.1:`port`. Returns "ok"
// when every recipient was accepted, smtplib's refusals or error text otherwise.
inline std::string send_mail(int port, const std::string& from, const std::vector<std::string>& rcpts,
                             const std::string& body) {
  std::string list;
  for (const auto& r : rcpts) list += "'" + r + "',";
  const std::string script =
      "import smtplib,sys\n"
      "s=smtplib.SMTP('127.0.0.1'," +
      std::to_string(port) +
      ",timeout=20)\n"
      "r=s.sendmail('" +
      from + "',[" + list +
      "],sys.stdin.read().replace('\\n','\\r\\n'))\n"
      "s.quit()\nprint('ok' if not r else r)\n";
  auto res = run({"/usr/bin/env", "python3", "-c", script}, body, 30);
  return res.exit_code == 0 ? res.out.substr(0, res.out.find('\n')) : res.err;
}

}  // namespace ferry::test
