// PasswordFile: the AUTH user database, lines `user:HASH` with crypt(3) hashes (yescrypt `$y$`,
// sha512-crypt `$6$`, ...). Contract: verify() never reveals which of user/password was wrong.
#pragma once

#include <map>
#include <string>

#include "ferry/Result.hpp"

namespace ferry::inbound {

class PasswordFile {
 public:
  // Reads and parses `path`; blank lines and lines starting with '#' are ignored.
  static Result<PasswordFile> load(const std::string& path);
  static Result<PasswordFile> parse(const std::string& text, const std::string& path);

  // True when `user` exists and `password` matches its hash (libcrypt's crypt_rn).
  bool verify(const std::string& user, const std::string& password) const;
  std::size_t size() const { return users_.size(); }

 private:
  std::map<std::string, std::string> users_;
};

}  // namespace ferry::inbound
