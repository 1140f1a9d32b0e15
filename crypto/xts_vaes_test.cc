#include "crypto/xts_vaes.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace cdh::crypto::internal {
namespace {

// The kernel's own feature detection (cpuid + XGETBV) agrees with what the Linux kernel reports
// for this CPU in /proc/cpuinfo (which also hides features the OS does not enable).
TEST(XtsVaesTest, FeatureDetectionAgreesWithProcCpuinfo) {
  std::ifstream f("/proc/cpuinfo");
  if (!f) GTEST_SKIP() << "no /proc/cpuinfo";
  std::string line;
  std::set<std::string> flags;
  while (std::getline(f, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) flags.insert(w);
    break;
  }
  ASSERT_FALSE(flags.empty());
  const XtsCpuFeatures& got = DetectXtsCpuFeatures();
  EXPECT_EQ(got.aesni, flags.count("aes") && flags.count("pclmulqdq"));
  EXPECT_EQ(got.avx2, flags.count("avx2") == 1);
  EXPECT_EQ(got.vaes, got.avx2 && flags.count("vaes") && flags.count("vpclmulqdq"));
  EXPECT_EQ(got.avx512, flags.count("avx512f") == 1);
  EXPECT_EQ(CpuSupportsVaesAvx2(), got.aesni && got.avx2 && got.vaes);
}

// New() refuses what it cannot run rather than returning a half-built kernel.
TEST(XtsVaesTest, NewRefusesOtherKeySizes) {
  const uint8_t key[48] = {1};
  EXPECT_EQ(XtsVaesKernel::New(std::span<const uint8_t>(key, 48), true), nullptr);
  EXPECT_EQ(XtsVaesKernel::New(std::span<const uint8_t>(key, 16), false), nullptr);
  if (CpuSupportsVaesAvx2()) {
    EXPECT_NE(XtsVaesKernel::New(std::span<const uint8_t>(key, 32), false), nullptr);
  } else {
    EXPECT_EQ(XtsVaesKernel::New(std::span<const uint8_t>(key, 32), false), nullptr);
  }
}

}  // namespace
}  // namespace cdh::crypto::internal
