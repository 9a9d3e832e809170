#pragma once
// The Asio spellings Granary uses everywhere: awaitables whose I/O errors come
// back as values (as_tuple), executors and clocks.

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <chrono>

namespace granary::net {

using Executor = asio::any_io_executor;
template <class T>
using Awaitable = asio::awaitable<T>;

// Completion token for I/O whose error should be a value, not an exception.
inline constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

}  // namespace granary::net
