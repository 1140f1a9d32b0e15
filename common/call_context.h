// CallContext: what a transport knows about one call and hands down to the hub.
// Copyable value type; thread-compatible.
#ifndef CDH_COMMON_CALL_CONTEXT_H_
#define CDH_COMMON_CALL_CONTEXT_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cdh {

struct CallContext {
  // Absolute deadline of the caller (gRPC deadline, ttrpc `timeout_nano`); InfiniteFuture when none.
  absl::Time deadline = absl::InfiniteFuture();

  bool Expired() const { return absl::Now() >= deadline; }
  absl::Duration Remaining() const { return deadline - absl::Now(); }
  static CallContext WithTimeout(absl::Duration timeout) { return CallContext{absl::Now() + timeout}; }
};

}  // namespace cdh

#endif  // CDH_COMMON_CALL_CONTEXT_H_
