#include "image/manifest.h"

#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::image {
namespace {

using nlohmann::json;

absl::Status Malformed(std::string_view what, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("malformed ", what, ": ", why));
}

// Optional string member: "" when absent; error when present with another type.
absl::StatusOr<std::string> OptString(const json& obj, const char* key, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Malformed(what, StrCat("`", key, "` is not a string"));
  return it->get<std::string>();
}

absl::StatusOr<std::vector<std::string>> OptStringArray(const json& obj, const char* key, std::string_view what) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return Malformed(what, StrCat("`", key, "` is not an array"));
  for (const json& v : *it) {
    if (!v.is_string()) return Malformed(what, StrCat("`", key, "` holds a non-string"));
    out.push_back(v.get<std::string>());
  }
  return out;
}

absl::StatusOr<Descriptor> ParseDescriptor(const json& j, std::string_view what) {
  if (!j.is_object()) return Malformed(what, "descriptor is not an object");
  Descriptor d;
  CDH_ASSIGN_OR_RETURN(d.media_type, OptString(j, "mediaType", what));
  auto digest_it = j.find("digest");
  if (digest_it == j.end() || !digest_it->is_string()) return Malformed(what, "descriptor without a digest");
  auto digest = Digest::Parse(digest_it->get<std::string>());
  if (!digest.ok()) return Malformed(what, ToStd(digest.status().message()));
  d.digest = *digest;
  auto size_it = j.find("size");
  if (size_it == j.end() || !size_it->is_number_integer() || size_it->get<int64_t>() < 0) {
    return Malformed(what, "descriptor without a non-negative integer size");
  }
  d.size = size_it->get<int64_t>();
  if (auto a = j.find("annotations"); a != j.end() && !a->is_null()) {
    if (!a->is_object()) return Malformed(what, "annotations is not an object");
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (!it.value().is_string()) return Malformed(what, "annotation value is not a string");
      d.annotations[it.key()] = it.value().get<std::string>();
    }
  }
  CDH_ASSIGN_OR_RETURN(d.urls, OptStringArray(j, "urls", what));
  if (auto p = j.find("platform"); p != j.end() && !p->is_null()) {
    if (!p->is_object()) return Malformed(what, "platform is not an object");
    Platform platform;
    CDH_ASSIGN_OR_RETURN(platform.os, OptString(*p, "os", what));
    CDH_ASSIGN_OR_RETURN(platform.architecture, OptString(*p, "architecture", what));
    CDH_ASSIGN_OR_RETURN(platform.variant, OptString(*p, "variant", what));
    d.platform = platform;
  }
  return d;
}

absl::StatusOr<json> ParseObject(std::string_view body, std::string_view what, int64_t max) {
  if (static_cast<int64_t>(body.size()) > max) {
    return absl::InvalidArgumentError(StrCat(what, " larger than ", max, " bytes"));
  }
  CDH_ASSIGN_OR_RETURN(json j, ParseJson(body, what));
  if (!j.is_object()) return Malformed(what, "not a JSON object");
  return j;
}

absl::Status CheckSchemaVersion(const json& j) {
  auto it = j.find("schemaVersion");
  if (it == j.end() || !it->is_number_integer()) return Malformed("manifest", "no integer schemaVersion");
  int64_t v = it->get<int64_t>();
  if (v != 2) return absl::UnimplementedError(StrCat("Unsupported schema version: ", v));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ManifestKind> ClassifyManifest(std::string_view body, std::string_view content_type) {
  CDH_ASSIGN_OR_RETURN(json j, ParseObject(body, "manifest", kMaxManifestBytes));
  CDH_RETURN_IF_ERROR(CheckSchemaVersion(j));
  CDH_ASSIGN_OR_RETURN(std::string mt, OptString(j, "mediaType", "manifest"));
  if (mt.empty()) {
    // Content-Type parameters (";charset=…") are not part of the type.
    std::string_view ct = content_type.substr(0, content_type.find(';'));
    while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
    // Registries answer application/octet-stream or json for manifests stored without a type.
    if (ct == media_type::kOciManifest || ct == media_type::kOciIndex || ct == media_type::kDockerManifest ||
        ct == media_type::kDockerList) {
      mt = std::string(ct);
    }
  }
  if (mt == media_type::kOciIndex || mt == media_type::kDockerList) return ManifestKind::kIndex;
  if (mt == media_type::kOciManifest || mt == media_type::kDockerManifest) return ManifestKind::kImageManifest;
  if (!mt.empty()) return absl::UnimplementedError(StrCat("Unsupported media type: ", Sanitize(mt, 120)));
  if (j.contains("manifests")) return ManifestKind::kIndex;
  if (j.contains("config") && j.contains("layers")) return ManifestKind::kImageManifest;
  return absl::UnimplementedError("Unsupported media type: the manifest has no mediaType and no known structure");
}

absl::StatusOr<ImageIndex> ParseImageIndex(std::string_view body) {
  CDH_ASSIGN_OR_RETURN(json j, ParseObject(body, "image index", kMaxManifestBytes));
  CDH_RETURN_IF_ERROR(CheckSchemaVersion(j));
  auto it = j.find("manifests");
  if (it == j.end() || !it->is_array()) return Malformed("image index", "no `manifests` array");
  ImageIndex index;
  for (const json& m : *it) {
    CDH_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(m, "image index"));
    index.manifests.push_back(std::move(d));
  }
  return index;
}

