// TimedTurn: an exclusive right held across a long operation (a mount, writing one frame),
// taken with a deadline. absl::Mutex cannot be locked with a deadline while another thread holds
// it, and std::timed_mutex is invisible to ThreadSanitizer and to clang's -Wthread-safety; a
// TimedTurn is a flag under an absl::Mutex, annotated as a capability so that data it protects
// can be declared ABSL_GUARDED_BY(turn) and checked by the compiler.
//
//   TimedTurnLock lock(&turn_, ctx.deadline);
//   if (!lock.acquired()) return absl::DeadlineExceededError("...");
//   ... volumes_ (ABSL_GUARDED_BY(turn_)) ...
//
// Neither copyable nor movable; thread-safe.
#ifndef CDH_COMMON_TIMED_TURN_H_
#define CDH_COMMON_TIMED_TURN_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cdh {

class ABSL_LOCKABLE TimedTurn {
 public:
  TimedTurn() = default;
  TimedTurn(const TimedTurn&) = delete;
  TimedTurn& operator=(const TimedTurn&) = delete;

  // Takes the turn, waiting at most until `deadline` (absl::InfiniteFuture(): without limit).
  // True when taken.
  bool TryAcquireUntil(absl::Time deadline) ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    auto free = [this]() {
      mu_.AssertReaderHeld();  // evaluated by absl::Mutex with mu_ held
      return !held_;
    };
    // Returns holding mu_ whether or not the turn became free in time; mu_ is only ever held
    // briefly, so this does not wait past the deadline.
    bool taken = mu_.LockWhenWithDeadline(absl::Condition(&free), deadline);
    if (taken) held_ = true;
    mu_.Unlock();
    return taken;
  }
  void Release() ABSL_UNLOCK_FUNCTION() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }

 private:
  absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

// Scoped holder of a TimedTurn: tries to take it in the constructor, releases it in the
// destructor when taken. Check acquired() before touching what the turn guards.
class ABSL_SCOPED_LOCKABLE TimedTurnLock {
 public:
  // (The analysis cannot follow a conditional acquisition; callers check acquired().)
  TimedTurnLock(TimedTurn* turn, absl::Time deadline) ABSL_EXCLUSIVE_LOCK_FUNCTION(turn) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : turn_(turn),
        acquired_(turn->TryAcquireUntil(deadline)) {}
  ~TimedTurnLock() ABSL_UNLOCK_FUNCTION() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (acquired_) turn_->Release();
  }
  TimedTurnLock(const TimedTurnLock&) = delete;
  TimedTurnLock& operator=(const TimedTurnLock&) = delete;

  bool acquired() const { return acquired_; }

 private:
  TimedTurn* const turn_;
  const bool acquired_;
};

}  // namespace cdh

#endif  // CDH_COMMON_TIMED_TURN_H_
