#include "resources/kms/kms_provider.h"

#include <vector>

#include "common/strings.h"

namespace cdh::resources {

absl::StatusOr<std::unique_ptr<KmsDecryptor>> KmsRegistry::Create(std::string_view name,
                                                                  const nlohmann::json& settings) const {
  auto it = factories_.find(std::string(name));
  if (it == factories_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, f] : factories_) names.push_back(n);
    return absl::UnimplementedError(StrCat("KMS provider `", name.substr(0, 32), "` is not supported (available: ",
                                           names.empty() ? std::string("none") : StrJoin(names, ", "), ")"));
  }
  return it->second(settings);
}

}  // namespace cdh::resources
