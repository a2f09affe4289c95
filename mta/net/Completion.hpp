// Completion: how a driver's coroutine awaits work that finishes elsewhere — the queue's writer
// thread (a commit), the resolver (a DNS answer, sometimes from its cache at once), a worker pool
// (DKIM signing, crypt(3)).
// Contract: the result is always posted to the awaiting coroutine's executor, so the coroutine
// resumes on its own I/O thread and never inside the caller's stack. These are plain functions
// returning the awaitable, not coroutines: GCC 12 mishandles by-value coroutine parameters moved
// into lambda captures (a double free), so arguments travel through async_initiate instead.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <string>
#include <utility>

#include "mta/net/Resolver.hpp"

namespace ferry::net {

// Awaits `start(done)`, where `start` hands `done` (callable once with a T, from any thread) to a
// callback-style operation.
template <typename T, typename Start>
auto completion_on(boost::asio::any_io_executor executor, Start start) {
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(T)>(
      [](auto handler, boost::asio::any_io_executor ex, Start begin) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        begin([ex, h](T value) {
          boost::asio::post(ex, [h, value = std::move(value)]() mutable { (*h)(std::move(value)); });
        });
      },
      boost::asio::use_awaitable, std::move(executor), std::move(start));
}

// Awaits `work()` run on `pool` (a thread pool's executor), resumed on `executor`.
template <typename T, typename Work>
auto run_on(boost::asio::any_io_executor pool, boost::asio::any_io_executor executor, Work work) {
  return completion_on<T>(
      std::move(executor), [pool = std::move(pool), work = std::move(work)](auto done) mutable {
        boost::asio::post(pool, [work = std::move(work), done = std::move(done)]() mutable { done(work()); });
      });
}

inline auto resolve_mx(Resolver& resolver, boost::asio::any_io_executor executor, std::string name) {
  return completion_on<MxAnswer>(std::move(executor), [&resolver, name = std::move(name)](auto done) {
    resolver.lookup_mx(name, std::move(done));
  });
}

inline auto resolve_addresses(Resolver& resolver, boost::asio::any_io_executor executor, std::string name) {
  return completion_on<AddressAnswer>(std::move(executor), [&resolver, name = std::move(name)](auto done) {
    resolver.lookup_addresses(name, std::move(done));
  });
}

inline auto resolve_txt(Resolver& resolver, boost::asio::any_io_executor executor, std::string name) {
  return completion_on<TxtAnswer>(std::move(executor), [&resolver, name = std::move(name)](auto done) {
    resolver.lookup_txt(name, std::move(done));
  });
}

inline auto resolve_tlsa(Resolver& resolver, boost::asio::any_io_executor executor, std::string name) {
  return completion_on<TlsaAnswer>(std::move(executor), [&resolver, name = std::move(name)](auto done) {
    resolver.lookup_tlsa(name, std::move(done));
  });
}

}  // namespace ferry::net
