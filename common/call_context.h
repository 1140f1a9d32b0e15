// CallContext: what a transport knows about one call and hands down to the hub.
// Copyable value type; thread-compatible.
#ifndef CDH_COMMON_CALL_CONTEXT_H_
#define CDH_COMMON_CALL_CONTEXT_H_

#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/cancellation.h"

namespace cdh {

struct CallContext {
  CallContext() = default;
  explicit CallContext(absl::Time deadline, std::shared_ptr<const Cancellation> cancellation = nullptr)
      : deadline(deadline), cancellation(std::move(cancellation)) {}

  // Absolute deadline of the caller (gRPC deadline, ttrpc `timeout_nano`); InfiniteFuture when none.
  absl::Time deadline = absl::InfiniteFuture();
  // Fires when the caller has departed (ttrpc connection closed, gRPC call cancelled); null
  // when the transport cannot tell. Work done only for this caller stops with CANCELLED.
  std::shared_ptr<const Cancellation> cancellation;

  bool Expired() const { return absl::Now() >= deadline; }
  bool Cancelled() const { return cancellation != nullptr && cancellation->cancelled(); }
  absl::Duration Remaining() const { return deadline - absl::Now(); }
  // This context with another deadline (the same cancellation).
  CallContext WithDeadline(absl::Time d) const { return CallContext{d, cancellation}; }
  static CallContext WithTimeout(absl::Duration timeout) { return CallContext{absl::Now() + timeout}; }
};

}  // namespace cdh

#endif  // CDH_COMMON_CALL_CONTEXT_H_
