// TokenFile: see TokenFile.hpp. Tokens are kept as SHA-256 digests: comparing digests of equal
// length with CRYPTO_memcmp tells nothing about a token's length or common prefix.
#include "mta/inbound/TokenFile.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry::inbound {
namespace {

constexpr std::size_t kMaxFileSize = 1 << 20;
constexpr std::size_t kMinToken = 16;  // a short token could be guessed over the network
constexpr std::size_t kMaxToken = 512;

std::array<unsigned char, 32> digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view t) {
  std::size_t i = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < t.size(); ++i)
    if (t[i] != '=') return false;
  return true;
}

Result<std::string> read_private_file(const std::string& path) {
  // O_NOFOLLOW: a symlink planted where the file should be is not followed.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorKind::Io, path + ": " + std::strerror(errno));
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(ErrorKind::Io, path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error(ErrorKind::Invalid, path + ": not a regular file");
  // Anyone who can read a token can send mail as any sender; anyone who can write one can add theirs.
  if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP))
    return make_error(ErrorKind::Security,
                      path + ": other users may read or write it; make it private (chmod 600 or 640)");
  if (static_cast<std::size_t>(st.st_size) > kMaxFileSize)
    return make_error(ErrorKind::Invalid, path + ": larger than 1 MiB");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorKind::Io, path + ": " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

Result<TokenFile> TokenFile::load(const std::string& path) {
  auto text = read_private_file(path);
  if (!text) return text.error();
  return parse(*text, path);
}

Result<TokenFile> TokenFile::parse(std::string_view text, const std::string& path) {
  TokenFile file;
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    // The error never quotes the line: it may be a token.
    if (!is_b64token(line) || line.size() < kMinToken || line.size() > kMaxToken)
      return make_error(
          ErrorKind::Invalid,
          where + "a token is 16 to 512 characters of A-Z a-z 0-9 - . _ ~ + / (then = padding)");
    Token t{digest(line), "line " + std::to_string(number)};
    for (const auto& other : file.tokens_)
      if (other.digest == t.digest)
        return make_error(ErrorKind::Invalid, where + "the same token as " + other.label);
    file.tokens_.push_back(std::move(t));
  }
  if (file.tokens_.empty()) return make_error(ErrorKind::Invalid, path + ": no token");
  return file;
}

std::optional<std::string> TokenFile::match(std::string_view presented) const {
  const auto d = digest(presented);
  const Token* found = nullptr;
  for (const auto& t : tokens_) {  // every token is compared: no early exit
    const bool equal = CRYPTO_memcmp(d.data(), t.digest.data(), d.size()) == 0;
    if (equal) found = &t;
  }
  if (!found) return std::nullopt;
  return found->label;
}

}  // namespace ferry::inbound
