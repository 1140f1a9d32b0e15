#include "image/image_puller.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "image/chunk_queue.h"
#include "image/layer_decoder.h"
#include "image/tar_unpacker.h"

namespace cdh::image {
namespace {

namespace fs = std::filesystem;

// A counting semaphore bounding concurrent layer fetches within one pull.
class Slots {
 public:
  explicit Slots(int n) : free_(n <= 0 ? 1 << 20 : n) {}
  void Acquire() {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return free_ > 0; };
    mu_.Await(absl::Condition(&available));
    --free_;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    ++free_;
  }

 private:
  absl::Mutex mu_;
  int free_ ABSL_GUARDED_BY(mu_);
};

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return absl::InternalError("Failed to create bundle: cannot write config.json");
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError("Failed to create bundle: cannot write config.json");
  }
  return absl::OkStatus();
}

const char* KindName(PullSource::Kind kind) {
  switch (kind) {
    case PullSource::Kind::kOriginal:
      return "original location";
    case PullSource::Kind::kMirror:
      return "mirror";
    case PullSource::Kind::kRemapped:
      return "remapped location";
    case PullSource::Kind::kUnqualifiedSearch:
      return "unqualified-search registry";
  }
  return "location";
}

// The location an image is pulled from, presented under the requested name: the verifier asks
// for the requested repository and is answered from the mirror or remapped repository, so
// sigstore signatures are looked up where the image came from (containers/image
// docker_image_src.go reads attachments from the physical reference), while scopes and
// signedIdentity use the caller's reference. Other repositories pass through unchanged.
// Neither copyable nor movable; thread-safe as the wrapped client.
class SourceRegistryClient : public RegistryClient {
 public:
  SourceRegistryClient(const ImageReference& requested, const ImageReference& source, RegistryClient& client)
      : requested_name_(requested.Name()), source_(source), client_(client) {}

  absl::StatusOr<FetchedManifest> GetManifest(const ImageReference& repo, std::string_view tag_or_digest,
                                              const CallContext& ctx) override {
    return client_.GetManifest(Map(repo), tag_or_digest, ctx);
  }
  absl::StatusOr<std::string> GetBlob(const ImageReference& repo, const Digest& digest, int64_t max_bytes,
                                      const CallContext& ctx) override {
    return client_.GetBlob(Map(repo), digest, max_bytes, ctx);
  }
  absl::Status StreamBlob(const ImageReference& repo, const Digest& digest, int64_t expected_size, const BlobSink& sink,
                          const CallContext& ctx) override {
    return client_.StreamBlob(Map(repo), digest, expected_size, sink, ctx);
  }

 private:
  const ImageReference& Map(const ImageReference& repo) const {
    return repo.Name() == requested_name_ ? source_ : repo;
  }
  const std::string requested_name_;
  const ImageReference& source_;
  RegistryClient& client_;
};

bool IsCleanAbsolutePath(std::string_view p) {
  if (!p.starts_with("/") || HasControlChars(p) || p.find(',') != std::string_view::npos ||
      p.find(':') != std::string_view::npos) {
    return false;
  }
  for (std::string_view c : StrSplit(p, '/')) {
    if (c == "." || c == "..") return false;
  }
  return true;
}

}  // namespace

std::string RuntimeSpecFor(const ImageConfig& config) {
  nlohmann::json args = nlohmann::json::array();
  for (const auto& a : config.entrypoint) args.push_back(a);
  for (const auto& a : config.cmd) args.push_back(a);
  nlohmann::json env = nlohmann::json::array();
  for (const auto& e : config.env) env.push_back(e);
  nlohmann::json annotations = nlohmann::json::object();
  for (const auto& [k, v] : config.labels) annotations[k] = v;
  if (!annotations.contains("org.opencontainers.image.os")) annotations["org.opencontainers.image.os"] = config.os;
  if (!annotations.contains("org.opencontainers.image.architecture")) {
    annotations["org.opencontainers.image.architecture"] = config.architecture;
  }
  nlohmann::json mounts = nlohmann::json::array();
  for (const auto& v : config.volumes) {
    mounts.push_back({{"destination", v},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "noexec", "nodev", "relatime", "rw"}}});
  }
  nlohmann::json spec = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", env},
        {"cwd", config.working_dir.empty() ? "/" : config.working_dir}}},
      {"root", {{"path", "rootfs"}, {"readonly", false}}},
      {"hostname", "image-rs"},
      {"mounts", mounts},
      {"annotations", annotations},
      {"linux", nlohmann::json::object()},
  };
  return DumpJson(spec);
}

