// host/common/promised.h — a callback that fulfils a future, for the
// future-returning forms of callback APIs (the herald, the order runtime).
// Thread safety: the callback may be called from any thread, once.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <utility>

namespace sb {

// A callback that sets a promise's value, and that promise's future.
template <typename T>
std::pair<std::function<void(T)>, std::future<T>> Promised() {
  auto p = std::make_shared<std::promise<T>>();
  std::future<T> f = p->get_future();
  return {[p](T value) { p->set_value(std::move(value)); }, std::move(f)};
}

}  // namespace sb
