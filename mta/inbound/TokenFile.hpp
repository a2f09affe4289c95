// TokenFile: the bearer tokens of an [[http]] listener, one per line (RFC 6750 §2.1 b64token).
// Contract: load() refuses a file other users may read or write, a symlink, and malformed or
// duplicate tokens; match() compares in constant time against every token and returns only a
// non-secret label ("line N"), so a log never holds a token.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/Result.hpp"

namespace ferry::inbound {

class TokenFile {
 public:
  static Result<TokenFile> load(const std::string& path);
  static Result<TokenFile> parse(std::string_view text, const std::string& path);

  // The label of the token `presented` equals, or nullopt. The time taken does not depend on
  // which token matched or how much of one did.
  std::optional<std::string> match(std::string_view presented) const;
  std::size_t size() const { return tokens_.size(); }

 private:
  struct Token {
    std::array<unsigned char, 32> digest;  // SHA-256: equal-length values to compare
    std::string label;
  };
  std::vector<Token> tokens_;
};

}  // namespace ferry::inbound
