// Helpers shared by the fuzz targets (fuzz/README.md). Not a library of the product.
#ifndef CDH_FUZZ_FUZZ_UTIL_H_
#define CDH_FUZZ_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cdh::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace cdh::fuzz

// A property every accepted input must have (a parse of what was printed gives the same value,
// ...). A violation is a finding: it aborts, so libFuzzer saves the input and replay fails.
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#endif  // CDH_FUZZ_FUZZ_UTIL_H_
