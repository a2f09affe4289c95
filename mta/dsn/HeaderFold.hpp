// HeaderFold: RFC 5322 §2.2.3 folding of the header fields DsnComposer writes.
// Contract: pure; unfolding the result (removing each CRLF) gives back the input exactly, except
// that a run of more than 997 octets without white space is broken with an inserted CRLF SP.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::dsn {

// Folds one unfolded field "Name: value" (no CRLF) before white space so that lines stay within
// `soft` octets where possible (RFC 5322 §2.1.1 SHOULD 78) and always within 998 (MUST). Never
// folds between the field name and the first word of its value. Returns the field without a
// final CRLF.
std::string fold_field(std::string_view field, std::size_t soft = 78);

}  // namespace ferry::dsn
