// Image references ("registry/repo:tag@sha256:…", PullImage's `image`) and digests. Property:
// a parsed reference or digest prints to text that parses back to the same value.
#include "fuzz/fuzz_util.h"
#include "image/digest.h"
#include "image/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = cdh::fuzz::AsView(data, size);
  absl::StatusOr<cdh::image::ImageReference> ref = cdh::image::ImageReference::Parse(input);
  if (ref.ok()) {
    const std::string text = ref->String();
    absl::StatusOr<cdh::image::ImageReference> again = cdh::image::ImageReference::Parse(text);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->String() == text);
    (void)ref->Name();
    (void)ref->TagOrDigest();
    (void)ref->RegistryHost();
  }
  absl::StatusOr<cdh::image::Digest> digest = cdh::image::Digest::Parse(input);
  if (digest.ok()) {
    absl::StatusOr<cdh::image::Digest> again = cdh::image::Digest::Parse(digest->String());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->String() == digest->String());
  }
  return 0;
}
