// Status propagation helpers shaped like the later ABSL_* macros, which Debian's
// abseil 20220623 lacks.
#ifndef CDH_COMMON_STATUS_MACROS_H_
#define CDH_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CDH_STATUS_CONCAT_INNER_(a, b) a##b
#define CDH_STATUS_CONCAT_(a, b) CDH_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define CDH_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status cdh_status_ = (expr);       \
    if (!cdh_status_.ok()) return cdh_status_; \
  } while (0)

// `lhs = value of expr` where expr is an absl::StatusOr<T>; returns its status on error.
#define CDH_ASSIGN_OR_RETURN(lhs, expr) \
  CDH_ASSIGN_OR_RETURN_IMPL_(CDH_STATUS_CONCAT_(cdh_statusor_, __LINE__), lhs, expr)
#define CDH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

namespace cdh {

// Returns `status` with `context + ": "` prepended to its message, keeping the code.
// Used to build the cause chain that goes to the log; never put secret bytes in `context`.
inline absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  absl::string_view m = status.message();
  absl::Status out(status.code(), std::string(context) + ": " + std::string(m.data(), m.size()));
  // Payloads (e.g. the module-load mark, common/module_loader.h) travel with the status.
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

}  // namespace cdh

#endif  // CDH_COMMON_STATUS_MACROS_H_
