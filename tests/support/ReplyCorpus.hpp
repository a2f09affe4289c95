// ReplyCorpus: loads tests/unit/delivery/data/replies.tsv (real SMTP replies with the category a
// postmaster gives them). Contract: header-only, standard library only; rows are returned in file
// order, malformed lines are reported in `errors` (file:line: message) and skipped.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ferry/Reply.hpp"

namespace ferry::test {

struct CorpusRow {
  int line = 0;
  std::string category;
  Reply reply;
  std::string source;
  std::string provider;     // the operator or software that produced the reply
  bool known_miss = false;  // the note column says "known-miss": the table is known to get it wrong
};

struct Corpus {
  std::vector<CorpusRow> rows;
  std::vector<std::string> errors;
};

inline EnhancedStatus parse_corpus_status(const std::string& s) {
  EnhancedStatus st;
  unsigned k = 0, a = 0, b = 0;
  if (s != "-" && std::sscanf(s.c_str(), "%u.%u.%u", &k, &a, &b) == 3 && a < 1000 && b < 1000)
    st = {static_cast<std::uint8_t>(k), static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b)};
  return st;
}

// Columns (TAB-separated): category, code, enhanced status or "-", text, source, provider, and an
// optional note ("known-miss: ..."). Lines starting with '#' are comments.
inline Corpus load_reply_corpus(const std::string& path) {
  Corpus out;
  std::ifstream in(path);
  if (!in) out.errors.push_back(path + ": cannot open");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string col; std::getline(ss, col, '\t');) cols.push_back(col);
    const bool codeok = cols.size() > 1 && cols[1].size() == 3 &&
                        cols[1].find_first_not_of("0123456789") == std::string::npos;
    if (cols.size() < 6 || cols.size() > 7 || !codeok || cols[4].empty() || cols[5].empty()) {
      out.errors.push_back(path + ":" + std::to_string(n) + ": expected 6 or 7 TAB-separated columns");
      continue;
    }
    CorpusRow row{n, cols[0], Reply{std::stoi(cols[1]), parse_corpus_status(cols[2]), cols[3]}, cols[4],
                  cols[5]};
    row.known_miss = cols.size() == 7 && cols[6].rfind("known-miss", 0) == 0;
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace ferry::test
