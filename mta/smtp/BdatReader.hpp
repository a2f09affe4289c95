// BdatReader: reads RFC 3030 CHUNKING chunks ("BDAT n [LAST]") into one caller-owned body.
// Contract: each chunk is exactly n octets, binary, never unstuffed or rewritten; the total is
// checked against max_size without overflow, when the chunk is announced and again while it
// streams (over it: the chunk is still read in full, then the data is dropped). Memory is never
// reserved for an announced size: the body grows only with octets actually received.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::smtp {

class BdatReader {
 public:
  BdatReader(std::string& body, std::uint64_t max_size);

  // Starts a chunk of `octets`; with keep=false the octets are read and thrown away (a BDAT
  // refused for sequence reasons must still swallow its chunk, RFC 3030 §2).
  void begin_chunk(std::uint64_t octets, bool keep = true);
  // Takes up to the rest of the current chunk from `input`; returns octets consumed.
  std::size_t consume(std::string_view input);

  // Stops storing (the daemon has no memory for this message) and frees what was stored; the
  // current chunk is still read to its end.
  void drop();

  bool chunk_done() const { return remaining_ == 0; }
  bool storing() const { return keep_ && !too_big_ && !dropped_; }
  bool dropped() const { return dropped_; }
  bool too_big() const { return too_big_; }
  std::uint64_t size() const { return stored_; }

 private:
  bool over_limit(std::uint64_t more) const;
  void refuse_too_big();

  std::string& body_;
  std::uint64_t max_;
  std::size_t start_;
  std::uint64_t remaining_ = 0;
  std::uint64_t stored_ = 0;
  bool keep_ = true;
  bool too_big_ = false;
  bool dropped_ = false;
};

}  // namespace ferry::smtp
