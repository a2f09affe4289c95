#include "mta/smtp/BdatReader.hpp"

#include <algorithm>

namespace ferry::smtp {

BdatReader::BdatReader(std::string& body, std::uint64_t max_size)
    : body_(body), max_(max_size), start_(body.size()) {}

// True when `more` octets do not fit next to the stored ones. Written as `more > max - stored`
// (stored never exceeds max) so that an announced size near UINT64_MAX cannot wrap the sum.
bool BdatReader::over_limit(std::uint64_t more) const { return max_ != 0 && more > max_ - stored_; }

void BdatReader::refuse_too_big() {
  too_big_ = true;
  body_.resize(start_);
  body_.shrink_to_fit();
}

void BdatReader::begin_chunk(std::uint64_t octets, bool keep) {
  remaining_ = octets;
  keep_ = keep;
  // RFC 1870 / RFC 3030 §4: the announced chunk already exceeds the limit. The announced size is
  // never reserved: a client could announce gigabytes and send nothing; the daemon grows the body
  // itself, read by read, within its memory budget.
  if (keep && !too_big_ && over_limit(octets)) refuse_too_big();
}

void BdatReader::drop() {
  dropped_ = true;
  body_.resize(start_);
  body_.shrink_to_fit();
}

std::size_t BdatReader::consume(std::string_view input) {
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  if (storing() && over_limit(take)) refuse_too_big();  // the running check, whatever was announced
  if (storing()) {
    body_.append(input.substr(0, take));
    stored_ += take;
  }
  remaining_ -= take;
  return take;
}

}  // namespace ferry::smtp
