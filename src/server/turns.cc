#include "server/turns.h"

namespace rollgate::server {

void Turns::Enter() {
  std::unique_lock lock(mutex_);
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    return;
  }
  Waiter me;
  waiters_.push_back(&me);
  me.ready.wait(lock, [&] { return me.granted; });
}

void Turns::Leave() {
  std::lock_guard lock(mutex_);
  if (waiters_.empty()) {
    ++free_;
    return;
  }
  // The slot passes straight to the oldest waiter: no thread that came later can take it first.
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->granted = true;
  next->ready.notify_one();
}

size_t Turns::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

}  // namespace rollgate::server
