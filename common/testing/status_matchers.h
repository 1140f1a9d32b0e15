// gMock matchers for absl::Status and absl::StatusOr<T>, shaped like the ones later abseil
// releases ship in absl/status/status_matchers.h (Debian 12's abseil 20220623 has none):
//
//   EXPECT_THAT(DoIt(), IsOk());
//   EXPECT_THAT(Parse(x), StatusIs(absl::StatusCode::kInvalidArgument, "truncated"));
//   EXPECT_THAT(Parse(x), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(Parse(x), StatusIs(absl::StatusCode::kDataLoss, ::testing::StartsWith("digest")));
//
// They accept absl::Status, absl::StatusOr<T> and grpc::Status. A plain string as the second
// argument of StatusIs is a substring the message must contain; any other gMock matcher of
// std::string is applied to the whole message. A failed match prints the status.
// Test-only (library cdh_common_testing); stateless, thread-safe.
#ifndef CDH_COMMON_TESTING_STATUS_MATCHERS_H_
#define CDH_COMMON_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace cdh::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}
// grpc::Status (end-to-end tests), without including gRPC here: its codes are absl's.
template <typename T>
auto GetStatus(const T& grpc_status)
    -> decltype(grpc_status.error_code(), grpc_status.error_message(), absl::Status()) {
  return absl::Status(static_cast<absl::StatusCode>(static_cast<int>(grpc_status.error_code())),
                      grpc_status.error_message());
}

class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename T>
  bool MatchAndExplain(const T& value, ::testing::MatchResultListener* listener) const {
    const absl::Status status = GetStatus(value);
    *listener << "whose status is " << status;
    if (status.code() != code_) return false;
    std::string message(status.message().data(), status.message().size());
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(message, &inner)) {
      if (!inner.str().empty()) *listener << ", and the message " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << absl::StatusCodeToString(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << absl::StatusCodeToString(code_) << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

class IsOkMatcher {
 public:
  template <typename T>
  bool MatchAndExplain(const T& value, ::testing::MatchResultListener* listener) const {
    const absl::Status status = GetStatus(value);
    if (!status.ok()) *listener << "whose status is " << status;
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

}  // namespace internal

// Matches an OK absl::Status or an absl::StatusOr<T> that holds a value.
inline ::testing::PolymorphicMatcher<internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal::IsOkMatcher());
}

// Matches a status (or StatusOr) with `code`, whatever its message.
inline ::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(absl::StatusCode code) {
  return ::testing::MakePolymorphicMatcher(internal::StatusIsMatcher(code, ::testing::A<const std::string&>()));
}

// Matches a status with `code` whose message contains `substring`.
inline ::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(absl::StatusCode code, const char* substring) {
  return ::testing::MakePolymorphicMatcher(internal::StatusIsMatcher(code, ::testing::HasSubstr(substring)));
}
inline ::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(absl::StatusCode code,
                                                                         const std::string& substring) {
  return ::testing::MakePolymorphicMatcher(internal::StatusIsMatcher(code, ::testing::HasSubstr(substring)));
}

// Matches a status with `code` whose whole message matches `message_matcher`.
template <typename MessageMatcher>
::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(absl::StatusCode code,
                                                                  MessageMatcher message_matcher) {
  return ::testing::MakePolymorphicMatcher(
      internal::StatusIsMatcher(code, ::testing::SafeMatcherCast<const std::string&>(message_matcher)));
}

}  // namespace cdh::testing

#endif  // CDH_COMMON_TESTING_STATUS_MATCHERS_H_
