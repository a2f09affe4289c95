// PasswordFile: see PasswordFile.hpp. An unknown user is still run through crypt with a dummy
// hash so that timing does not tell which users exist.
#include "mta/inbound/PasswordFile.hpp"

#include <crypt.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace ferry::inbound {

Result<PasswordFile> PasswordFile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::Io, path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

Result<PasswordFile> PasswordFile::parse(const std::string& text, const std::string& path) {
  PasswordFile file;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == line.size())
      return make_error(ErrorKind::Invalid, path + ":" + std::to_string(number) + ": expected user:HASH");
    file.users_[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return file;
}

bool PasswordFile::verify(const std::string& user, const std::string& password) const {
  // A valid sha512-crypt hash of a random string, used when the user is unknown.
  static const std::string dummy =
      "$6$ferrydummysalt$"
      "3cWmZpJqf0Qw7J6lF1x2x8cHq7nqk8Xk3l0mE0p4qBv3b2rK1jW2vF5u6Qx9yZ0aB1cD2eF3gH4iJ5kL6mN7o.";
  auto it = users_.find(user);
  // For an unknown user, hash with a real user's settings (same scheme and cost: a yescrypt
  // hash costs far more than sha512-crypt, and the difference would tell who exists).
  const std::string& hash = it != users_.end() ? it->second : users_.empty() ? dummy : users_.begin()->second;
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (!out || it == users_.end()) return false;
  // crypt(3) stops at the first NUL: "secret\0junk" (possible with AUTH LOGIN's base64) must
  // not pass as "secret".
  if (password.find('\0') != std::string::npos) return false;
  // Constant-time comparison of the computed and stored hash.
  std::size_t n = std::strlen(out);
  if (n != hash.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
  return diff == 0;
}

}  // namespace ferry::inbound
