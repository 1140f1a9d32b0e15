#include "common/cancellation.h"

namespace cdh {

void Cancellation::Cancel() {
  // Callbacks run with mu_ held, so that ~CancelCallback (which takes mu_) waits for them.
  absl::MutexLock lock(&mu_);
  if (fired_) return;
  fired_ = true;
  cancelled_.store(true, std::memory_order_release);
  for (auto& callback : callbacks_) callback();
}

bool Cancellation::WaitUntil(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto fired = [this]() {
    mu_.AssertReaderHeld();  // evaluated by absl::Mutex with mu_ held
    return fired_;
  };
  mu_.AwaitWithDeadline(absl::Condition(&fired), deadline);
  return fired_;
}

CancelCallback::CancelCallback(const Cancellation* cancellation, std::function<void()> callback) {
  if (cancellation == nullptr) return;
  // Registration changes only the list; the signal's observable state stays const for holders.
  auto* c = const_cast<Cancellation*>(cancellation);
  absl::MutexLock lock(&c->mu_);
  if (c->fired_) {
    callback();
    return;
  }
  cancellation_ = c;
  it_ = c->callbacks_.insert(c->callbacks_.end(), std::move(callback));
}

CancelCallback::~CancelCallback() {
  if (cancellation_ == nullptr) return;
  absl::MutexLock lock(&cancellation_->mu_);
  cancellation_->callbacks_.erase(it_);
}

}  // namespace cdh
