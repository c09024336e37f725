// Turns: at most N threads compute at once; the others wait, in the order they came, asleep.
//
// cpp-httplib serves each keep-alive connection on a thread of its own. With 64 connections on a
// 2-core machine, 64 runnable threads share two cores and a request that loses its core waits
// behind dozens of others: the tail latency is the scheduler's. Handing the cores out in turns
// (one per core) keeps the waiting threads off the run queue and serves requests first come,
// first served (docs/benchmarks.md, "The API under load"). Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace rollgate::server {

class Turns {
 public:
  explicit Turns(size_t slots) : free_(slots == 0 ? 1 : slots) {}
  Turns(const Turns&) = delete;
  Turns& operator=(const Turns&) = delete;

  // Holds a turn for its lifetime.
  class Turn {
   public:
    explicit Turn(Turns& turns) : turns_(turns) { turns_.Enter(); }
    ~Turn() { turns_.Leave(); }
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;

   private:
    Turns& turns_;
  };

  // Waits for a free slot, after every thread that came before.
  void Enter();
  // Gives the slot to the longest waiting thread, or frees it.
  void Leave();

  // For tests: the threads waiting now.
  size_t waiting() const;

 private:
  struct Waiter {
    std::condition_variable ready;
    bool granted = false;
  };

  mutable std::mutex mutex_;
  size_t free_;
  std::deque<Waiter*> waiters_;  // oldest first
};

}  // namespace rollgate::server
