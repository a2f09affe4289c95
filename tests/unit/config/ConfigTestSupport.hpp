// ConfigTestSupport: small helpers shared by the mta/config unit tests.
// Contract: load() fails the test on an error; error_of() returns ConfigError::str() or "(ok)".
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include "mta/config/Config.hpp"

namespace ferry::config::test {

inline Config load(std::string_view text) {
  auto r = load_config_text(text, "t.toml");
  if (auto* e = std::get_if<ConfigError>(&r)) {
    ADD_FAILURE() << "unexpected error: " << e->str() << "\nfor:\n" << text;
    return Config{};
  }
  return std::get<Config>(std::move(r));
}

inline std::string error_of(std::string_view text) {
  auto r = load_config_text(text, "t.toml");
  if (auto* e = std::get_if<ConfigError>(&r)) return e->str();
  return "(ok)";
}

}  // namespace ferry::config::test
