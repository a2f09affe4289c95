// QueueTestSupport: temp directories, sample messages and a full store dump for queue tests.
// Contract: test-only; every TempDir is removed when it goes out of scope.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "queue/QueueStore.hpp"

namespace ferry::queue::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ferry-queue-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string queue() const { return path_ + "/queue"; }

 private:
  std::string path_;
};

inline std::unique_ptr<QueueStore> open_store(const std::string& path, std::size_t map_size = 64ull << 20) {
  QueueOptions o;
  o.path = path;
  o.map_size = map_size;
  auto s = QueueStore::open(o);
  if (!s) ADD_FAILURE() << "open: " << s.error().message;
  return s ? std::move(*s) : nullptr;
}

inline Envelope sample_envelope(std::size_t recipients = 2) {
  Envelope e;
  e.reverse_path = "sender@example.org";
  for (std::size_t i = 0; i < recipients; ++i)
    e.recipients.push_back({"rcpt" + std::to_string(i) + "@example.net",
                            "rfc822;orig" + std::to_string(i) + "@x",
                            static_cast<std::uint8_t>(kNotifyFailure | kNotifyDelay)});
  e.ret = DsnRet::Hdrs;
  e.envid = "env-123";
  e.body_type = BodyType::EightBitMime;
  e.smtputf8 = true;
  e.client = {"192.0.2.7", "mx.example.org", "alice", "ESMTPSA"};
  e.arrival_ms = 1'700'000'000'000;
  e.size = 42;
  return e;
}

inline NewMessage sample_message(QueueId id, std::string body = "Subject: hi\r\n\r\nbody\r\n",
                                 std::size_t rcpts = 2, TimeMs due = 1000) {
  NewMessage m;
  m.id = id;
  m.envelope = sample_envelope(rcpts);
  m.envelope.size = body.size();
  m.body = std::move(body);
  m.first_due_ms = due;
  return m;
}

inline Attempt sample_attempt(AttemptOutcome o, TimeMs t) {
  return Attempt{t,
                 o,
                 "mx1.example.net",
                 "198.51.100.1",
                 25,
                 o == AttemptOutcome::Delivered ? 250 : 451,
                 "4.7.1",
                 "try again later",
                 "TLSv1.3/TLS_AES_256_GCM_SHA384"};
}

inline std::string describe(const Attempt& a) {
  std::ostringstream o;
  o << a.time_ms << "/" << int(a.outcome) << "/" << a.host << "/" << a.ip << "/" << a.port << "/" << a.code
    << "/" << a.status << "/" << a.reply << "/" << a.tls << "/" << a.status_derived;
  return o.str();
}

// Everything observable through the API, as text: two equal dumps mean an unchanged store.
inline std::string dump(const QueueStore& s) {
  std::ostringstream o;
  auto r = s.for_each([&](const MessageRecord& m) {
    o << "msg " << m.id.str() << " from=" << m.envelope.reverse_path << " n=" << m.envelope.recipients.size()
      << " warned=" << m.delay_warning_sent_ms << "\n";
    for (const auto& r : m.recipients) {
      o << "  rcpt " << r.index << " " << to_string(r.state) << " leased=" << r.leased
        << " attempts=" << r.attempts << " next=" << r.next_attempt_ms << " first=" << r.first_attempt_ms
        << " last=" << (r.last ? describe(*r.last) : "-") << " hist=" << r.history.size() << "\n";
    }
    auto body = s.read_body(m.id);
    o << "  body " << (body ? std::to_string(std::hash<std::string>{}(*body)) : "ERR") << "\n";
    return true;
  });
  if (!r) o << "for_each error: " << r.error().message << "\n";
  auto due = s.due_index();
  if (due) {
    for (const auto& d : *due) o << "due " << d.due_ms << " " << d.id.str() << "#" << d.index << "\n";
  } else {
    o << "due error\n";
  }
  return o.str();
}

}  // namespace ferry::queue::test
