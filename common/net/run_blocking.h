#pragma once
// RunBlocking: runs a blocking call (disk I/O, checksumming megabytes) on a
// thread pool and resumes the awaiting coroutine on its own executor, so I/O
// threads never block. Exceptions thrown by `f` propagate to the awaiter.

#include <optional>
#include <type_traits>
#include <utility>

#include "common/net/asio_types.h"

namespace granary::net {

// `f` is called exactly once on `pool`. It may capture the caller's locals by
// reference: the caller stays suspended until `f` has returned.
template <class F>
Awaitable<std::invoke_result_t<F&>> RunBlocking(Executor pool, F f) {
  using R = std::invoke_result_t<F&>;
  // Asio 1.22's co_spawn needs a default-constructible result; R (a Result<T>)
  // need not be, so the value travels through an optional in this frame.
  std::optional<R> out;
  co_await asio::co_spawn(
      pool,
      [&]() -> Awaitable<void> {
        out.emplace(f());
        co_return;
      },
      asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace granary::net
