// RedisCall: a coroutine's way to send commands over the RedisLink and await the replies.
// Contract: the awaiting coroutine resumes on its own executor with the replies, or with
// ErrorKind::Unavailable no later than the link's timeout (a timer on the caller's executor
// races the link; the first to finish wins), so a mail path never waits on Redis for longer.
// It lives with the wiring because it needs Asio; mta/cluster itself is a thread and a queue.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <utility>
#include <vector>

#include "mta/cluster/RedisLink.hpp"
#include "mta/net/Completion.hpp"

namespace ferry::daemon {

using cluster::Argv;
using cluster::LinkClock;
using cluster::RedisLink;
using cluster::Replies;

// A plain function returning the awaitable (GCC 12: no lambdas with init-captures inside
// co_await expressions). `timeout` defaults to the link's ([cluster] timeout).
inline auto redis_call(RedisLink& link, boost::asio::any_io_executor executor, std::vector<Argv> commands,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
  if (timeout.count() <= 0) timeout = link.timeout();
  return net::completion_on<Replies>(
      executor, [&link, executor, timeout, commands = std::move(commands)](auto done) mutable {
        struct Race {
          std::atomic<bool> fired{false};
          decltype(done) finish;
          boost::asio::steady_timer timer;
          Race(decltype(done) d, boost::asio::any_io_executor ex) : finish(std::move(d)), timer(ex) {}
          void settle(Replies r) {
            if (!fired.exchange(true)) finish(std::move(r));
          }
        };
        auto race = std::make_shared<Race>(std::move(done), executor);
        race->timer.expires_after(timeout);
        race->timer.async_wait([race](const boost::system::error_code& ec) {
          if (!ec)
            race->settle(make_error(ErrorKind::Unavailable, "no answer from Redis within the timeout"));
        });
        link.submit(std::move(commands), LinkClock::now() + timeout, [race, executor](Replies r) {
          race->settle(std::move(r));
          // The timer belongs to the caller's executor: cancelled there, never from the link thread.
          boost::asio::post(executor, [race] { race->timer.cancel(); });
        });
      });
}

}  // namespace ferry::daemon
