#include "server/turns.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace rollgate::server {
namespace {

// Waits (up to 5 s) until `turns` has `n` threads waiting.
void AwaitWaiting(const Turns& turns, size_t n) {
  for (int i = 0; i < 5000 && turns.waiting() != n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(turns.waiting(), n);
}

TEST(TurnsTest, AtMostTheSlotsComputeAtOnce) {
  Turns turns(2);
  std::atomic<int> inside{0}, most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 200; ++j) {
        Turns::Turn turn(turns);
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --inside;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(turns.waiting(), 0u);
}

TEST(TurnsTest, WaitersAreServedInTheOrderTheyCame) {
  Turns turns(1);
  std::vector<int> order;
  std::mutex order_mutex;
  auto first = std::make_unique<Turns::Turn>(turns);  // the only slot is taken
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] {
      Turns::Turn turn(turns);
      std::lock_guard lock(order_mutex);
      order.push_back(i);
    });
    AwaitWaiting(turns, static_cast<size_t>(i) + 1);  // thread i waits before i+1 starts
  }
  first.reset();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(TurnsTest, ALeavingHolderHandsItsSlotOverBeforeALateComerTakesIt) {
  Turns turns(1);
  auto holder = std::make_unique<Turns::Turn>(turns);
  std::atomic<bool> waited{false};
  std::thread waiter([&] {
    Turns::Turn turn(turns);
    waited = true;
  });
  AwaitWaiting(turns, 1);
  holder.reset();
  // The slot went to the waiter; a new Enter now waits for it rather than jumping the queue.
  waiter.join();
  EXPECT_TRUE(waited);
  Turns::Turn again(turns);
  EXPECT_EQ(turns.waiting(), 0u);
}

}  // namespace
}  // namespace rollgate::server
