import re,sys
# hand labels (postmaster reading) for MTA default replies; None = skipped (client never sees it / test-only)
PF = {
"421 4.3.0 Mail system error":"service_unavailable","421 4.3.2 All screening ports are busy":"service_unavailable",
"421 4.3.2 All server ports are busy":"service_unavailable","421 4.3.2 No system resources":"service_unavailable",
"421 4.3.2 Service currently unavailable":"service_unavailable","421 4.3.5 Server configuration error":"service_unavailable",
"421 4.7.0 Error: too many connections":"rate_limited","421 4.7.0 Server closing connection":"service_unavailable",
"421 4.7.0 Service unavailable":"service_unavailable","450 4.3.2 Service currently unavailable":"service_unavailable",
"450 4.7.1 Service unavailable":"service_unavailable","451 4.3.0 Temporary lookup error":"service_unavailable",
"452 4.5.3 Error: too many recipients":"rate_limited","454 4.3.0 Try again later":"service_unavailable",
"458 Unable to queue messages":"service_unavailable","500 5.5.2 Error: bad UTF-8 syntax":"protocol_error",
"500 5.5.2 Error: bad syntax":"protocol_error","500 5.5.2 Error: command not recognized":"protocol_error",
"501 5.1.3 Bad recipient address syntax":"unknown_user","501 5.1.7 Bad sender address syntax":"policy_rejected",
"501 5.5.4 Bad ENVID parameter syntax":"protocol_error","501 5.5.4 Bad RET parameter syntax":"protocol_error",
"501 5.5.4 Bad message size syntax":"protocol_error","501 5.5.4 Error: Bad NOTIFY parameter syntax":"protocol_error",
"501 5.5.4 Error: Bad ORCPT parameter syntax":"protocol_error","501 5.7.0 Authentication aborted":"auth_required",
"501 Error: invalid parameter syntax":"protocol_error","502 5.5.1 Error: command not implemented":"protocol_error",
"503 5.5.1 Error: MAIL transaction in progress":"protocol_error","503 5.5.1 Error: authentication not enabled":"auth_required",
"503 5.5.1 Error: need MAIL command":"protocol_error","503 5.5.1 Error: need RCPT command":"protocol_error",
"503 5.5.1 Error: nested MAIL command":"protocol_error","503 5.5.1 Error: send HELO/EHLO first":"protocol_error",
"504 5.5.4 Encryption required for requested authentication mechanism":"tls_required",
"521 5.3.2 Service currently unavailable":"service_unavailable","521 5.5.1 Protocol error":"protocol_error",
"530 5.7.0 Must issue a STARTTLS command first":"tls_required","550 5.5.1 Protocol error":"protocol_error",
"550 5.7.0 Error: insufficient authorization":"auth_required","552 5.3.4 Message size exceeds file system imposed limit":"message_too_large",
"552 5.3.4 Chunk exceeds message size limit":"message_too_large",
"553 5.6.7 Must declare SMTPUTF8 to send unicode address":"protocol_error","554 5.5.0 Error: SMTP protocol synchronization":"protocol_error",
"554 5.5.1 Error: no valid recipients":"unknown_user",
}
REF = {
"444 4.3.2 <user@example.com>: Helo command rejected: Try again later":"policy_rejected",
"450 4.1.2 <user@example.com>: Recipient address rejected: Domain not found":"bad_domain",
"450 4.1.8 <user@example.com>: Sender address rejected: Domain not found":"policy_rejected",
"450 4.7.1 <user@example.com>: Helo command rejected: Host not found":"policy_rejected",
"450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]":"policy_rejected",
"451 4.3.0 <user@example.com>: Temporary lookup failure":"service_unavailable",
"451 4.3.5 <user@example.com>: Recipient address rejected: Server configuration error":"service_unavailable",
"451 4.3.5 <user@example.com>: Sender address rejected: Server configuration error":"service_unavailable",
"501 5.5.2 <user@example.com>: Helo command rejected: invalid ip address":"policy_rejected",
"504 5.5.2 <user@example.com>: Helo command rejected: need fully-qualified hostname":"policy_rejected",
"504 5.5.2 <user@example.com>: Recipient address rejected: need fully-qualified address":"unknown_user",
"504 5.5.2 <user@example.com>: Sender address rejected: need fully-qualified address":"policy_rejected",
"550 5.1.0 <user@example.com>: Sender address rejected: User unknown in local recipient table":"policy_rejected",
"550 5.1.1 <user@example.com>: Recipient address rejected: User unknown in local recipient table":"unknown_user",
"550 5.7.27 <user@example.com>: Sender address rejected: Domain nullmx.example.com does not accept mail (nullMX)":"policy_rejected",
"554 5.7.1 <user@example.com>: Client host rejected: Access denied":"policy_rejected",
"554 5.7.1 <user@example.com>: Helo command rejected: Access denied":"policy_rejected",
"554 5.7.1 <user@example.com>: Recipient address rejected: Access denied":"policy_rejected",
"554 5.7.1 <user@example.com>: Recipient address rejected: Relay access denied":"relay_denied",
"554 5.7.1 <user@example.com>: Sender address rejected: Access denied":"policy_rejected",
"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using dnsbltest.example.com":"blocklisted_ip",
"556 5.1.10 <user@example.com>: Recipient address rejected: Domain nullmx.example.com does not accept mail (nullMX)":"bad_domain",
}
EX = {
"421 Too many concurrent SMTP connections":"rate_limited","421 Too much load; please try again later.":"service_unavailable",
"421 too many messages in this connection":"rate_limited","421 SMTP command timeout":"service_unavailable",
"421 Local configuration error":"service_unavailable","435 Unable to authenticate at present":"auth_required",
"450 Onward transmission not accepted":"service_unavailable","451 Error in writing spool file":"service_unavailable",
"451 Error while writing spool file":"service_unavailable","451 SMTP service not available":"service_unavailable",
"452 Space shortage, please try later":"service_unavailable","452 too many recipients":"rate_limited",
"454 TLS currently unavailable":"tls_required","500 Command unrecognized":"protocol_error",
"501 Authentication cancelled":"auth_required","501 Invalid base64 data":"protocol_error",
"501 MAIL FROM must have an address operand":"protocol_error","501 RCPT TO must have an address operand":"protocol_error",
"501 recipient address must contain a domain":"unknown_user","503 MAIL FROM:<sender> command must precede DATA":"protocol_error",
"503 No sender yet given":"protocol_error","503 RCPT TO:<recipient> must precede DATA":"protocol_error",
"503 Sender already given":"protocol_error","533 no support for internationalised mailbox name":"protocol_error",
"535 Incorrect authentication data":"auth_required","550 mailbox unavailable":"unknown_user",
"552 A message header line is too long":"protocol_error","552 Message header is ridiculously long":"message_too_large",
"552 Message header not CRLF terminated":"protocol_error","552 Message size exceeds maximum permitted":"message_too_large",
"552 too many recipients":"rate_limited","554 SMTP service not available":"service_unavailable",
"554 SMTP synchronization error":"protocol_error","554 Security failure":"tls_required","554 Too many recipients":"rate_limited",
}
def emit(d, src, prov):
    for line, cat in d.items():
        m = re.match(r"(\d{3}) (?:([245]\.\d+\.\d+) )?(.*)", line)
        print("\t".join([cat, m.group(1), m.group(2) or "-", m.group(3), src, prov]))
emit(PF, "Postfix source, postfix/src/smtpd and postscreen reply literals (github:vdukhovni/postfix)", "postfix")
emit(REF, "Postfix smtpd_check regression output, postfix/src/smtpd/*.ref (github:vdukhovni/postfix; addresses anonymised)", "postfix")
emit(EX, "Exim source, src/src/smtp_in.c/receive.c/acl.c reply literals (github:Exim/exim)", "exim")
