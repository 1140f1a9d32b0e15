// Cancellation: the signal that a call's caller has departed (a ttrpc client closed its
// connection, a gRPC call was cancelled). The transport owns it and fires Cancel(); everything
// below that waits on someone else (the broker over HTTP, another call's handshake, a backoff)
// watches it through CallContext and gives up promptly with CANCELLED, so a departed caller
// holds no thread, connection or lock for longer than it takes to notice.
//
// Waiting code either polls cancelled(), waits with WaitUntil (backoffs), or registers a callback with CancelCallback
// that wakes its own wait (an absl::Mutex condition is re-evaluated when the callback locks and unlocks that mutex; the
// HTTP client calls curl_multi_wakeup).
//
// Thread-safe; neither copyable nor movable (shared through std::shared_ptr).
#ifndef CDH_COMMON_CANCELLATION_H_
#define CDH_COMMON_CANCELLATION_H_

#include <atomic>
#include <functional>
#include <list>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cdh {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Fires the signal once: later calls do nothing. Runs the registered callbacks on this thread.
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // Waits until `deadline` or until cancelled, whichever comes first. True when cancelled.
  bool WaitUntil(absl::Time deadline) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class CancelCallback;
  using Callbacks = std::list<std::function<void()>>;

  mutable absl::Mutex mu_;
  std::atomic<bool> cancelled_{false};
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  Callbacks callbacks_ ABSL_GUARDED_BY(mu_);
};

// Runs `callback` when `cancellation` fires while this object lives (at once, on this thread,
// when it has already fired). The destructor waits for a callback that is running, so the
// callback may use what outlives this object. A null `cancellation` registers nothing. The
// callback must not destroy this object or register on the same Cancellation.
// Neither copyable nor movable.
class CancelCallback {
 public:
  CancelCallback(const Cancellation* cancellation, std::function<void()> callback);
  ~CancelCallback();
  CancelCallback(const CancelCallback&) = delete;
  CancelCallback& operator=(const CancelCallback&) = delete;

 private:
  Cancellation* cancellation_ = nullptr;
  Cancellation::Callbacks::iterator it_;
};

}  // namespace cdh

#endif  // CDH_COMMON_CANCELLATION_H_
