#include "image/registry_config.h"

#include <algorithm>

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::image {
namespace {

constexpr char kComposeError[] = "failed to compose a legal image reference with given registry configuration";

// The length of `reference` that `prefix` matches, or 0 (see the header for the rules).
size_t MatchLength(std::string_view reference, std::string_view prefix) {
  if (prefix.empty()) return 0;
  if (prefix.starts_with("*.")) {
    std::string_view suffix = prefix.substr(1);  // ".example.com"
    size_t registry_end = reference.find('/');
    if (registry_end == std::string_view::npos) return 0;
    std::string_view host = reference.substr(0, std::min(registry_end, reference.find(':')));
    return host.size() > suffix.size() && host.ends_with(suffix) ? registry_end : 0;
  }
  if (!reference.starts_with(prefix)) return 0;
  if (reference.size() == prefix.size()) return prefix.size();
  char next = reference[prefix.size()];
  return next == ':' || next == '/' || next == '@' ? prefix.size() : 0;
}

absl::StatusOr<ImageReference> Compose(std::string_view text) {
  auto ref = ImageReference::Parse(text);
  if (!ref.ok()) return absl::InvalidArgumentError(StrCat(kComposeError, ": ", ToStd(ref.status().message())));
  return ref;
}

}  // namespace

const RegistryEntry* RegistryConfig::Match(std::string_view reference, size_t* matched) const {
  const RegistryEntry* best = nullptr;
  size_t best_len = 0;
  for (const RegistryEntry& e : registries) {
    size_t len = MatchLength(reference, e.prefix.empty() ? e.location : e.prefix);
    if (len > best_len) {
      best = &e;
      best_len = len;
    }
  }
  if (matched != nullptr) *matched = best_len;
  return best;
}

absl::StatusOr<std::vector<PullSource>> RegistryConfig::SourcesFor(const ImageReference& requested) const {
  // 1. Unqualified search for short names (image-rs generate_unqualified_search_tasks).
  std::vector<PullSource> initial;
  if (requested.IsShortName()) {
    std::string tail = requested.String().substr(requested.Name().size());  // ":tag", "@digest"
    for (const std::string& registry : unqualified_search_registries) {
      if (registry == "docker.io") {
        initial.push_back({requested, false, PullSource::Kind::kUnqualifiedSearch});
        continue;
      }
      std::string_view repository = requested.repository();
      if (repository.starts_with("library/")) repository.remove_prefix(8);
      CDH_ASSIGN_OR_RETURN(ImageReference ref, Compose(StrCat(registry, "/", repository, tail)));
      initial.push_back({std::move(ref), false, PullSource::Kind::kUnqualifiedSearch});
    }
    if (initial.empty()) {
      return absl::InvalidArgumentError(StrCat(kComposeError, ": ", Sanitize(requested.String()),
                                               " is a short name and `unqualified-search-registries` is empty"));
    }
  } else {
    initial.push_back({requested, false, PullSource::Kind::kOriginal});
  }

  // 2. Mirrors, then the remapped or original location (image-rs handle_registry_tasks).
  std::vector<PullSource> out;
  for (PullSource& task : initial) {
    std::string reference = task.reference.String();
    size_t matched = 0;
    const RegistryEntry* entry = Match(reference, &matched);
    if (entry == nullptr) {
      out.push_back(std::move(task));
      continue;
    }
    if (entry->blocked) continue;
    std::string_view rest = std::string_view(reference).substr(matched);
    for (const RegistryMirror& mirror : entry->mirrors) {
      CDH_ASSIGN_OR_RETURN(ImageReference ref, Compose(StrCat(mirror.location, rest)));
      out.push_back({std::move(ref), mirror.insecure, PullSource::Kind::kMirror});
    }
    const std::string& location = entry->location.empty() ? entry->prefix : entry->location;
    if (location.starts_with("*.")) return absl::InvalidArgumentError(StrCat(kComposeError, ": no location"));
    CDH_ASSIGN_OR_RETURN(ImageReference ref, Compose(StrCat(location, rest)));
    bool remapped = location != reference.substr(0, matched);
    out.push_back({std::move(ref), entry->insecure, remapped ? PullSource::Kind::kRemapped : task.kind});
  }
  if (out.empty()) {
    return absl::PermissionDeniedError(
        StrCat(kComposeError, ": image ", Sanitize(requested.String()), " is blocked by registry rule"));
  }
  return out;
}

absl::StatusOr<RegistryConfig> RegistryConfig::FromJson(const nlohmann::json& doc) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("Malwared registry configuration: ", why));
  };
  auto read_string = [&](const nlohmann::json& table, const char* key, const char* path,
                         std::string& out) -> absl::Status {
    auto it = table.find(key);
    if (it == table.end()) return absl::OkStatus();
    if (!it->is_string()) return bad(StrCat("`", path, "` must be a string"));
    out = it->get<std::string>();
    return absl::OkStatus();
  };
  auto read_bool = [&](const nlohmann::json& table, const char* key, const char* path, bool& out) -> absl::Status {
    auto it = table.find(key);
    if (it == table.end()) return absl::OkStatus();
    if (!it->is_boolean()) return bad(StrCat("`", path, "` must be a boolean"));
    out = it->get<bool>();
    return absl::OkStatus();
  };

  if (!doc.is_object()) return bad("not a table");
  RegistryConfig out;
  if (auto search = doc.find("unqualified-search-registries"); search != doc.end()) {
    if (!search->is_array()) return bad("`unqualified-search-registries` must be an array of strings");
    out.unqualified_search_registries.clear();
    for (const auto& r : *search) {
      if (!r.is_string() || r.get<std::string>().empty()) {
        return bad("`unqualified-search-registries` must be an array of non-empty strings");
      }
      out.unqualified_search_registries.push_back(r.get<std::string>());
    }
  }
  auto regs = doc.find("registry");
  if (regs == doc.end()) return out;
  if (!regs->is_array()) return bad("`registry` must be an array of tables");
  for (const auto& r : *regs) {
    if (!r.is_object()) return bad("`registry` must be an array of tables");
    RegistryEntry e;
    CDH_RETURN_IF_ERROR(read_string(r, "prefix", "registry.prefix", e.prefix));
    CDH_RETURN_IF_ERROR(read_string(r, "location", "registry.location", e.location));
    CDH_RETURN_IF_ERROR(read_bool(r, "insecure", "registry.insecure", e.insecure));
    CDH_RETURN_IF_ERROR(read_bool(r, "blocked", "registry.blocked", e.blocked));
    if (e.prefix.empty()) {
      if (e.location.empty()) return bad("a [[registry]] entry needs a prefix or a location");
      e.prefix = e.location;
    }
    if (e.prefix.starts_with("*.") && e.location.empty()) {
      return bad(StrCat("the wildcard prefix `", Sanitize(e.prefix), "` needs a location"));
    }
    if (auto m = r.find("mirror"); m != r.end()) {
      if (!m->is_array()) return bad("`registry.mirror` must be an array of tables");
      for (const auto& mirror : *m) {
        if (!mirror.is_object()) return bad("`registry.mirror` must be an array of tables");
        RegistryMirror rm;
        CDH_RETURN_IF_ERROR(read_string(mirror, "location", "registry.mirror.location", rm.location));
        CDH_RETURN_IF_ERROR(read_bool(mirror, "insecure", "registry.mirror.insecure", rm.insecure));
        if (rm.location.empty()) return bad("a [[registry.mirror]] entry needs a location");
        e.mirrors.push_back(std::move(rm));
      }
    }
    out.registries.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<RegistryClient>> DefaultRegistryClientFactory::ClientFor(const PullSource& source) {
  const ImageReference& ref = source.reference;
  std::optional<RegistryCredentials> creds;
  if (auth_) creds = auth_->Lookup(ref);
  // Credentials differ per repository only through the auth file's keys; key the cache on the
  // repository when there are credentials, on the registry otherwise.
  std::string key = StrCat(source.plain_http ? "http://" : "https://", creds ? ref.Name() : ref.registry());
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second;
  OciRegistryClientOptions options;
  options.registry = ref.registry();
  options.plain_http = source.plain_http;
  options.credentials = std::move(creds);
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<OciRegistryClient> client, OciRegistryClient::New(http_, std::move(options)));
  std::shared_ptr<RegistryClient> shared = std::move(client);
  clients_[key] = shared;
  return shared;
}

}  // namespace cdh::image
