// Test fixtures for PullImage with real components (image-pull spec §9): a docker-registry
// process on 127.0.0.1 (no auth, htpasswd basic auth, or Bearer tokens from token_server.py),
// images built from directories with umoci and pushed with skopeo. Reused by the signature-policy
// and ocicrypt tests. Processes are started by the fixture and stopped by PID in its destructor.
// Not thread-safe; one per test.
#ifndef CDH_TESTS_IMAGE_REGISTRY_FIXTURE_H_
#define CDH_TESTS_IMAGE_REGISTRY_FIXTURE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdh::testing {

enum class RegistryAuth { kNone, kHtpasswd, kToken };

// A throw-away test CA and a server certificate it issued for 127.0.0.1 (SAN IP:127.0.0.1,
// CA:FALSE), both ECDSA P-256, made with the openssl command line under `dir`.
struct TestTls {
  std::string ca_pem;     // the CA certificate, PEM text (what a client adds as a trust anchor)
  std::string cert_path;  // the server certificate (PEM file)
  std::string key_path;   // its private key (PEM file)
};
// FAILED_PRECONDITION when openssl is missing; INTERNAL when a command fails.
absl::StatusOr<TestTls> MakeTestTls(const std::string& dir);

class LocalRegistry {
 public:
  static constexpr char kUser[] = "alice";
  static constexpr char kPassword[] = "s3cret";

  // Starts docker-registry with its storage and config under `dir` (created). With kToken the
  // token server starts first; anonymous callers may pull only under `public/`. With `tls` it
  // serves HTTPS only, with that certificate.
  // FAILED_PRECONDITION when docker-registry (or htpasswd/python3) is not installed;
  // UNAVAILABLE when it does not come up within 20 s.
  static absl::StatusOr<std::unique_ptr<LocalRegistry>> Start(const std::string& dir, RegistryAuth auth,
                                                              const TestTls* tls = nullptr);
  ~LocalRegistry();
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;

  // "127.0.0.1:<port>".
  const std::string& host() const { return host_; }
  RegistryAuth auth() const { return auth_; }
  // "alice:s3cret", for skopeo --dest-creds.
  static std::string Creds() { return std::string(kUser) + ":" + kPassword; }
  // A containers-auth.json granting kUser on this registry (image-pull spec §8).
  std::string AuthJson() const;
  const std::string& log_path() const { return log_path_; }

 private:
  LocalRegistry() = default;
  std::string host_;
  std::string log_path_;
  RegistryAuth auth_ = RegistryAuth::kNone;
  pid_t registry_pid_ = -1;
  pid_t token_pid_ = -1;
};

// One layer of a built image: the files of `source_dir` copied over the previous layers' tree
// (cp -a), then `remove` (paths relative to the rootfs) deleted, which umoci records as
// whiteouts.
struct LayerSpec {
  std::string source_dir;
  std::vector<std::string> remove;
};

// Builds images in an OCI layout with umoci (unpack/repack per layer, spec §9.3) and pushes them
// with skopeo (spec §9.4), each with its own blob-info cache under `work_dir` so compressions
// are not reused across tests.
class ImageBuilder {
 public:
  explicit ImageBuilder(std::string work_dir);

  // Image `name` (a tag in the layout) with one layer per spec, bottom first; `config_args` are
  // extra `umoci config` flags, e.g. {"--config.cmd", "/app/run.sh"}.
  absl::Status Build(const std::string& name, const std::vector<LayerSpec>& layers,
                     const std::vector<std::string>& config_args = {});
  // skopeo copy oci:<layout>:<name> docker://<docker_ref>; `extra` e.g. {"--format", "v2s2"},
  // {"--dest-creds", "alice:s3cret"}.
  absl::Status Push(const std::string& name, const std::string& docker_ref, const std::vector<std::string>& extra = {});
  // An OCI image index `name` in the layout listing the images `platform_images` (layout names)
  // with their `platform` ("os/architecture[/variant]"), in that order; push it with
  // Push(name, ref, {"--all"}). Returns the index digest ("sha256:<hex>").
  absl::StatusOr<std::string> BuildIndex(const std::string& name,
                                         const std::vector<std::pair<std::string, std::string>>& platform_images);
  // The digest ("sha256:<hex>") of the manifest that layout name `name` points at.
  absl::StatusOr<std::string> ManifestDigest(const std::string& name);
  // skopeo with this builder's cache environment; returns stdout.
  absl::StatusOr<std::string> Skopeo(const std::vector<std::string>& args);

  std::string layout() const { return work_dir_ + "/oci"; }

 private:
  absl::Status Run(const std::vector<std::string>& argv);
  std::string work_dir_;
  bool initialised_ = false;
};

// Writes a file (and its parent directories) with `mode`; returns its path.
std::string WriteTreeFile(const std::string& root, const std::string& relative, const std::string& content,
                          int mode = 0644);

}  // namespace cdh::testing

#endif  // CDH_TESTS_IMAGE_REGISTRY_FIXTURE_H_
