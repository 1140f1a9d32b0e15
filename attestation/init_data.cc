#include "attestation/init_data.h"

#include <toml++/toml.h>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {

absl::StatusOr<InitData> ParseInitData(std::string text) {
  toml::table table;
  try {
    table = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(StrCat("init data is not valid TOML (line ", e.source().begin.line, ")"));
  }
  std::optional<std::string> version = table["version"].value<std::string>();
  if (!version || *version != "0.1.0") return absl::InvalidArgumentError("init data `version` must be \"0.1.0\"");
  std::optional<std::string> alg = table["algorithm"].value<std::string>();
  if (!alg || (*alg != "sha256" && *alg != "sha384" && *alg != "sha512")) {
    return absl::InvalidArgumentError("init data `algorithm` must be \"sha256\", \"sha384\" or \"sha512\"");
  }
  InitData out;
  CDH_ASSIGN_OR_RETURN(out.algorithm, crypto::ParseHashAlgorithm(*alg));
  out.digest = crypto::Hash(out.algorithm, text);
  out.toml = std::move(text);
  return out;
}

absl::StatusOr<std::optional<InitData>> LoadInitData(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileBounded(path, kMaxInitDataSize);
  if (text.status().code() == absl::StatusCode::kNotFound) return std::optional<InitData>();
  if (!text.ok()) return text.status();
  absl::StatusOr<InitData> parsed = ParseInitData(std::move(text).value());
  if (!parsed.ok()) return Annotate(parsed.status(), path);
  return std::optional<InitData>(std::move(parsed).value());
}

absl::Status BindInitData(Attester& attester, const InitData& init_data, const CallContext& ctx, bool* bound) {
  absl::Status s = attester.BindInitData(init_data.digest, ctx);
  if (s.code() == absl::StatusCode::kUnimplemented) {
    *bound = false;
    return absl::OkStatus();
  }
  *bound = s.ok();
  return s;
}

}  // namespace cdh::attestation
