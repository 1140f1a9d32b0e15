#include "common/cancellation.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/call_context.h"
#include "gtest/gtest.h"

namespace cdh {
namespace {

TEST(CancellationTest, CancelFiresOnceAndRunsCallbacks) {
  Cancellation c;
  int runs = 0;
  {
    CancelCallback cb(&c, [&] { ++runs; });
    EXPECT_FALSE(c.cancelled());
    c.Cancel();
    c.Cancel();
    EXPECT_TRUE(c.cancelled());
  }
  EXPECT_EQ(runs, 1);
}

TEST(CancellationTest, CallbackRegisteredAfterCancelRunsAtOnce) {
  Cancellation c;
  c.Cancel();
  bool ran = false;
  CancelCallback cb(&c, [&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(CancellationTest, UnregisteredCallbackDoesNotRun) {
  Cancellation c;
  bool ran = false;
  {
    CancelCallback cb(&c, [&] { ran = true; });
  }
  c.Cancel();
  EXPECT_FALSE(ran);
}

TEST(CancellationTest, NullCancellationRegistersNothing) {
  CancelCallback cb(nullptr, [] { FAIL() << "must not run"; });
  EXPECT_FALSE(CallContext{}.Cancelled());
}

TEST(CancellationTest, WaitUntilReturnsWhenCancelledFromAnotherThread) {
  auto c = std::make_shared<Cancellation>();
  absl::Notification waiting;
  std::thread canceller([&] {
    waiting.WaitForNotification();
    c->Cancel();
  });
  waiting.Notify();
  EXPECT_TRUE(c->WaitUntil(absl::InfiniteFuture()));
  canceller.join();
  CallContext ctx{absl::InfiniteFuture(), c};
  EXPECT_TRUE(ctx.Cancelled());
  EXPECT_TRUE(ctx.WithDeadline(absl::Now()).Cancelled());
}

TEST(CancellationTest, WaitUntilTimesOutWhenNotCancelled) {
  Cancellation c;
  EXPECT_FALSE(c.WaitUntil(absl::Now() + absl::Milliseconds(5)));
}

}  // namespace
}  // namespace cdh
