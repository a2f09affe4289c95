// RecipientRefusal: a refusal hook's reply line ("550 5.1.1 <a@b>: suppressed ...") as the
// recipient decision the SMTP session sends.
// Contract: pure; whatever the line holds, the decision is a Reject with a 4xx or 5xx code and
// one line of text: a malformed line or a positive code becomes 451 4.3.0, never an accept.
#pragma once

#include <string_view>

#include "mta/smtp/RecipientDecision.hpp"

namespace ferry::inbound {

// When the address looked up was an alias target rewritten from the one the client gave, the
// reply names `given` instead of `<looked_up>`: an alias's target is not the client's business.
smtp::RecipientDecision recipient_refused(std::string_view reply_line, std::string_view looked_up = {},
                                          std::string_view given = {});

}  // namespace ferry::inbound
