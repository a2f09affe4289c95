// OriginalTo: the X-Original-To: fields of a message whose recipients were rewritten to the
// admin address, so the admin's mailbox shows whom each copy was for (Postfix writes the same
// field at local delivery). Contract: pure; one field per distinct address, in order; an address
// holding a control character (never one the address parser accepted) is left out, so no field
// can be split or injected.
#pragma once

#include <string>
#include <vector>

namespace ferry::smtp {

// "X-Original-To: root@vm\r\n..." for `addresses`; "" when there are none.
std::string original_to_fields(const std::vector<std::string>& addresses);

}  // namespace ferry::smtp
