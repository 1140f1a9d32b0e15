// What the image pull takes from the registry side (image/): byte 0 picks
//   0 the registry configuration ([image.registry_config], registries.conf as JSON,
//     registry_config.h) and the pull sources it yields for a few references;
//   1 the registry credentials file (auth.json, registry_auth.h) and its lookups;
//   2 a registry's HTTP answers to a manifest request (oci_registry_client.h): the rest of the
//     input scripts up to four responses (status, WWW-Authenticate challenge, Location,
//     Content-Type, Docker-Content-Digest, body) served by a FakeHttpClient (no registry runs
//     inside a fuzzer), so the challenge parser, the token answer, redirects and the manifest
//     digest check all see hostile input.
#include <fuzzer/FuzzedDataProvider.h>

#include "common/call_context.h"
#include "common/json.h"
#include "fuzz/fuzz_util.h"
#include "http/fake_http_client.h"
#include "image/oci_registry_client.h"
#include "image/reference.h"
#include "image/registry_auth.h"
#include "image/registry_config.h"

namespace cdh::image {
namespace {

const std::vector<ImageReference>& Images() {
  static const std::vector<ImageReference> images = [] {
    std::vector<ImageReference> out;
    for (const char* text : {"busybox", "docker.io/library/busybox:latest", "quay.io/org/app:v1",
                             "127.0.0.1:5000/fraud/detector:v1", "registry.example/a/b/c:tag"}) {
      out.push_back(std::move(ImageReference::Parse(text)).value());
    }
    return out;
  }();
  return images;
}

void ServeManifest(FuzzedDataProvider& in) {
  static const int kStatuses[] = {200, 401, 307, 302, 404, 500, 429};
  http::FakeHttpClient http;
  OciRegistryClientOptions options;
  options.registry = "127.0.0.1:5000";
  options.plain_http = in.ConsumeBool();
  if (in.ConsumeBool()) options.credentials = RegistryCredentials{"user", SecretBytes::FromString("password")};
  auto client = std::move(OciRegistryClient::New(http, std::move(options))).value();
  const int responses = in.ConsumeIntegralInRange<int>(1, 4);
  for (int i = 0; i < responses; ++i) {
    http::HttpResponse response;
    response.status = kStatuses[in.ConsumeIntegralInRange<size_t>(0, 6)];
    for (const char* name : {"www-authenticate", "location", "content-type", "docker-content-digest"}) {
      if (in.ConsumeBool()) response.headers.emplace_back(name, in.ConsumeRandomLengthString(160));
    }
    response.body = in.ConsumeRandomLengthString(1024);
    http.Answer(std::move(response));
  }
  const ImageReference& repo = Images()[3];
  const std::string tag =
      in.ConsumeBool() ? "v1" : "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
  (void)client->GetManifest(repo, tag, cdh::CallContext{});
}

}  // namespace
}  // namespace cdh::image

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::image;  // NOLINT
  if (size == 0) return 0;
  const std::string_view input = cdh::fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      absl::StatusOr<nlohmann::json> doc = cdh::ParseJson(input, "registry configuration");
      if (!doc.ok()) break;
      absl::StatusOr<RegistryConfig> config = RegistryConfig::FromJson(*doc);
      if (!config.ok()) break;
      for (const ImageReference& image : Images()) {
        (void)config->Match(image.String());
        (void)config->SourcesFor(image);
      }
      break;
    }
    case 1: {
      absl::StatusOr<std::unique_ptr<RegistryAuthFile>> auth =
          RegistryAuthFile::Parse(cdh::SecretBytes::FromString(input));
      if (!auth.ok()) break;
      for (const ImageReference& image : Images()) (void)(*auth)->Lookup(image);
      break;
    }
    case 2: {
      FuzzedDataProvider in(data + 1, size - 1);
      ServeManifest(in);
      break;
    }
  }
  return 0;
}
