// Resource URIs (kbs:///repo/type/tag, kbs://authority/...), parsed from every GetResource
// request and every vault sealed secret's `name`. Property: a parsed URI prints to text that
// parses back to the same URI.
#include "fuzz/fuzz_util.h"
#include "resources/resource_uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = cdh::fuzz::AsView(data, size);
  (void)cdh::resources::ResourceUri::HasKbsScheme(input);
  absl::StatusOr<cdh::resources::ResourceUri> uri = cdh::resources::ResourceUri::Parse(input);
  if (!uri.ok()) return 0;
  const std::string text = uri->ToString();
  absl::StatusOr<cdh::resources::ResourceUri> again = cdh::resources::ResourceUri::Parse(text);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ToString() == text);
  FUZZ_CHECK(again->ResourcePath() == uri->ResourcePath());
  return 0;
}
