// Resolver: see Resolver.hpp. c-ares tells us (ARES_OPT_SOCK_STATE_CB) which sockets it wants
// to read or write; we watch each with a non-owning Asio descriptor and call ares_process_fd
// when it is ready, and run one timer for c-ares' retransmission timeouts.
#include "mta/net/Resolver.hpp"
#include "ferry/text/Ascii.hpp"
#include "mta/net/DnsMessage.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>
#include <optional>

namespace ferry::net {

const char* to_string(DnsStatus status) {
  switch (status) {
    case DnsStatus::Ok:
      return "ok";
    case DnsStatus::NoData:
      return "no data";
    case DnsStatus::NxDomain:
      return "NXDOMAIN";
    case DnsStatus::TempFail:
      return "temporary failure";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

DnsStatus status_of(int ares_status) {
  switch (ares_status) {
    case ARES_SUCCESS:
      return DnsStatus::Ok;
    case ARES_ENODATA:
      return DnsStatus::NoData;
    case ARES_ENOTFOUND:
      return DnsStatus::NxDomain;
    default:
      return DnsStatus::TempFail;
  }
}

// The smallest TTL among the answer records of a DNS response (RFC 1035 §4.1), or nullopt.
std::optional<std::uint32_t> min_answer_ttl(const unsigned char* buf, int len) {
  if (!buf || len < 12) return std::nullopt;
  auto u16 = [&](int at) { return static_cast<unsigned>(buf[at] << 8 | buf[at + 1]); };
  unsigned qd = u16(4), an = u16(6);
  int pos = 12;
  auto skip_name = [&]() -> bool {
    while (pos < len) {
      unsigned char l = buf[pos];
      if ((l & 0xC0) == 0xC0) {
        pos += 2;
        return pos <= len;
      }
      if (l == 0) {
        pos += 1;
        return true;
      }
      pos += 1 + l;
    }
    return false;
  };
  for (unsigned i = 0; i < qd; ++i) {
    if (!skip_name()) return std::nullopt;
    pos += 4;
  }
  std::optional<std::uint32_t> ttl;
  for (unsigned i = 0; i < an; ++i) {
    if (!skip_name() || pos + 10 > len) return ttl;
    std::uint32_t t = static_cast<std::uint32_t>(buf[pos + 4]) << 24 | buf[pos + 5] << 16 |
                      buf[pos + 6] << 8 | buf[pos + 7];
    unsigned rdlen = u16(pos + 8);
    ttl = ttl ? std::min(*ttl, t) : t;
    pos += 10 + static_cast<int>(rdlen);
  }
  return ttl;
}

}  // namespace

struct Resolver::Impl {
  boost::asio::any_io_executor executor;
  ResolverOptions options;
  ares_channel channel = nullptr;
  boost::asio::steady_timer timer;
  struct Watch {
    boost::asio::posix::stream_descriptor desc;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
    bool closed = false;
    explicit Watch(boost::asio::any_io_executor ex, int fd) : desc(ex, fd) {}
  };
  std::map<int, std::shared_ptr<Watch>> watches;
  template <typename T>
  struct CacheEntry {
    Clock::time_point expires;
    T answer;
  };
  std::map<std::string, CacheEntry<MxAnswer>> mx_cache;
  std::map<std::string, CacheEntry<AddressAnswer>> addr_cache;
  // Only records found, for their TTL: MTA-STS asks for `_mta-sts.<domain>` before every delivery
  // to the domain (RFC 8461 §5.1), and a record that appears must be seen at once.
  std::map<std::string, CacheEntry<TxtAnswer>> txt_cache;
  bool stopped = false;
  bool ad_trusted = false;  // AD bits are believed (see ResolverOptions::trust_ad)

  explicit Impl(boost::asio::any_io_executor ex) : executor(ex), timer(ex) {}

  ~Impl() {
    stopped = true;
    if (channel) ares_destroy(channel);  // completes pending queries with ARES_EDESTRUCTION
    for (auto& [fd, w] : watches) release(*w);
  }

  static void release(Watch& w) {
    w.closed = true;
    boost::system::error_code ec;
    w.desc.cancel(ec);
    w.desc.release();  // c-ares owns and closes the socket
  }

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    auto it = self->watches.find(fd);
    if (!readable && !writable) {
      if (it != self->watches.end()) {
        release(*it->second);
        self->watches.erase(it);
      }
      return;
    }
    if (it == self->watches.end())
      it = self->watches.emplace(fd, std::make_shared<Watch>(self->executor, fd)).first;
    it->second->want_read = readable;
    it->second->want_write = writable;
    self->arm(fd, it->second);
  }

  void arm(int fd, const std::shared_ptr<Watch>& w) {
    using boost::asio::posix::stream_descriptor;
    if (w->want_read && !w->reading) {
      w->reading = true;
      w->desc.async_wait(stream_descriptor::wait_read, [this, fd, w](boost::system::error_code ec) {
        w->reading = false;
        if (w->closed || stopped || ec) return;
        ares_process_fd(channel, fd, ARES_SOCKET_BAD);
        if (!w->closed) arm(fd, w);
        reset_timer();
      });
    }
    if (w->want_write && !w->writing) {
      w->writing = true;
      w->desc.async_wait(stream_descriptor::wait_write, [this, fd, w](boost::system::error_code ec) {
        w->writing = false;
        if (w->closed || stopped || ec) return;
        ares_process_fd(channel, ARES_SOCKET_BAD, fd);
        if (!w->closed) arm(fd, w);
        reset_timer();
      });
    }
  }

  // c-ares' own retransmission timer: when it fires, ares_process_fd with no socket lets
  // c-ares time out or resend the queries that are due.
  void reset_timer() {
    if (stopped) return;
    timeval tv{};
    timeval* t = ares_timeout(channel, nullptr, &tv);
    if (!t) {
      timer.cancel();
      return;
    }
    timer.expires_after(std::chrono::seconds(t->tv_sec) + std::chrono::microseconds(t->tv_usec));
    timer.async_wait([this](boost::system::error_code ec) {
      if (ec || stopped) return;
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      reset_timer();
    });
  }

  std::chrono::seconds ttl_for(DnsStatus status, std::optional<std::uint32_t> ttl) const {
    if (status == DnsStatus::TempFail) return std::chrono::seconds(0);  // never cache failures
    if (status != DnsStatus::Ok) return options.negative_ttl;
    return std::min<std::chrono::seconds>(options.max_ttl, std::chrono::seconds(ttl.value_or(60)));
  }
};

namespace {

std::string lower(std::string s) {
  s = text::to_lower(s);
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

namespace {

// A response as ares_send leaves it: c-ares itself turns SERVFAIL, REFUSED and timeouts into
// error statuses (after trying every server); NOERROR and NXDOMAIN arrive as packets.
struct RawAnswer {
  DnsStatus status = DnsStatus::TempFail;
  std::optional<dns::Response> response;
  std::string error;
};

RawAnswer read_raw(int ares_status, const unsigned char* abuf, int alen) {
  RawAnswer out;
  if (ares_status != ARES_SUCCESS) {
    out.status = status_of(ares_status) == DnsStatus::Ok ? DnsStatus::TempFail : status_of(ares_status);
    out.error = ares_strerror(ares_status);
    return out;
  }
  out.response = dns::parse_response(
      std::string_view(reinterpret_cast<const char*>(abuf), static_cast<std::size_t>(std::max(alen, 0))));
  if (!out.response) {
    out.error = "malformed DNS answer";
  } else if (out.response->rcode == dns::kRcodeNxDomain) {
    out.status = DnsStatus::NxDomain;
    out.error = ares_strerror(ARES_ENOTFOUND);  // the words ares_query used to give
  } else if (out.response->rcode != dns::kRcodeNoError) {
    out.error = "DNS error code " + std::to_string(out.response->rcode);
  } else {
    out.status = DnsStatus::Ok;  // the caller finds NoData when no record of its type is there
  }
  return out;
}

// Sends a query built here (with the AD bit, RFC 6840 §5.7) through c-ares; c-ares replaces
// the id with a random one of its own and retries over TCP when the answer is truncated.
bool send_query(ares_channel channel, const std::string& name, std::uint16_t type, ares_callback cb,
                void* arg) {
  auto query = dns::build_query(0, name, type, true);
  if (!query) return false;
  ares_send(channel, reinterpret_cast<const unsigned char*>(query->data()), static_cast<int>(query->size()),
            cb, arg);
  return true;
}

}  // namespace

// One A + AAAA lookup in flight; deletes itself when both answers are in.
struct AddressQuery {
  Resolver::Impl* impl = nullptr;
  std::string host;
  std::function<void(AddressAnswer)> done;
  int outstanding = 2;
  DnsStatus status6 = DnsStatus::NoData, status4 = DnsStatus::NoData;
  bool destroyed = false;
  bool authenticated = true;  // until an answer without AD arrives
  std::vector<std::string> v6, v4;
  std::optional<std::uint32_t> ttl;
  std::string error;

  void add_ttl(std::uint32_t t) { ttl = ttl ? std::min(*ttl, t) : t; }

  static void on_answer(void* arg, int status, unsigned char* abuf, int alen, bool is_v6) {
    auto* q = static_cast<AddressQuery*>(arg);
    if (status == ARES_EDESTRUCTION) q->destroyed = true;
    RawAnswer raw = read_raw(status, abuf, alen);
    const std::uint16_t type = is_v6 ? dns::kTypeAaaa : dns::kTypeA;
    auto& list = is_v6 ? q->v6 : q->v4;
    if (raw.status == DnsStatus::Ok) {
      for (const auto* rr : dns::answers_of(*raw.response, q->host, type)) {
        std::string text = dns::address_text(type, rr->rdata);
        if (text.empty()) continue;
        list.push_back(std::move(text));
        q->add_ttl(rr->ttl);
      }
      if (list.empty()) raw.status = DnsStatus::NoData;
    }
    if (raw.status == DnsStatus::TempFail || raw.status == DnsStatus::NxDomain) q->error = raw.error;
    q->authenticated = q->authenticated && raw.response && raw.response->authenticated;
    (is_v6 ? q->status6 : q->status4) = raw.status;
    if (--q->outstanding == 0) {
      std::unique_ptr<AddressQuery> owner(q);
      q->finish();
    }
  }

  void finish() {
    AddressAnswer a;
    a.addresses = v6;
    a.addresses.insert(a.addresses.end(), v4.begin(), v4.end());
    if (!a.addresses.empty())
      a.status = DnsStatus::Ok;
    else if (status6 == DnsStatus::NxDomain || status4 == DnsStatus::NxDomain)
      a.status = DnsStatus::NxDomain;
    else if (status6 == DnsStatus::TempFail || status4 == DnsStatus::TempFail)
      a.status = DnsStatus::TempFail;
    else
      a.status = DnsStatus::NoData;
    a.error = error;
    a.ttl = ttl;
    a.authenticated = authenticated && impl->ad_trusted && a.status != DnsStatus::TempFail;
    if (!impl->stopped && !destroyed) {
      auto t = impl->ttl_for(a.status, ttl);
      if (t.count() > 0) impl->addr_cache[host] = {Clock::now() + t, a};
    }
    done(std::move(a));
  }
};

// Every configured server (from [dns] servers or /etc/resolv.conf, as c-ares read them) is on
// loopback: the AD bit then comes from a validator on this host, over a path nobody can forge.
static bool all_servers_loopback(ares_channel channel) {
  ares_addr_port_node* servers = nullptr;
  if (ares_get_servers_ports(channel, &servers) != ARES_SUCCESS) return false;
  bool any = false, all = true;
  for (auto* s = servers; s; s = s->next) {
    any = true;
    if (s->family == AF_INET)
      all = all && (ntohl(s->addr.addr4.s_addr) >> 24) == 127;
    else if (s->family == AF_INET6)
      all = all && IN6_IS_ADDR_LOOPBACK(reinterpret_cast<const in6_addr*>(&s->addr.addr6));
    else
      all = false;
  }
  ares_free_data(servers);
  return any && all;
}

Result<std::shared_ptr<Resolver>> Resolver::create(boost::asio::any_io_executor executor,
                                                   const ResolverOptions& options) {
  static std::once_flag init;
  std::call_once(init, [] { ares_library_init(ARES_LIB_INIT_ALL); });
  auto impl = std::make_unique<Impl>(executor);
  impl->options = options;
  ares_options opts{};
  opts.sock_state_cb = &Impl::on_sock_state;
  opts.sock_state_cb_data = impl.get();
  opts.timeout = static_cast<int>(options.timeout.count());
  opts.tries = options.tries;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  int rc = ares_init_options(&impl->channel, &opts, mask);
  if (rc != ARES_SUCCESS) return make_error(ErrorKind::Io, std::string("c-ares init: ") + ares_strerror(rc));
  if (!options.servers.empty()) {
    std::string csv;
    for (const auto& s : options.servers) csv += (csv.empty() ? "" : ",") + s;
    rc = ares_set_servers_ports_csv(impl->channel, csv.c_str());
    if (rc != ARES_SUCCESS)
      return make_error(ErrorKind::Invalid, "[dns] servers '" + csv + "': " + ares_strerror(rc));
  }
  impl->ad_trusted = options.trust_ad || all_servers_loopback(impl->channel);
  return std::shared_ptr<Resolver>(new Resolver(std::move(impl)));
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resolver::~Resolver() = default;

void Resolver::shutdown() {
  if (impl_->stopped) return;
  ares_cancel(impl_->channel);
  impl_->timer.cancel();
}

namespace {

// The MX RRset (RFC 1035 §3.3.9) of a raw answer, following CNAMEs; "" for a null MX (RFC 7505).
MxAnswer mx_answer(const std::string& domain, int status, const unsigned char* abuf, int alen, bool trusted) {
  RawAnswer raw = read_raw(status, abuf, alen);
  MxAnswer answer;
  answer.status = raw.status;
  answer.error = raw.error;
  if (raw.status != DnsStatus::Ok) return answer;
  for (const auto* rr : dns::answers_of(*raw.response, domain, dns::kTypeMx)) {
    answer.records.push_back({rr->preference, lower(rr->target)});
    answer.ttl = answer.ttl ? std::min(*answer.ttl, rr->ttl) : rr->ttl;
  }
  answer.authenticated = trusted && raw.response->authenticated;
  if (answer.records.empty()) {
    answer.status = DnsStatus::NoData;
    answer.error = ares_strerror(ARES_ENODATA);
  }
  return answer;
}

}  // namespace

void Resolver::lookup_mx(const std::string& domain_in, std::function<void(MxAnswer)> done) {
  const std::string domain = lower(domain_in);
  auto it = impl_->mx_cache.find(domain);
  if (it != impl_->mx_cache.end()) {
    if (it->second.expires > Clock::now()) {
      done(it->second.answer);
      return;
    }
    impl_->mx_cache.erase(it);
  }
  struct Ctx {
    Impl* impl = nullptr;
    std::string domain;
    std::function<void(MxAnswer)> done;
  };
  auto* ctx = new Ctx;
  ctx->impl = impl_.get();
  ctx->domain = domain;
  ctx->done = std::move(done);
  const bool sent = send_query(
      impl_->channel, domain, dns::kTypeMx,
      [](void* arg, int status, int, unsigned char* abuf, int alen) {
        std::unique_ptr<Ctx> c(static_cast<Ctx*>(arg));
        MxAnswer answer = mx_answer(c->domain, status, abuf, alen, c->impl->ad_trusted);
        if (!c->impl->stopped && status != ARES_EDESTRUCTION) {
          auto ttl = c->impl->ttl_for(answer.status, answer.ttl);
          if (ttl.count() > 0) c->impl->mx_cache[c->domain] = {Clock::now() + ttl, answer};
        }
        c->done(std::move(answer));
      },
      ctx);
  if (!sent) {
    std::unique_ptr<Ctx> c(ctx);
    MxAnswer bad;
    bad.status = DnsStatus::NxDomain;
    bad.error = "not a valid DNS name";
    c->done(std::move(bad));
    return;
  }
  impl_->reset_timer();
}

void Resolver::lookup_addresses(const std::string& host_in, std::function<void(AddressAnswer)> done) {
  const std::string host = lower(host_in);
  auto it = impl_->addr_cache.find(host);
  if (it != impl_->addr_cache.end()) {
    if (it->second.expires > Clock::now()) {
      done(it->second.answer);
      return;
    }
    impl_->addr_cache.erase(it);
  }
  if (!dns::build_query(0, host, dns::kTypeA, true)) {  // not a DNS name: no query can ask for it
    AddressAnswer bad;
    bad.status = DnsStatus::NxDomain;
    bad.error = "not a valid DNS name";
    done(std::move(bad));
    return;
  }
  // Two queries (AAAA and A); the answer is assembled when both are back. Sent raw (not
  // ares_query) so the AD bit goes out and comes back readable (DNSSEC, for DANE).
  auto* ctx = new AddressQuery;
  ctx->impl = impl_.get();
  ctx->host = host;
  ctx->done = std::move(done);
  send_query(
      impl_->channel, host, dns::kTypeAaaa,
      [](void* arg, int s, int, unsigned char* b, int l) { AddressQuery::on_answer(arg, s, b, l, true); },
      ctx);
  send_query(
      impl_->channel, host, dns::kTypeA,
      [](void* arg, int s, int, unsigned char* b, int l) { AddressQuery::on_answer(arg, s, b, l, false); },
      ctx);
  impl_->reset_timer();
}

void Resolver::lookup_txt(const std::string& name_in, std::function<void(TxtAnswer)> done) {
  const std::string name = lower(name_in);
  if (auto it = impl_->txt_cache.find(name); it != impl_->txt_cache.end()) {
    if (it->second.expires > Clock::now()) {
      done(it->second.answer);
      return;
    }
    impl_->txt_cache.erase(it);
  }
  struct Ctx {
    Impl* impl = nullptr;
    std::string name;
    std::function<void(TxtAnswer)> done;
  };
  auto* ctx = new Ctx{impl_.get(), name, std::move(done)};
  ares_query(
      impl_->channel, name.c_str(), ns_c_in, ns_t_txt,
      [](void* arg, int status, int, unsigned char* abuf, int alen) {
        std::unique_ptr<Ctx> c(static_cast<Ctx*>(arg));
        TxtAnswer answer;
        answer.status = status_of(status);
        if (status != ARES_SUCCESS) {
          answer.error = ares_strerror(status);
          c->done(std::move(answer));
          return;
        }
        ares_txt_ext* txt = nullptr;
        const int prc = ares_parse_txt_reply_ext(abuf, alen, &txt);
        if (prc == ARES_SUCCESS) {
          // record_start marks the first character-string of each record; the rest continue it.
          for (auto* r = txt; r; r = r->next) {
            std::string piece(reinterpret_cast<const char*>(r->txt), r->length);
            if (r->record_start || answer.records.empty())
              answer.records.push_back(std::move(piece));
            else
              answer.records.back() += piece;
          }
          ares_free_data(txt);
        } else if (prc != ARES_ENODATA) {
          answer.status = DnsStatus::TempFail;
          answer.error = std::string("malformed TXT answer: ") + ares_strerror(prc);
        }
        if (answer.status == DnsStatus::Ok && answer.records.empty()) answer.status = DnsStatus::NoData;
        if (answer.status == DnsStatus::Ok) {
          answer.ttl = min_answer_ttl(abuf, alen);
          const auto ttl = c->impl->ttl_for(answer.status, answer.ttl);
          if (!c->impl->stopped && ttl.count() > 0)
            c->impl->txt_cache[c->name] = {Clock::now() + ttl, answer};
        }
        c->done(std::move(answer));
      },
      ctx);
  impl_->reset_timer();
}

bool Resolver::ad_trusted() const { return impl_->ad_trusted; }

namespace {

TlsaAnswer tlsa_answer(const std::string& name, int status, const unsigned char* abuf, int alen,
                       bool trusted) {
  RawAnswer raw = read_raw(status, abuf, alen);
  TlsaAnswer answer;
  answer.status = raw.status;
  answer.error = raw.error;
  if (raw.status != DnsStatus::Ok) return answer;
  for (const auto* rr : dns::answers_of(*raw.response, name, dns::kTypeTlsa, &answer.owner)) {
    auto t = dns::parse_tlsa(rr->rdata);
    if (!t) continue;
    answer.records.push_back(std::move(*t));
    answer.ttl = answer.ttl ? std::min(*answer.ttl, rr->ttl) : rr->ttl;
  }
  if (answer.records.empty()) answer.status = DnsStatus::NoData;
  answer.authenticated = trusted && raw.response->authenticated;
  return answer;
}

}  // namespace

void Resolver::lookup_tlsa(const std::string& name_in, std::function<void(TlsaAnswer)> done) {
  struct Ctx {
    std::string name;
    bool trusted = false;
    std::function<void(TlsaAnswer)> done;
  };
  auto* ctx = new Ctx{lower(name_in), impl_->ad_trusted, std::move(done)};
  const bool sent = send_query(
      impl_->channel, ctx->name, dns::kTypeTlsa,
      [](void* arg, int status, int, unsigned char* abuf, int alen) {
        std::unique_ptr<Ctx> c(static_cast<Ctx*>(arg));
        c->done(tlsa_answer(c->name, status, abuf, alen, c->trusted));
      },
      ctx);
  if (!sent) {
    std::unique_ptr<Ctx> c(ctx);
    TlsaAnswer bad;
    bad.status = DnsStatus::NxDomain;
    bad.error = "not a valid DNS name";
    c->done(std::move(bad));
    return;
  }
  impl_->reset_timer();
}

}  // namespace ferry::net
