// ConfKeys: the (table, key) pairs a commented ferry.toml documents, and those ferry.toml(5) lists.
// Contract: both return sets of {table, key} ("" = top level) that the man-page test compares.
#pragma once

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace ferry::test {

using KeySet = std::set<std::pair<std::string, std::string>>;

// Keys of the default file: set keys (`name = value`) belong to the table above them; keys an
// array table documents in comments (`#   name = meaning`) belong to the table whose header the
// comment block shows (`#   [[route]]`, `# [cluster]`) or, without one, to the header that
// follows the block. Comment lines from "Example:" on are samples, not documentation.
inline KeySet conf_keys(const std::string& text) {
  static const std::regex header(R"(^\[\[?(\w+)\]\]?\s*$)");
  static const std::regex comment_header(R"(^\s*\[\[?(\w+)\]\]?\s*$)");
  static const std::regex key(R"(^\s*(\w+)\s*=)");
  static const std::regex comment_key(R"(^\s*(\w+)\s*=\s)");
  KeySet keys;
  std::string table;
  std::vector<std::string> block;
  auto flush = [&](const std::string* next_header) {
    std::string target = next_header ? *next_header : table;
    std::smatch m;
    for (const auto& c : block)
      if (std::regex_match(c, m, comment_header)) {
        target = m[1];
        break;
      }
    for (const auto& c : block) {
      if (c.find("Example:") != std::string::npos) break;
      if (std::regex_search(c, m, comment_key)) keys.emplace(target, m[1]);
    }
    block.clear();
  };
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '#') {
      block.push_back(line.substr(1));
      continue;
    }
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      const std::string name = m[1];
      flush(&name);
      table = name;
      continue;
    }
    flush(nullptr);
    if (std::regex_search(line, m, key)) keys.emplace(table, m[1]);
  }
  flush(nullptr);
  return keys;
}

// Keys of ferry.toml(5): in the KEYS section, each `.SS [table]` (or "Top level") heading
// starts a table and each `.TP` entry whose tag is `.B name` is a key.
inline KeySet man_keys(const std::string& text) {
  KeySet keys;
  std::string table;
  bool in_keys = false;
  std::string previous;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line); previous = line) {
    if (line.rfind(".SH", 0) == 0) {
      in_keys = line == ".SH KEYS";
    } else if (in_keys && line.rfind(".SS ", 0) == 0) {
      std::string name = line.substr(4);
      table = name == "\"Top level\"" ? "" : name.substr(name.find_first_not_of('['));
      table = table.substr(0, table.find(']'));
    } else if (in_keys && previous == ".TP" && line.rfind(".B ", 0) == 0) {
      keys.emplace(table, line.substr(3));
    }
  }
  return keys;
}

}  // namespace ferry::test
