// TestCa: a private certificate authority made by openssl at test time, and host certificates
// it issues (EC P-256, valid two days, the name as CN and subjectAltName DNS).
// Contract: writes `ca.key`/`ca.pem` and `<stem>.key`/`<stem>.pem` into `dir`; false if openssl failed.
#pragma once

#include <string>

#include "integration/support/Subprocess.hpp"

namespace ferry::test {

inline bool openssl_in(const std::string& dir, const std::string& commands) {
  return run({"/bin/sh", "-c", "cd '" + dir + "' && " + commands + " 2>/dev/null"}).exit_code == 0;
}

inline bool make_test_ca(const std::string& dir, const std::string& common_name) {
  return openssl_in(dir,
                    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
                    "-out ca.pem -days 2 -subj /CN=" +
                        common_name);
}

inline bool make_host_certificate(const std::string& dir, const std::string& host, const std::string& stem) {
  return openssl_in(dir, "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + stem +
                             ".key -out " + stem + ".csr -subj /CN=" + host +
                             " && printf 'subjectAltName=DNS:" + host + "\\n' > " + stem +
                             ".ext && openssl x509 -req -in " + stem +
                             ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + stem +
                             ".pem -days 2 -extfile " + stem + ".ext");
}

}  // namespace ferry::test
