// LayerStore's shared downloads: a second caller for the same diff_id waits for the first, and
// stops waiting when its own deadline passes or when it departs.
#include "image/layer_store.h"

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;

class LayerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = LayerStore::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  cdh::testing::TempDir dir_;
  std::unique_ptr<LayerStore> store_;
  const Digest diff_id_ = Digest::Sha256Of(std::string_view("a layer"));
};

TEST_F(LayerStoreTest, SecondCallerGetsTheLayerTheFirstCommits) {
  auto first = store_->Acquire(diff_id_, CallContext{});
  ASSERT_TRUE(first.ok() && first->lease != nullptr);
  absl::StatusOr<LayerStore::Acquired> second = absl::UnknownError("not run");
  std::thread waiter([&] { second = store_->Acquire(diff_id_, CallContext::WithTimeout(absl::Seconds(60))); });
  ASSERT_TRUE(first->lease->Commit().ok());
  first->lease.reset();
  waiter.join();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->path, store_->LayerPath(diff_id_));
  EXPECT_EQ(second->lease, nullptr);
}

TEST_F(LayerStoreTest, WaitEndsAtTheCallersDeadline) {
  auto first = store_->Acquire(diff_id_, CallContext{});
  ASSERT_TRUE(first.ok() && first->lease != nullptr);
  EXPECT_THAT(store_->Acquire(diff_id_, CallContext::WithTimeout(absl::Milliseconds(50))),
              StatusIs(absl::StatusCode::kDeadlineExceeded, "concurrent download"));
}

// A caller that departs while another caller downloads the layer stops waiting at once
// (CANCELLED), long before its deadline; the download it waited for is unaffected.
TEST_F(LayerStoreTest, DepartedWaiterIsCancelled) {
  auto first = store_->Acquire(diff_id_, CallContext{});
  ASSERT_TRUE(first.ok() && first->lease != nullptr);
  auto departure = std::make_shared<Cancellation>();
  absl::StatusOr<LayerStore::Acquired> second = absl::UnknownError("not run");
  absl::Notification returned;
  std::thread waiter([&] {
    second = store_->Acquire(diff_id_, CallContext{absl::Now() + absl::Seconds(60), departure});
    returned.Notify();
  });
  departure->Cancel();
  EXPECT_TRUE(returned.WaitForNotificationWithTimeout(absl::Seconds(10)));
  waiter.join();
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kCancelled, "departed"));
  EXPECT_TRUE(first->lease->Commit().ok());
}

}  // namespace
}  // namespace cdh::image
