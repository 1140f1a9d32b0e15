// Descriptor: an OCI content descriptor (opencontainers/image-spec, descriptor.md), the shape
// used for manifests, configs and layers. Platform: the `platform` object of an index entry
// (image-index.md). Copyable value types; thread-compatible.
#ifndef CDH_IMAGE_DESCRIPTOR_H_
#define CDH_IMAGE_DESCRIPTOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/digest.h"

namespace cdh::image {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH naming: "amd64", "arm64", "s390x", "ppc64le"
  std::string variant;       // "v8", or empty
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;  // bytes
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;     // foreign-layer locations (never fetched by this CDH)
  std::optional<Platform> platform;  // index entries only
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_DESCRIPTOR_H_
