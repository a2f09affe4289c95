#include "mta/smtp/BdatReader.hpp"

#include <algorithm>

namespace ferry::smtp {

BdatReader::BdatReader(std::string& body, std::uint64_t max_size)
    : body_(body), max_(max_size), start_(body.size()) {}

void BdatReader::begin_chunk(std::uint64_t octets, bool keep) {
  remaining_ = octets;
  keep_ = keep;
  if (keep && !too_big_ && max_ != 0 && stored_ + octets > max_) {
    // RFC 1870 / RFC 3030 §4: the announced chunk already exceeds the limit.
    too_big_ = true;
    body_.resize(start_);
    body_.shrink_to_fit();
  }
  // The announced size is never reserved: a client could announce much and send little, and the
  // daemon grows the body itself, read by read, within its memory budget.
}

void BdatReader::drop() {
  dropped_ = true;
  body_.resize(start_);
  body_.shrink_to_fit();
}

std::size_t BdatReader::consume(std::string_view input) {
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  if (storing()) {
    body_.append(input.substr(0, take));
    stored_ += take;
  }
  remaining_ -= take;
  return take;
}

}  // namespace ferry::smtp
