// JSON helpers over nlohmann-json that never throw (no exception crosses a module boundary:
// third-party code that throws is wrapped where it is called). Thread-safe (pure functions).
#ifndef CDH_COMMON_JSON_H_
#define CDH_COMMON_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cdh {

// Parses `text` as one JSON value. INVALID_ARGUMENT "<what> is not valid JSON" on failure; the
// message never echoes the input (it may hold secret bytes).
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what);

// Member accessors for an object `obj`. INVALID_ARGUMENT naming `key` (and `what`) when missing
// or of the wrong type.
absl::StatusOr<std::string> GetString(const nlohmann::json& obj, std::string_view key, std::string_view what);
absl::StatusOr<nlohmann::json> GetObject(const nlohmann::json& obj, std::string_view key, std::string_view what);

// Serialises without throwing: invalid UTF-8 is replaced rather than raising.
std::string DumpJson(const nlohmann::json& value);

}  // namespace cdh

#endif  // CDH_COMMON_JSON_H_
