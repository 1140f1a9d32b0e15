#include "common/json.h"

#include "common/strings.h"

namespace cdh {

absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                                               /*allow_exceptions=*/false);
  if (value.is_discarded()) return absl::InvalidArgumentError(StrCat(what, " is not valid JSON"));
  return value;
}

absl::StatusOr<std::string> GetString(const nlohmann::json& obj, std::string_view key, std::string_view what) {
  if (!obj.is_object()) return absl::InvalidArgumentError(StrCat(what, " must be a JSON object"));
  auto it = obj.find(key);
  if (it == obj.end()) return absl::InvalidArgumentError(StrCat(what, ": missing field `", key, "`"));
  if (!it->is_string()) {
    return absl::InvalidArgumentError(StrCat(what, ": field `", key, "` must be a string"));
  }
  return it->get<std::string>();
}

absl::StatusOr<nlohmann::json> GetObject(const nlohmann::json& obj, std::string_view key, std::string_view what) {
  if (!obj.is_object()) return absl::InvalidArgumentError(StrCat(what, " must be a JSON object"));
  auto it = obj.find(key);
  if (it == obj.end()) return absl::InvalidArgumentError(StrCat(what, ": missing field `", key, "`"));
  if (!it->is_object()) {
    return absl::InvalidArgumentError(StrCat(what, ": field `", key, "` must be an object"));
  }
  return *it;
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cdh
