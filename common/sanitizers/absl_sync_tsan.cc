// ThreadSanitizer's view of Debian's abseil synchronisation (linked into every binary of a
// CDH_SANITIZE=thread build only; see the root CMakeLists and scripts/sanitize.sh).
//
// Debian's libabsl_synchronization is not built with TSan, so its locks are invisible to it: an
// access under an absl::Mutex in one thread and the next one under the same mutex in another look
// like a race. Abseil built with TSan annotates itself (mutex.cc, ABSL_TSAN_MUTEX_*); this file
// gives the prebuilt library the same happens-before edges from outside. It defines the exported
// entry points (they interpose on the library's, being earlier in the lookup order), and each
// calls the library's own function (dlsym RTLD_NEXT) between __tsan_release (before giving a lock
// or a notification away) and __tsan_acquire (after obtaining one). Only happens-before is
// modelled, not lock ownership, so TSan's lock-order checks do not cover absl::Mutex.
//
// The symbol names are those of Debian 12's abseil 20220623 (inline namespace debian3); a name
// that does not resolve aborts the process at its first use, so an abseil update cannot silently
// turn the annotations off.
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

template <typename Fn>
Fn Real(const char* mangled) {
  void* f = dlsym(RTLD_NEXT, mangled);
  if (f == nullptr) {
    std::fprintf(stderr, "absl_sync_tsan: %s not found in the abseil library\n", mangled);
    std::abort();
  }
  return reinterpret_cast<Fn>(f);
}

// The library's function `mangled` as a plain function taking `this` first (Itanium C++ ABI).
#define CDH_REAL(type, mangled)                 \
  static const auto real = Real<type>(mangled); \
  static_assert(true, "")

void Acquire(const void* addr) { __tsan_acquire(const_cast<void*>(addr)); }
void Release(const void* addr) { __tsan_release(const_cast<void*>(addr)); }

// A Condition is evaluated with the mutex held, but inside the library: by the waiting thread
// or by whichever thread is unlocking (after that thread's release in Mutex::Unlock below),
// while the condition (and what it captures) lives on the waiter's stack. The waiter wraps its
// condition: it releases the wrapper before waiting, and each evaluation acquires the wrapper
// (the condition's own memory) and the mutex (what it reads), and releases the mutex again so
// the reads are ordered before the next owner's writes.
struct AnnotatedCondition {
  const absl::Condition* condition;
  const absl::Mutex* mu;
};

bool EvalAnnotated(void* arg) {
  Acquire(arg);
  const auto* c = static_cast<const AnnotatedCondition*>(arg);
  Acquire(c->mu);
  const bool met = c->condition->Eval();
  Release(c->mu);
  return met;
}

// Calls `wait(annotated)` with `cond` wrapped as above.
template <typename Wait>
auto WithAnnotatedCondition(const absl::Mutex* mu, const absl::Condition& cond, Wait wait) {
  AnnotatedCondition annotated{&cond, mu};
  const absl::Condition wrapped(&EvalAnnotated, &annotated);
  Release(&annotated);
  return wait(wrapped);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  CDH_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  CDH_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  CDH_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  CDH_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::Unlock() {
  CDH_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  CDH_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  CDH_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  WithAnnotatedCondition(this, cond, [&](const Condition& c) { real(this, c); });
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  CDH_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  WithAnnotatedCondition(this, cond, [&](const Condition& c) { real(this, c); });
  Acquire(this);
}

// The *WithTimeout / *WithDeadline forms hold the mutex on return whatever they return.
bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  CDH_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
           "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool met = WithAnnotatedCondition(this, cond, [&](const Condition& c) { return real(this, c, timeout); });
  Acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  CDH_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
           "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool met = WithAnnotatedCondition(this, cond, [&](const Condition& c) { return real(this, c, deadline); });
  Acquire(this);
  return met;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  CDH_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
           "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool met = WithAnnotatedCondition(this, cond, [&](const Condition& c) { return real(this, c, timeout); });
  Acquire(this);
  return met;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  CDH_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
           "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool met = WithAnnotatedCondition(this, cond, [&](const Condition& c) { return real(this, c, deadline); });
  Acquire(this);
  return met;
}

// Await releases the held mutex while it waits and holds it again on return.
void Mutex::Await(const Condition& cond) {
  CDH_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  WithAnnotatedCondition(this, cond, [&](const Condition& c) { real(this, c); });
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  CDH_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
           "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Release(this);
  const bool met = WithAnnotatedCondition(this, cond, [&](const Condition& c) { return real(this, c, timeout); });
  Acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  CDH_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
           "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  const bool met = WithAnnotatedCondition(this, cond, [&](const Condition& c) { return real(this, c, deadline); });
  Acquire(this);
  return met;
}

// A condition variable wait releases `mu` and holds it again on return.
void CondVar::Wait(Mutex* mu) {
  CDH_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  CDH_REAL(bool (*)(CondVar*, Mutex*, absl::Duration),
           "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool timed_out = real(this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  CDH_REAL(bool (*)(CondVar*, Mutex*, absl::Time), "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  const bool timed_out = real(this, mu, deadline);
  Acquire(mu);
  return timed_out;
}

// A notification is a release on its flag; HasBeenNotified() (inline, so instrumented) is an
// acquire load of the same flag, and the waits acquire it when they see it set.
void Notification::Notify() {
  CDH_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  Release(&notified_yet_);
  real(this);
}

void Notification::WaitForNotification() const {
  CDH_REAL(void (*)(const Notification*), "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  Acquire(&notified_yet_);
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  CDH_REAL(bool (*)(const Notification*, absl::Duration),
           "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) Acquire(&notified_yet_);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  CDH_REAL(bool (*)(const Notification*, absl::Time),
           "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  if (notified) Acquire(&notified_yet_);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
