// OciRegistryClient: RegistryClient over HTTP(S) for one registry (OCI distribution-spec v2,
// "Pull"; image-pull spec §3.2-3.7).
//
// - Scheme: https, or http when the registry is configured `insecure` (spec §2.2: insecure means
//   plain HTTP, nothing else).
// - Authentication (spec §3.6; distribution docs/spec/auth/token.md): a request answered 401
//   with `WWW-Authenticate: Bearer realm=…,service=…` gets a token from the realm for
//   `repository:<repo>:pull` (Basic credentials to the realm when configured, anonymous
//   otherwise) and is retried once with it; tokens are cached per repository until their `exp`
//   (JWT) or `expires_in`, 60 s when neither is known. A `Basic` challenge is answered with the
//   credentials, if any. 401/403 after that is PERMISSION_DENIED "Not authorized: …".
// - Redirects are followed by this class (up to 10 hops; the HTTP client itself never follows);
//   `Authorization` is dropped when a hop leaves the registry's scheme+host+port.
// - Every manifest and blob is checked against its digest before it is returned (see
//   registry_client.h); messages name URLs without query strings and never credentials.
// Thread-safe; neither copyable nor movable.
#ifndef CDH_IMAGE_OCI_REGISTRY_CLIENT_H_
#define CDH_IMAGE_OCI_REGISTRY_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/call_context.h"
#include "http/http_client.h"
#include "image/registry_auth.h"
#include "image/registry_client.h"

namespace cdh::image {

struct OciRegistryClientOptions {
  std::string registry;                            // "host[:port]" as in ImageReference::registry()
  bool plain_http = false;                         // `insecure` registry
  std::optional<RegistryCredentials> credentials;  // from the auth file; nullopt = anonymous
};

class OciRegistryClient : public RegistryClient {
 public:
  // `http` must outlive the client. INVALID_ARGUMENT when `registry` is empty.
  static absl::StatusOr<std::unique_ptr<OciRegistryClient>> New(http::HttpClient& http,
                                                                OciRegistryClientOptions options);
  OciRegistryClient(const OciRegistryClient&) = delete;
  OciRegistryClient& operator=(const OciRegistryClient&) = delete;

  absl::StatusOr<FetchedManifest> GetManifest(const ImageReference& repo, std::string_view tag_or_digest,
                                              const CallContext& ctx) override;
  absl::StatusOr<std::string> GetBlob(const ImageReference& repo, const Digest& digest, int64_t max_bytes,
                                      const CallContext& ctx) override;
  absl::Status StreamBlob(const ImageReference& repo, const Digest& digest, int64_t expected_size, const BlobSink& sink,
                          const CallContext& ctx) override;

  // Tokens fetched from a realm so far (for tests asserting token reuse).
  int token_fetches() const;

 private:
  OciRegistryClient(http::HttpClient& http, OciRegistryClientOptions options)
      : http_(http), options_(std::move(options)) {}

  // One GET with authentication and redirects. With `sink`, a 2xx body goes there.
  absl::StatusOr<http::HttpResponse> Get(const ImageReference& repo, const std::string& path,
                                         std::vector<std::pair<std::string, std::string>> headers,
                                         const http::HttpBodySink* sink, const CallContext& ctx);
  absl::StatusOr<http::HttpResponse> GetFollowingRedirects(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
      const std::optional<SecretBytes>& authorization, const http::HttpBodySink* sink, const CallContext& ctx);
  // Answers a 401 challenge; the Authorization value to retry with, or nullopt (no way to auth).
  absl::StatusOr<std::optional<SecretBytes>> Authenticate(const ImageReference& repo,
                                                          const std::vector<std::string>& challenges,
                                                          const CallContext& ctx);
  std::optional<SecretBytes> CachedAuthorization(const std::string& repository);
  std::string BaseUrl() const;
  SecretBytes BasicAuthorization() const;

  http::HttpClient& http_;
  const OciRegistryClientOptions options_;

  struct CachedToken {
    SecretBytes authorization;  // "Bearer <token>" or "Basic <…>"
    absl::Time expires;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, CachedToken> tokens_ ABSL_GUARDED_BY(mu_);  // by repository
  int token_fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_OCI_REGISTRY_CLIENT_H_
