// ConfigTestSupport: small helpers shared by the mta/config unit tests.
// Contract: load() fails the test on an error; error_of() returns ConfigError::str() or "(ok)".
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "mta/config/Config.hpp"

namespace ferry::config::test {

inline Config load(std::string_view text) {
  auto r = load_config_text(text, "t.toml");
  if (!r) {
    ADD_FAILURE() << "unexpected error: " << r.error().str() << "\nfor:\n" << text;
    return Config{};
  }
  return std::move(r).value();
}

inline std::string error_of(std::string_view text) {
  auto r = load_config_text(text, "t.toml");
  if (!r) return r.error().str();
  return "(ok)";
}

}  // namespace ferry::config::test
