// Result<T, E>: a value or an error (Error unless a module names its own), for module boundaries.
// Contract: errors are values; a Result is checked before its value or error is read (asserted).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace ferry {

// Error kinds shared across modules. Callers branch on the kind; the message is for humans.
enum class ErrorKind {
  Io,           // an operation failed for a reason we did not classify (transient)
  MapFull,      // the LMDB map is full (server answers 452 4.3.1)
  DiskFull,     // the filesystem is full (server answers 452 4.3.1)
  NotFound,     // no such queue id / key
  Corrupt,      // a stored record failed to decode (it is quarantined, never deleted)
  Invalid,      // the caller passed something impossible
  Exists,       // the key already exists
  Busy,         // another holder has it (e.g. a lock)
  Closed,       // the component is shutting down
  Security,     // a required security step failed (e.g. DKIM signing): 451 4.7.0, never sent unsigned
  Unavailable,  // a shared service (Redis) is down, full or too slow: the caller uses local state
};

const char* to_string(ErrorKind kind) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::Io;
  std::string message;

  // True for errors that mean "no space": the SMTP server maps these to 452 4.3.1.
  bool is_space() const noexcept { return kind == ErrorKind::MapFull || kind == ErrorKind::DiskFull; }
};

inline const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Io:
      return "io";
    case ErrorKind::MapFull:
      return "map-full";
    case ErrorKind::DiskFull:
      return "disk-full";
    case ErrorKind::NotFound:
      return "not-found";
    case ErrorKind::Corrupt:
      return "corrupt";
    case ErrorKind::Invalid:
      return "invalid";
    case ErrorKind::Exists:
      return "exists";
    case ErrorKind::Busy:
      return "busy";
    case ErrorKind::Closed:
      return "closed";
    case ErrorKind::Security:
      return "security";
    case ErrorKind::Unavailable:
      return "unavailable";
  }
  return "unknown";
}

// The one error shape of the code base. E is Error for the queue, I/O and start-up paths; a module
// whose callers branch on richer detail names its own (config::ConfigError with file:line:col,
// delivery::NetworkError classified into an Attempt). T and E must be distinct types.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  E&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, E> v_;
};

// Success carries nothing; E must be default-constructible (the unused slot on success).
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const E& error() const& {
    assert(!ok_);
    return error_;
  }
  E&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  E error_{};
  bool ok_ = true;
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

}  // namespace ferry