absl::StatusOr<ImageManifest> ParseImageManifest(std::string_view body) {
  CDH_ASSIGN_OR_RETURN(json j, ParseObject(body, "image manifest", kMaxManifestBytes));
  CDH_RETURN_IF_ERROR(CheckSchemaVersion(j));
  ImageManifest m;
  auto c = j.find("config");
  if (c == j.end()) return Malformed("image manifest", "no `config`");
  CDH_ASSIGN_OR_RETURN(m.config, ParseDescriptor(*c, "image manifest config"));
  if (!m.config.media_type.empty() && m.config.media_type != media_type::kOciConfig &&
      m.config.media_type != media_type::kDockerConfig) {
    return absl::UnimplementedError(StrCat("Unsupported media type: config ", Sanitize(m.config.media_type, 120)));
  }
  auto l = j.find("layers");
  if (l == j.end() || !l->is_array()) return Malformed("image manifest", "no `layers` array");
  for (const json& layer : *l) {
    CDH_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(layer, "image manifest layer"));
    m.layers.push_back(std::move(d));
  }
  return m;
}

absl::StatusOr<ImageConfig> ParseImageConfig(std::string_view body) {
  CDH_ASSIGN_OR_RETURN(json j, ParseObject(body, "image config", kMaxConfigBytes));
  ImageConfig c;
  CDH_ASSIGN_OR_RETURN(c.os, OptString(j, "os", "image config"));
  CDH_ASSIGN_OR_RETURN(c.architecture, OptString(j, "architecture", "image config"));
  auto r = j.find("rootfs");
  if (r == j.end() || !r->is_object()) return Malformed("image config", "no `rootfs`");
  CDH_ASSIGN_OR_RETURN(std::string type, OptString(*r, "type", "image config"));
  if (type != "layers") return Malformed("image config", "rootfs.type is not `layers`");
  CDH_ASSIGN_OR_RETURN(std::vector<std::string> diff_ids, OptStringArray(*r, "diff_ids", "image config"));
  for (const std::string& s : diff_ids) {
    auto d = Digest::Parse(s);
    if (!d.ok()) return Malformed("image config", StrCat("diff_id: ", ToStd(d.status().message())));
    c.diff_ids.push_back(*d);
  }
  auto cfg = j.find("config");
  if (cfg != j.end() && cfg->is_object()) {
    CDH_ASSIGN_OR_RETURN(c.env, OptStringArray(*cfg, "Env", "image config"));
    CDH_ASSIGN_OR_RETURN(c.entrypoint, OptStringArray(*cfg, "Entrypoint", "image config"));
    CDH_ASSIGN_OR_RETURN(c.cmd, OptStringArray(*cfg, "Cmd", "image config"));
    CDH_ASSIGN_OR_RETURN(c.working_dir, OptString(*cfg, "WorkingDir", "image config"));
    CDH_ASSIGN_OR_RETURN(c.user, OptString(*cfg, "User", "image config"));
    if (auto l = cfg->find("Labels"); l != cfg->end() && l->is_object()) {
      for (auto it = l->begin(); it != l->end(); ++it) {
        if (it.value().is_string()) c.labels[it.key()] = it.value().get<std::string>();
      }
    }
    if (auto v = cfg->find("Volumes"); v != cfg->end() && v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) c.volumes.push_back(it.key());
    }
  } else if (cfg != j.end() && !cfg->is_null()) {
    return Malformed("image config", "`config` is not an object");
  }
  return c;
}

Platform HostPlatform() {
#if defined(__x86_64__)
  return Platform{"linux", "amd64", ""};
#elif defined(__aarch64__)
  return Platform{"linux", "arm64", "v8"};
#elif defined(__s390x__)
  return Platform{"linux", "s390x", ""};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return Platform{"linux", "ppc64le", ""};
#else
  return Platform{"linux", "unknown", ""};
#endif
}

absl::StatusOr<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& want) {
  const Descriptor* fallback = nullptr;
  for (const Descriptor& d : index.manifests) {
    if (!d.platform || d.platform->os != want.os || d.platform->architecture != want.architecture) continue;
    if (!want.variant.empty() && d.platform->variant == want.variant) return d;
    if (fallback == nullptr) fallback = &d;
  }
  if (fallback != nullptr) return *fallback;
  return absl::NotFoundError(
      "Image manifest not found: no entry found in image index manifest matching client's "
      "default platform");
}

absl::StatusOr<LayerCompression> LayerCompressionOf(std::string_view mt) {
  if (mt == "application/vnd.oci.image.layer.v1.tar" ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar") {
    return LayerCompression::kNone;
  }
  if (mt == "application/vnd.oci.image.layer.v1.tar+gzip" ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
      mt == "application/vnd.docker.image.rootfs.diff.tar.gzip") {
    return LayerCompression::kGzip;
  }
  if (mt == "application/vnd.oci.image.layer.v1.tar+zstd" ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd") {
    return LayerCompression::kZstd;
  }
  return absl::UnimplementedError(StrCat("Failed to decode layer: unhandled media type: ", Sanitize(mt, 120)));
}

}  // namespace cdh::image
