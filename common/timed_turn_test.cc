#include "common/timed_turn.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace cdh {
namespace {

TEST(TimedTurnTest, ExclusiveAndReleasedByTheScope) {
  TimedTurn turn;
  {
    TimedTurnLock first(&turn, absl::InfiniteFuture());
    ASSERT_TRUE(first.acquired());
    EXPECT_FALSE(turn.TryAcquireUntil(absl::Now()));  // held: a passed deadline fails at once
  }
  TimedTurnLock again(&turn, absl::Now());
  EXPECT_TRUE(again.acquired());
}

TEST(TimedTurnTest, WaiterGivesUpAtItsDeadlineAndAnotherGetsTheTurnOnRelease) {
  TimedTurn turn;
  ASSERT_TRUE(turn.TryAcquireUntil(absl::InfiniteFuture()));
  absl::Time start = absl::Now();
  EXPECT_FALSE(turn.TryAcquireUntil(start + absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));

  absl::Notification taken;
  std::thread waiter([&] {
    TimedTurnLock lock(&turn, absl::InfiniteFuture());
    if (lock.acquired()) taken.Notify();
  });
  EXPECT_FALSE(taken.WaitForNotificationWithTimeout(absl::Milliseconds(20)));  // still ours
  turn.Release();
  taken.WaitForNotification();
  waiter.join();
}

}  // namespace
}  // namespace cdh
