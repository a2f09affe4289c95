// ReplyCategoryTable: the data of reply classification. Extend it here: add a text rule at the
// right place (first match wins, so specific phrases go before generic words), then a test line
// to tests/unit/delivery/data/replies.tsv with the real reply and where it was seen.
#include "mta/delivery/ReplyCategory.hpp"

namespace ferry::delivery::table {
namespace {

namespace c = ferry::delivery::category;

// Order matters: first match wins. Needles are lower-case substrings, '|' separates alternatives.
// `origin` (last field) names the providers whose replies a rule was written from; rules without
// one use wording from the RFCs, the MTAs' default texts (Postfix, Exim, Sendmail, qmail,
// OpenSMTPD, Haraka, greylisters) or the public blocklists' own names ("generic").
constexpr TextRule kText[] = {
    // Greylisting (postgrey, milter-greylist, sqlgrey, Exim/Rspamd ACLs) says so, under any code.
    {c::greylisted, "greylist|graylist|grey-list|gray-list|grey list|gray list|greylisting|postgrey"},
    // Loops say so before any "too many" (RFC 5321 §6.3: hop counts).
    {c::other, "too many hops|loop detected|routing loop", "mail loop"},
    {c::other, "hop count|mail loop", "mail loop", 0, true, "outlook|x6|gmail"},
    {c::other, "looping message", "mail loop", 0, true, "coremail"},

    // Named domain blocklists, then named IP blocklists (the detail names the list).
    {c::blocklisted_domain, "dbl.spamhaus|spamhaus dbl|spamhaus domain block|spamhaus dbl", "Spamhaus DBL"},
    {c::blocklisted_domain, "uribl", "URIBL"},
    {c::blocklisted_domain, "surbl", "SURBL"},
    {c::blocklisted_domain, "helo domain is listed", "domain blocklist"},
    {c::blocklisted_domain, "domain is listed", "domain blocklist", 0, true, "postfix"},
    {c::blocklisted_domain, "domain present in", "domain blocklist", 0, true, "apple"},
    {c::blocklisted_ip, "sbl.spamhaus|spamhaus sbl|sbl-xbl", "Spamhaus SBL"},
    {c::blocklisted_ip, "xbl.spamhaus|spamhaus xbl|cbl.abuseat|abuseat.org", "Spamhaus XBL/CBL"},
    {c::blocklisted_ip, "pbl.spamhaus|spamhaus pbl", "Spamhaus PBL"},
    {c::blocklisted_ip, "spamhaus", "Spamhaus"},
    {c::blocklisted_ip, "spamcop", "SpamCop"},
    {c::blocklisted_ip, "barracudacentral|barracuda reputation|barracudanetworks.com/reputation|brbl",
     "Barracuda BRBL"},
    {c::blocklisted_ip, "sorbs", "SORBS"},
    {c::blocklisted_ip, "uceprotect", "UCEPROTECT"},
    {c::blocklisted_ip, "psbl.surriel|psbl", "PSBL"},
    {c::blocklisted_ip, "mailspike", "Mailspike"},
    {c::blocklisted_ip, "invaluement", "Invaluement"},
    {c::blocklisted_ip, "backscatterer", "Backscatterer"},
    {c::blocklisted_ip, "senderscore|return path reputation", "Validity SenderScore"},
    {c::blocklisted_ip, "mail-abuse.com|trend micro email reputation|ers.trendmicro", "Trend Micro ERS"},
    {c::blocklisted_ip, "zombie matches|rbl+ matches", "Trend Micro ERS", 0, true, "trendmicro"},
    {c::blocklisted_ip, "proofpoint.com/dnsbl|proofpoint dynamic reputation|ipcheck.proofpoint|dnsbl-lookup",
     "Proofpoint"},
    {c::blocklisted_ip, "cloudmark|csi.cloudmark", "Cloudmark CSI"},
    // Providers' own block codes.
    {c::blocklisted_ip, "(s3150)|(s3140)|part of their network is on our block list", "Microsoft", 0, true,
     "outlook"},
    {c::blocklisted_ip, "banned sending ip|traffic not accepted from this ip|5.7.606|5.7.511", "Microsoft", 0,
     true, "outlook"},
    {c::blocklisted_ip, "sc-001|sc-004|dy-001|dy-002", "Outlook.com", 0, true, "outlook"},
    {c::blocklisted_ip, "[tss09]|[tsm09]|[tss11]|permanently deferred", "Yahoo", 0, true, "yahoo"},
    {c::blocklisted_ip, "rtr:bl|rtr:gy", "AOL", 0, true, "yahoo"},
    {c::blocklisted_ip, "(bl)|(nowl)", "T-Online", 0, true, "t-online|sendmail"},
    {c::blocklisted_ip, "spam statistics", "Yandex", 0, true, "yandex"},
    {c::blocklisted_ip, "blocked for abuse|dnsbl:attrbl", "AT&T", 0, true, "att"},
    {c::blocklisted_ip, "ont ete bloques|adresse ip source bloquee", "Orange", 0, true, "orange"},

    {c::spam_content, "ou-001|ou-002|spam-like", {}, 0, true, "outlook"},
    {c::spam_content, "antispam check|anti-spam check|spam pattern|spam contents", {}, 0, true, "postfix"},
    // An allow/block list of the receiving organisation itself is policy, not a public blocklist.
    {c::policy_rejected, "allow block list|allow/block list", "organisation block list", 0, true, "outlook"},

    // The receiver's own trouble, even when it names the sender or a callout.
    {c::service_unavailable,
     "server configuration error|server configuration problem|configuration error|"
     "could not complete|temporary local problem|unable to queue"},

    // The receivers' own DNS trouble named with the DMARC or PTR check it broke.
    {c::dns_failure, "failure in dns look-up", {}, 0, true, "att"},
    {c::dns_failure, "dns lookup failure", {}, 0, true, "rackspace"},
    // Sender authentication. DMARC texts mention SPF and DKIM too, so DMARC goes first.
    {c::dmarc_fail, "dmarc|authentication checks|aligned|alignment"},
    {c::dmarc_fail,
     "sender is unauthenticated|unauthenticated email|isn't aligned|fails to pass authentication",
     {},
     0,
     true,
     "gmail"},
    {c::dmarc_fail, "required authentication level", {}, 0, true, "outlook"},
    {c::spf_fail, "spf|sender policy framework|not designated|not permitted sender"},
    {c::spf_fail, "invalid ip for sending mail of domain", {}, 0, true, "yahoo"},
    {c::spf_fail, "remote ip check", {}, 0, true, "coremail"},
    {c::dkim_fail, "dkim|domainkeys"},
    // DNS trouble on the receiver's side (its lookups of us or of the sender's domain).
    {c::dns_failure,
     "host not found, try again|temporary failure in name resolution|dns query failed|servfail|"
     "dns lookup failed|dns timeout|dns temporary|name server timeout|dns error|temporary dns|cannot "
     "resolve"},

    // Our sender, HELO or PTR was refused: local policy about us, not the recipient.
    {c::policy_rejected,
     "sender address|sender domain|sender rejected|bad sender|domain of sender|sender verify|"
     "unroutable sender|postmaster verification|callback setup failed|invalid sender|sender account",
     "sender"},
    {c::policy_rejected, "emetteur invalide", "sender", 0, true, "orange"},
    {c::policy_rejected, "denies the sender|mail from invalid|sender is unvalidated", "sender", 0, true,
     "coremail"},
    {c::policy_rejected, "unresolvable rfc", "sender", 0, true, "yahoo"},
    {c::policy_rejected, "from domain must match|must match authenticated", "sender", 0, true,
     "aspnethosting"},
    {c::policy_rejected, "domain is invalid. provide a valid from|from: domain is invalid", "sender", 0, true,
     "godaddy"},
    {c::policy_rejected, "sending for this account is disabled", "sender", 0, true, "mail.ru"},
    {c::policy_rejected, "helo command rejected|invalid helo|helo name|bad helo|ehlo/helo", "HELO"},
    {c::policy_rejected, "helohost", "HELO", 0, true, "coremail"},
    {c::policy_rejected,
     "reverse dns|reverse lookup|ptr record|rdns|reverse hostname|cannot find your hostname|"
     "cannot find your reverse|no ptr|client host rejected: cannot find|bad reverse",
     "reverse DNS"},
    {c::policy_rejected, "anti-spoofing", "anti-spoofing"},
    {c::policy_rejected, "sender filtering", {}, 0, true, "trendmicro"},
    {c::policy_rejected, "unverifyable sending ip|csa status is fail", {}, 0, true, "exim"},
    {c::policy_rejected, "mismatches client ip", {}, 0, true, "outlook"},
    {c::policy_rejected, "recipient preferences", {}, 0, true, "facebook"},

    {c::protocol_error, "line limit", {}, 0, true, "exim"},
    {c::protocol_error, "header error", {}, 0, true, "sendmail"},
    {c::protocol_error,
     "missing a valid|from: header|message-id: header|disallowed header",
     {},
     0,
     true,
     "gmail"},
    {c::protocol_error, "blank from|as a from", {}, 0, true, "godaddy"},
    // Protocol trouble that mentions other keywords (STARTTLS, HELO, transaction, commands).
    {c::protocol_error,
     "protocol violation|is unsupported|malformed|too many errors|bad sequence|synchronization|"
     "nonmail commands|unrecognized commands|when not advertised|internationalised|internationalized|"
     "parameter syntax|size syntax|no valid recipients"},
    {c::protocol_error, "stray newline|parse error", {}, 0, true, "coremail"},

    // A message that breaks RFC 5322 (headers) or the line limits of RFC 5321 §4.5.3.1.6.
    {c::protocol_error,
     "rfc 2822|rfc2822|rfc 5322|rfc5322|not crlf terminated|header line is too long|line too long"},

    // Transport security, then SMTP AUTH (a 530 "Must issue a STARTTLS" is about TLS).
    {c::tls_required,
     "starttls|tls required|requires tls|tls is required|tls not available|encryption required|"
     "encryption is required|requiretls|secure connection|must use tls|tls encryption|"
     "must be encrypted|tls handshake|tls negotiation|tls currently unavailable|security failure| tls"},
    {c::auth_required,
     "authentication required|authentication is required|auth required|authrequired|"
     "not authenticated|must authenticate|authentication failed|authentication unsuccessful|"
     "invalid credentials|smtp auth|please authenticate|"
     "authentication credentials invalid|auth first|cannot authenticate|authentication aborted|"
     "authentication cancelled|authentication not enabled|insufficient authorization|"
     "authentication mechanism|unable to authenticate|auth command|incorrect authentication|login"},
    {c::auth_required, "unauthenticated senders", {}, 0, true, "sendmail|postfix"},
    {c::auth_required, "authentication failure", {}, 0, true, "ionos"},
    {c::auth_required, "authentication not allowed", {}, 0, true, "godaddy"},
    {c::auth_required,
     "password required|log in with your web browser|username and password not accepted",
     {},
     0,
     true,
     "gmail"},
    {c::auth_required, "authentification", {}, 0, true, "orange"},
    {c::auth_required, "auth error|auth mode|relay check local", {}, 0, true, "coremail"},

    // Sending quotas and per-connection limits before mailbox quotas ("Daily user sending quota").
    {c::rate_limited,
     "sending quota|sending limit|quota for sending|outgoing quota|daily message quota|message quota "
     "exceeded|"
     "per connection|per session|per transaction|messages in this connection|too much mail|too many "
     "concurrent|"
     "too many connections"},
    {c::rate_limited, "daily user sending", {}, 0, true, "gmail"},
    {c::rate_limited, "relay quota", {}, 0, true, "exim"},
    {c::rate_limited, "max number of messages|too many sessions", {}, 0, true, "godaddy"},
    {c::rate_limited, "too much email|short period of time", {}, 0, true, "rackspace"},
    {c::rate_limited, "exceeded threshold", {}, 0, true, "outlook"},
    {c::rate_limited, "rcpt numbers", {}, 0, true, "coremail"},
    {c::rate_limited, "trop de connexions", {}, 0, true, "orange"},
    {c::rate_limited, "unusual sending activity", {}, 0, true, "zoho"},

    {c::mailbox_full,
     "over quota|overquota|quota exceeded|quotaexceeded|exceeded storage|storage allocation|"
     "mailbox full|mailbox is full|mailbox size limit|out of storage|inbox is full|mailfolder is full|"
     "exceeds quota|exceeded quota|disk quota|full mailbox|account is full|mailbox has exceeded|"
     "insufficient mailbox space|quota full|over its quota|over their quota|mail quota"},
    {c::mailbox_full, "quota limit", {}, 0, true, "bytecamp"},
    {c::mailbox_full, "messages on the server", {}, 0, true, "gmx"},
    {c::mailbox_full, "destinataire pleine", {}, 0, true, "orange"},

    {c::dns_failure, "dns query failed|servfail"},
    {c::bad_domain,
     "domain does not exist|domain not found|no such domain|host or domain name not found|"
     "domain does not accept mail|does not accept mail|null mx|domain name not found|"
     "unrouteable mail domain|no mx record|nxdomain|domain is not valid|invalid domain|host unknown"},
    {c::bad_domain, "domain is not reachable", {}, 0, true, "outlook"},

    {c::mailbox_disabled,
     "mailbox is disabled|mailbox disabled|account is disabled|account has been disabled|account disabled|"
     "is disabled|been disabled|inactive|suspended|deactivated|no longer active|no longer in use|"
     "mailbox is frozen|account is locked|account expired|has been terminated|not accepting messages|"
     "mailbox has moved|no forwarding address|user account disabled"},
    {c::mailbox_disabled, "user is locked", {}, 0, true, "coremail"},
    {c::mailbox_disabled, "temporary locked|temporarily locked", {}, 0, true, "amazonses"},
    {c::mailbox_disabled,
     "account is blocked|account isblocked|destinataire archivee",
     {},
     0,
     true,
     "orange|laposte"},
    {c::mailbox_disabled, "no longer valid", {}, 0, true, "yahoo"},
    {c::unknown_user,
     "user unknown|unknown user|no such user|no such recipient|no such mailbox|does not exist|"
     "doesn't exist|does not exists|not exist|unknown recipient|recipient unknown|recipient not found|"
     "recipientnotfound|invalid recipient|invalid mailbox|mailbox not found|user not found|"
     "undeliverable address|unrouteable address|no mailbox|no mail box|mail-box not found|mailbox "
     "name|addressee unknown|unknown address|"
     "address unknown|bad destination mailbox|not a valid mailbox|no such person|account not found|"
     "address rejected: user|bad address syntax|unknown or illegal alias|is not a valid|invalid address|"
     "address not found|recipient rejected|bad recipient|not listed in|must contain a domain|address syntax|"
     "recipient address rejected: need fully-qualified"},
    {c::unknown_user, "not a known user", {}, 0, true, "postfix"},
    {c::unknown_user,
     "user doesn't have|recipient address rejected: access denied|not our customer",
     {},
     0,
     true,
     "yahoo|outlook|sendmail"},
    {c::unknown_user, "is not a registered", {}, 0, true, "rfc3464"},

    // RFC 5321 §4.2.3: a 450 "mailbox unavailable" is busy, a 550 one means no such mailbox, unless
    // the enhanced status says more (5.2.1: disabled).
    {c::unknown_user, "mailbox unavailable|mailbox not available", {}, 5, false},

    {c::protocol_error,
     "syntax error|command unrecognized|unrecognized command|command not recognized|unknown command|"
     "invalid command"},

    {c::message_too_large,
     "too large|too big|size limit|exceeds size|message size|size exceeds|maximum size|"
     "message length exceeds|exceeds the maximum|exceeded the maximum|message exceeds|size of|"
     "larger than|message too long|ridiculously long"},
    {c::message_too_large, "message is too long|attachment is too long", {}, 0, true, "coremail"},
    {c::message_too_large, "number of attachments", {}, 0, true, "gmail"},

    {c::rate_limited,
     "rate limit|ratelimit|rate-limit|rate limited|too many|throttl|too fast|"
     "limit exceeded|concurrent connections|connection limit|slow down|excessive|exceeded the rate|"
     "per hour|per day|mail flood|volume|frequency"},
    {c::rate_limited,
     "unusual rate|receiving mail at a rate|we have limits|too quickly",
     {},
     0,
     true,
     "gmail|yahoo"},
    {c::rate_limited,
     "unexpected volume|user complaints|temporarily deferred|[ts01]|[ts02]|[ts03]|[tss04]|"
     "[tss05]",
     {},
     0,
     true,
     "yahoo"},
    {c::rate_limited, "rp-001|rp-002|rp-003", {}, 0, true, "outlook"},

    {c::relay_denied,
     "relay access denied|relaying denied|relay not permitted|relaying not allowed|not permitted to relay|"
     "relay denied|we do not relay|unable to relay|relay not allowed|cannot relay|relaying is prohibited|"
     "relay prohibited|not relay|relaying to|relay is not|relay access|not a gateway|relaying disallowed|"
     "no relaying|relay rejected|relaying not permitted|user not local|allowed rcpthosts"},
    {c::relay_denied, "configured to relay", {}, 0, true, "postfix"},
    {c::relay_denied, "list of allowed hosts", {}, 0, true, "collections"},
    {c::relay_denied, "denies relay|relay check domain", {}, 0, true, "coremail"},
    {c::relay_denied, "insecure mail relay", {}, 0, true, "sendmail"},

    // A refusal that names the sending IP is a block of that IP, even without the word "block".
    {c::blocklisted_ip, "access denied|banned|not accepted|denied|refused|rejected", "IP block", 0, true,
     "generic", "sending ip|this ip|your ip|from ip|ip address|client ip|source ip|black ip"},
    // Unnamed blocklists.
    {c::blocklisted_ip,
     "blacklist|blocklist|block list|black list|blocked using|dnsbl|rbl|listed in|listed on|"
     "listed at|is listed by|ip is in|is on our|bad neighborhood|dynamic ip|dynamically-assigned|dyn:t1|"
     "residential|dialup|dial-up"},
    {c::blocklisted_ip, "block listed", {}, 0, true, "gmx"},
    {c::blocklisted_ip, "open relay", {}, 0, true, "sendmail"},
    {c::blocklisted_ip, "openrelay|black ip", {}, 0, true, "coremail"},
    {c::blocklisted_ip, "is blocked", {}, 0, true, "att"},
    {c::blocklisted_ip, "smtp server of your isp", {}, 0, true, "exim"},

    {c::spam_content,
     "spam|unsolicited|junk|virus|malware|phish|suspicious|content rejected|message content|"
     "bulk mail|bulk email|bulk e-mail|objectionable|malicious|infected|content filter|content policy|"
     "score|banned attachment|attachment|fraud"},
    {c::spam_content, "security issue", {}, 0, true, "gmail"},
    {c::spam_content, "message filtered", {}, 0, true, "amazonses"},
    // Reputation without a named list or a content verdict: the sending IP's standing.
    {c::blocklisted_ip, "reputation", "reputation"},

    {c::other, "mailer error", "local mailer"},
    {c::policy_rejected,
     "policy|not authorized|not allowed|prohibited|access denied|administrative|"
     "not permitted|restricted|forbidden|whitelist|allowlist|unauthorized|will not accept"},
    {c::policy_rejected, "rejected by destination|mail rejected by", {}, 0, true, "zoho"},
    {c::policy_rejected, "cannot send e-mail to yourself", {}, 0, true, "sendmail"},
    {c::policy_rejected, "naruszenie zasad", {}, 0, true, "forpsi"},
    // "Service refused, try later": a 4xx defers, a 5xx refuses.
    {c::service_unavailable, "service refuse", {}, 4, true, "orange|laposte"},
    {c::policy_rejected, "service refuse", {}, 5, true, "orange|laposte"},
    {c::service_unavailable, "connection refused|connection timed out"},
    {c::service_unavailable, "message expired", {}, 0, true, "outlook"},
    {c::policy_rejected, "rejected|blocked|refused|denied|not accepted|not been accepted", {}, 5, false},

    // Weak text: decides only when the enhanced status is unspecific.
    {c::service_unavailable,
     "service unavailable|service not available|temporarily unavailable|try again later|try later|"
     "server busy|too busy|busy|temporary|temporarily|timeout|timed out|closing connection|"
     "closing transmission channel|system problem|local error|resources|insufficient system storage|"
     "shutting down|maintenance|not available|please try again|server error|"
     "internal error|unavailable|congestion|overloaded",
     {},
     0,
     false},
    {c::protocol_error,
     "syntax|bad sequence|out of sequence|not implemented|"
     "protocol violation|pipelining|line too long|bare lf|bare linefeed|bare <lf>|bare newline|"
     "malformed|need mail|need rcpt|rcpt first|"
     "mail first|helo first|ehlo first|smtp protocol|improper|8bitmime|smtputf8|not supported",
     {},
     0,
     false},
};

// RFC 3463 (and updates: 3886, 4954, 5248, 6710, 7293, 7372, 7504, 7505, 8617, 8689).
// Unspecific codes (x.0.0, x.1.0, x.2.0, x.3.0, x.4.0, x.5.0, x.7.0) are deliberately absent, and
// so is 4.7.1: greylisters, rate limiters and temporary blocks all use it (the text decides).
constexpr StatusRule kStatus[] = {
    {1, 1, c::unknown_user},
    {1, 2, c::bad_domain},
    {1, 3, c::unknown_user},
    {1, 4, c::unknown_user},
    {1, 6, c::mailbox_disabled},
    {1, 7, c::policy_rejected},
    {1, 8, c::policy_rejected},
    {1, 10, c::bad_domain},
    // X.2.1 is "mailbox disabled" (RFC 3463), but providers send 4.2.1 for a mailbox that receives
    // too fast (Gmail, Rackspace): a transient one is a rate limit.
    {2, 1, c::mailbox_disabled, 5},
    {2, 1, c::rate_limited, 4},
    {2, 2, c::mailbox_full},
    {2, 3, c::message_too_large},
    {2, 4, c::other},
    {3, 1, c::service_unavailable},
    {3, 2, c::service_unavailable},
    {3, 3, c::protocol_error},
    {3, 4, c::message_too_large},
    {3, 5, c::service_unavailable},
    {4, 1, c::service_unavailable},
    {4, 2, c::service_unavailable},
    {4, 3, c::dns_failure},
    {4, 4, c::bad_domain},
    {4, 5, c::service_unavailable},
    {4, 6, c::other},
    {4, 7, c::service_unavailable},
    {5, 1, c::protocol_error},
    {5, 2, c::protocol_error},
    {5, 3, c::rate_limited},
    {5, 4, c::protocol_error},
    {5, 5, c::protocol_error},
    {5, 6, c::protocol_error},
    {6, 0, c::protocol_error},
    {6, 1, c::protocol_error},
    {6, 2, c::protocol_error},
    {6, 3, c::protocol_error},
    {6, 5, c::protocol_error},
    {6, 6, c::protocol_error},
    {6, 7, c::protocol_error},
    {6, 8, c::protocol_error},
    {6, 9, c::protocol_error},
    {6, 10, c::protocol_error},
    {7, 1, c::policy_rejected, 5},
    {7, 2, c::policy_rejected},
    {7, 3, c::tls_required},
    {7, 4, c::tls_required},
    {7, 5, c::tls_required},
    {7, 6, c::tls_required},
    {7, 7, c::policy_rejected},
    {7, 8, c::auth_required},
    {7, 9, c::auth_required},
    {7, 10, c::tls_required},
    {7, 11, c::tls_required},
    {7, 12, c::auth_required},
    {7, 13, c::mailbox_disabled},
    {7, 14, c::policy_rejected},
    {7, 15, c::policy_rejected},
    {7, 16, c::message_too_large},
    {7, 17, c::mailbox_disabled},
    {7, 18, c::mailbox_disabled},
    {7, 19, c::other},
    {7, 20, c::dkim_fail},
    {7, 21, c::dkim_fail},
    {7, 22, c::dkim_fail},
    {7, 23, c::spf_fail},
    {7, 24, c::spf_fail},
    {7, 25, c::policy_rejected},
    {7, 26, c::dmarc_fail},
    {7, 27, c::policy_rejected},
    {7, 28, c::rate_limited},
    {7, 29, c::policy_rejected},
    {7, 30, c::tls_required},
};

// `decisive` codes beat the enhanced status: RFC 4954 §6 gives 534, 535 and 538 one meaning each,
// whatever x.7.y providers pair them with (Gmail: 535 5.7.1 for bad credentials).
// 553 is "mailbox name not allowed" (RFC 5321 §4.2.2) but is sent as often for relaying and
// senders refused: without words saying so it is no evidence that the recipient does not exist.
constexpr CodeRule kCode[] = {
    {534, c::auth_required, true}, {535, c::auth_required, true}, {538, c::tls_required, true},
    {421, c::service_unavailable}, {450, c::service_unavailable}, {451, c::service_unavailable},
    {452, c::service_unavailable}, {454, c::tls_required},        {455, c::protocol_error},
    {500, c::protocol_error},      {501, c::protocol_error},      {502, c::protocol_error},
    {503, c::protocol_error},      {504, c::protocol_error},      {521, c::bad_domain},
    {523, c::tls_required},        {530, c::auth_required},       {551, c::relay_denied},
    {552, c::mailbox_full},        {553, c::policy_rejected},     {554, c::policy_rejected},
    {555, c::protocol_error},      {556, c::bad_domain},
};

constexpr Advice kAdvice[] = {
    {c::unknown_user,
     "The mailbox does not exist: check the address for typos and remove it from your lists; "
     "retrying will not help."},
    {c::mailbox_full,
     "The recipient's mailbox is over quota: usually temporary; the message is retried, or reach "
     "the recipient another way."},
    {c::mailbox_disabled,
     "The mailbox exists but is disabled, suspended or moved: the account is probably closed; "
     "stop sending to it."},
    {c::greylisted,
     "Greylisting: the receiver defers senders it has not seen before; the retry a few minutes "
     "later from the same IP succeeds. Nothing to fix."},
    {c::rate_limited,
     "The receiver throttles this sending IP or domain (volume, complaints, reputation): slow "
     "down, spread the volume and keep retrying; check the provider's postmaster page."},
    {c::blocklisted_ip,
     "The sending IP is on a blocklist (see detail): look it up on the list's site, fix the "
     "cause (compromised account, open relay, poor list hygiene) and request delisting, or "
     "relay through a clean IP."},
    {c::blocklisted_domain,
     "A domain in the envelope, headers or body is on a domain blocklist: look it up "
     "and request removal; check links and tracking domains in the message."},
    {c::spf_fail,
     "SPF failed: add this server's IP to the sender domain's SPF record (TXT \"v=spf1 ...\") or "
     "send from a domain whose SPF allows it."},
    {c::dkim_fail,
     "DKIM missing or invalid: sign with a key published in DNS and do not modify the message "
     "after signing."},
    {c::dmarc_fail,
     "DMARC failed: SPF or DKIM must pass and align with the From: domain; check the domain's "
     "SPF, DKIM and DMARC records."},
    {c::auth_required,
     "The server requires SMTP AUTH (or refused the credentials): set auth_user and "
     "auth_password_file on the route, or deliver to the recipient's MX instead."},
    {c::tls_required,
     "The receiver requires a working TLS session: check that STARTTLS succeeds (protocol "
     "versions, certificates) and that the route's TLS policy allows it."},
    {c::message_too_large,
     "The message exceeds the receiver's size limit: send it smaller (link large "
     "attachments instead)."},
    {c::spam_content,
     "The content was judged spam or dangerous: review the text, links and attachments, "
     "and the sender's authentication (SPF, DKIM, DMARC) and reputation."},
    {c::policy_rejected,
     "Refused by the receiver's local policy: read the reply text and the provider's "
     "postmaster page; contact the receiving postmaster if it is legitimate mail."},
    {c::relay_denied,
     "The server is not a destination for this domain and will not relay: check the MX "
     "records or the route, or authenticate to the relay."},
    {c::bad_domain,
     "The recipient domain does not exist or accepts no mail (null MX): check the domain part "
     "of the address for typos."},
    {c::dns_failure,
     "DNS lookups failed temporarily (SERVFAIL, timeout): check the resolvers ([dns] servers); "
     "the message is retried."},
    {c::service_unavailable,
     "The receiving server is busy, unreachable or having trouble: usually temporary; "
     "the message is retried."},
    {c::protocol_error,
     "SMTP protocol error (syntax, sequence or an unsupported feature): an incompatibility "
     "between the client and the server; read the transcript."},
    {c::other, "Unrecognised reply: read the text; a 4xx is retried, a 5xx is final."},
};

}  // namespace

const std::span<const TextRule> text_rules{kText};
const std::span<const StatusRule> status_rules{kStatus};
const std::span<const CodeRule> code_rules{kCode};
const std::span<const Advice> advice{kAdvice};

}  // namespace ferry::delivery::table