absl::StatusOr<std::unique_ptr<ImagePuller>> ImagePuller::New(ImagePullerOptions options,
                                                              RegistryClientFactory& registries,
                                                              ImageVerifier& verifier, LayerDecryptor& decryptor,
                                                              PullMeasurer* measurer) {
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<LayerStore> store, LayerStore::Open(options.work_dir));
  return std::unique_ptr<ImagePuller>(
      new ImagePuller(std::move(options), registries, verifier, decryptor, measurer, std::move(store)));
}

absl::StatusOr<std::string> ImagePuller::Pull(std::string_view image_url, std::string_view bundle_path,
                                              const CallContext& ctx) {
  if (ctx.Expired()) return absl::DeadlineExceededError("deadline exceeded before the pull started");
  return PullInner(image_url, bundle_path, ctx);
}

absl::Status ImagePuller::FetchLayer(RegistryClient& client, const ImageReference& ref, const Descriptor& layer,
                                     const Digest& diff_id, std::unique_ptr<LayerStreamDecryptor> decrypt,
                                     const std::string& staging, const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(LayerCompression compression, LayerCompressionOf(DecryptedMediaType(layer.media_type)));
  int root_fd = open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return absl::InternalError("cannot open staging directory");
  ChunkQueue queue(options_.stream_buffer_bytes);

  // Consumer: decompress, hash (diff_id), untar into the staging directory.
  absl::Status unpack_status;
  Digest got_diff_id;
  std::thread unpacker([&] {
    auto decoder = LayerDecoder::New(compression, [&] { return queue.Pop(); });
    TarSource source = [&]() { return decoder->Next(); };
    auto stats = UnpackTar(source, root_fd);
    absl::Status st = stats.ok() ? decoder->Drain() : stats.status();
    if (!st.ok()) {
      queue.Abort(st);
      unpack_status = st;
      return;
    }
    got_diff_id = decoder->DiffId();
  });

  // Producer (this thread): download, digest (inside StreamBlob), decrypt.
  std::string plain;
  absl::Status download = client.StreamBlob(
      ref, layer.digest, layer.size,
      [&](std::span<const uint8_t> chunk) -> absl::Status {
        if (decrypt) {
          plain.clear();
          CDH_RETURN_IF_ERROR(decrypt->Update(chunk, plain));
          return queue.Push(std::move(plain));
        }
        return queue.Push(std::string(reinterpret_cast<const char*>(chunk.data()), chunk.size()));
      },
      ctx);
  // The unpacker sees the end of the stream only after the blob digest and the HMAC were checked,
  // so it cannot report success for bytes that failed either.
  if (download.ok() && decrypt) download = decrypt->Finish();
  queue.Close(download);
  unpacker.join();
  close(root_fd);
  if (!download.ok()) {
    // The unpacker's error is usually the echo of ours (or the reason we stopped).
    if (!unpack_status.ok() && download.code() == absl::StatusCode::kCancelled) return unpack_status;
    if (!unpack_status.ok() && ToStd(download.message()) == ToStd(unpack_status.message())) return unpack_status;
    return Annotate(download, StrCat("layer ", layer.digest.String()));
  }
  if (!unpack_status.ok()) return Annotate(unpack_status, StrCat("layer ", layer.digest.String()));
  if (!(got_diff_id == diff_id)) {
    return absl::DataLossError(StrCat("unequal uncompressed digest ", got_diff_id.String(), " of layer ",
                                      layer.digest.String(), " and config diff_id ", diff_id.String()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ImagePuller::EnsureLayer(RegistryClient& client, const ImageReference& ref,
                                                     const Descriptor& layer, const Digest& diff_id,
                                                     const CallContext& ctx) {
  // The key release happens on every pull, cached or not (spec §1.8).
  std::unique_ptr<LayerStreamDecryptor> decrypt;
  if (decryptor_.IsEncrypted(layer)) {
    CDH_ASSIGN_OR_RETURN(decrypt, decryptor_.Open(layer, ctx));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    CDH_ASSIGN_OR_RETURN(LayerStore::Acquired acquired, store_->Acquire(diff_id, ctx));
    if (!acquired.path.empty()) return acquired.path;
    if (!acquired.lease) continue;
    layers_downloaded_.fetch_add(1);
    CDH_RETURN_IF_ERROR(
        FetchLayer(client, ref, layer, diff_id, std::move(decrypt), acquired.lease->staging_dir(), ctx));
    return acquired.lease->Commit();
  }
  return absl::InternalError("layer cache did not settle");
}

absl::StatusOr<ImagePuller::Resolved> ImagePuller::PullFrom(const ImageReference& requested, const PullSource& source,
                                                            const CallContext& ctx) {
  const ImageReference& ref = source.reference;
  CDH_ASSIGN_OR_RETURN(std::shared_ptr<RegistryClient> client, registries_.ClientFor(source));

  // 1. The manifest (through the index when the tag names one), digest-checked by the client.
  CDH_ASSIGN_OR_RETURN(FetchedManifest top, client->GetManifest(ref, ref.TagOrDigest(), ctx));
  CDH_ASSIGN_OR_RETURN(ManifestKind kind, ClassifyManifest(top.bytes, top.media_type));
  FetchedManifest platform_manifest = std::move(top);
  if (kind == ManifestKind::kIndex) {
    CDH_ASSIGN_OR_RETURN(ImageIndex index, ParseImageIndex(platform_manifest.bytes));
    CDH_ASSIGN_OR_RETURN(Descriptor chosen, SelectPlatform(index, options_.platform));
    CDH_ASSIGN_OR_RETURN(platform_manifest, client->GetManifest(ref, chosen.digest.String(), ctx));
    CDH_ASSIGN_OR_RETURN(ManifestKind nested, ClassifyManifest(platform_manifest.bytes, platform_manifest.media_type));
    if (nested != ManifestKind::kImageManifest) {
      return absl::UnimplementedError("failed to pull image manifest: nested image index");
    }
  }
  CDH_ASSIGN_OR_RETURN(ImageManifest manifest, ParseImageManifest(platform_manifest.bytes));
  for (const Descriptor& layer : manifest.layers) {
    CDH_RETURN_IF_ERROR(LayerCompressionOf(DecryptedMediaType(layer.media_type)).status());
  }

  // 2. The policy, on every pull and before any layer (spec §1.8, §5.7): scopes and identities
  // for the reference the caller asked for, signatures from the location the image comes from.
  SourceRegistryClient source_client(requested, ref, *client);
  CDH_RETURN_IF_ERROR(verifier_.Verify(requested, platform_manifest.digest, source_client, ctx));

  // 3. The config.
  CDH_ASSIGN_OR_RETURN(std::string config_bytes, client->GetBlob(ref, manifest.config.digest, kMaxConfigBytes, ctx));
  CDH_ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_bytes));
  if (config.os != "linux") {
    return absl::FailedPreconditionError(StrCat("unsupport OS image: `", Sanitize(config.os), "`"));
  }
  if (config.diff_ids.size() != manifest.layers.size()) {
    return absl::InvalidArgumentError(
        StrCat("the config lists ", config.diff_ids.size(), " diff_ids for ", manifest.layers.size(), " layers"));
  }

  // 4. The layers (each unique diff_id once), at most N at a time.
  std::map<Digest, size_t> unique;
  for (size_t i = 0; i < manifest.layers.size(); ++i) unique.emplace(config.diff_ids[i], i);
  std::map<Digest, absl::StatusOr<std::string>> results;
  absl::Mutex results_mu;
  Slots slots(options_.max_concurrent_layer_downloads);
  std::vector<std::thread> workers;
  for (const auto& [diff_id, index] : unique) {
    slots.Acquire();
    workers.emplace_back([&, diff_id = diff_id, index = index] {
      auto r = EnsureLayer(*client, ref, manifest.layers[index], diff_id, ctx);
      slots.Release();
      absl::MutexLock lock(&results_mu);
      results.emplace(diff_id, std::move(r));
    });
  }
  for (auto& w : workers) w.join();
  Resolved out;
  for (size_t i = manifest.layers.size(); i-- > 0;) {
    const auto& r = results.at(config.diff_ids[i]);
    if (!r.ok())
      return absl::Status(r.status().code(),
                          StrCat("Errors happened when pulling image: ", ToStd(r.status().message())));
    out.lower.push_back(*r);
  }
  out.manifest_digest = platform_manifest.digest;
  out.config = std::move(config);
  return out;
}

absl::StatusOr<std::string> ImagePuller::PullInner(std::string_view image_url, std::string_view bundle_path,
                                                   const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(ImageReference requested, ImageReference::Parse(image_url));
  if (!IsCleanAbsolutePath(bundle_path)) {
    return absl::InvalidArgumentError("bundle_path must be an absolute path without `.`, `..`, `,` or `:`");
  }
  std::string bundle(bundle_path);
  std::string config_json = bundle + "/config.json";
  if (fs::exists(config_json)) {
    return absl::FailedPreconditionError("Failed to create bundle: OCI config file already exists");
  }
  CDH_ASSIGN_OR_RETURN(std::vector<PullSource> sources, registries_.SourcesFor(requested));

  // The locations in order; the first that succeeds wins (image-rs image.rs pull_image).
  std::optional<Resolved> resolved;
  std::vector<std::string> failures;
  absl::Status last;
  for (const PullSource& source : sources) {
    auto r = PullFrom(requested, source, ctx);
    if (r.ok()) {
      if (source.kind == PullSource::Kind::kMirror || source.kind == PullSource::Kind::kRemapped) {
        spdlog::info("image: {} pulled from {} ({})", Sanitize(requested.String(), 256),
                     Sanitize(source.reference.String(), 256), KindName(source.kind));
      }
      resolved = *std::move(r);
      break;
    }
    last = r.status();
    failures.push_back(StrCat("image: ", source.reference.String(), ", error: ", ToStd(last.message())));
    if (sources.size() > 1) {
      spdlog::warn("image: pulling {} from {} ({}{}) failed: {}", Sanitize(requested.String(), 256),
                   Sanitize(source.reference.String(), 256), KindName(source.kind),
                   source.plain_http ? ", plain HTTP" : "", Sanitize(ToStd(last.message()), 512));
    }
    // The deadline is the caller's, not the location's: no other location can do better.
    if (last.code() == absl::StatusCode::kDeadlineExceeded || ctx.Expired()) break;
  }
  if (!resolved) {
    return absl::Status(last.code(),
                        StrCat("Failed to pull image ", Sanitize(image_url, 256),
                               " from all mirror/mapping locations or original location: ", StrJoin(failures, "\n")));
  }
  if (ctx.Expired()) return absl::DeadlineExceededError("deadline exceeded");

  // 5. The bundle: rootfs as an overlay of the layers, then config.json.
  std::vector<std::string>& lower = resolved->lower;  // topmost first
  std::error_code ec;
  fs::create_directories(bundle + "/rootfs", ec);
  if (ec) return absl::InternalError(StrCat("Failed to create bundle: ", ec.message()));
  std::string id = crypto::HexEncode(crypto::Sha256(StrCat(bundle, "\n", absl::FormatTime(absl::Now()))));
  std::string overlay = StrCat(store_->work_dir(), "/overlay/", id);
  fs::create_directories(overlay + "/upperdir", ec);
  fs::create_directories(overlay + "/workdir", ec);
  if (lower.empty()) {
    // An image without layers: an empty lower directory.
    fs::create_directories(overlay + "/empty", ec);
    lower.push_back(overlay + "/empty");
  }
  std::string options = "lowerdir=";
  for (size_t i = 0; i < lower.size(); ++i) StrAppend(&options, i ? ":" : "", lower[i]);
  StrAppend(&options, ",upperdir=", overlay, "/upperdir,workdir=", overlay, "/workdir");
  std::string rootfs = bundle + "/rootfs";
  if (mount("overlay", rootfs.c_str(), "overlay", 0, options.c_str()) != 0) {
    int err = errno;
    fs::remove_all(overlay, ec);
    return absl::FailedPreconditionError(
        StrCat("Failed to create bundle: cannot mount the overlay rootfs: ", strerror(err)));
  }
  absl::Status written = WriteFileAtomically(config_json, RuntimeSpecFor(resolved->config));
  if (!written.ok()) {
    umount2(rootfs.c_str(), MNT_DETACH);
    return written;
  }

  // 6. The runtime measurement (spec §1.6).
  if (measurer_ != nullptr) {
    absl::Status measured = measurer_->RecordPull(image_url, resolved->manifest_digest);
    if (!measured.ok()) {
      return absl::Status(
          measured.code(),
          StrCat("Attestation Agent client error: failed to extend runtime measurement: ", ToStd(measured.message())));
    }
  }
  return resolved->manifest_digest.String();
}

}  // namespace cdh::image
