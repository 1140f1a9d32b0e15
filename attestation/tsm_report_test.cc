// configfs-tsm: the kernel's semantics are emulated by FakeTsmFs (no TDX/SNP guest kernel here);
// PosixTsmFs is exercised on a real temp directory for the file-level failure cases.
#include "attestation/tsm_report.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include "attestation/fake_tsm_fs.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using absl::StatusCode;

std::string Inblob(char c) { return std::string(kTsmInblobSize, c); }

std::shared_ptr<FakeTsmFs> EchoTdx() {
  return std::make_shared<FakeTsmFs>(
      "tdx_guest", [](std::string_view in) -> absl::StatusOr<std::string> { return "QUOTE:" + std::string(in); });
}

TEST(FakeTsmFsTest, ReproducesKernelSemantics) {
  auto fs = EchoTdx();
  ASSERT_TRUE(fs->MakeEntry("e").ok());
  EXPECT_EQ(*fs->ReadAttribute("e", "provider", 64), "tdx_guest\n");
  EXPECT_EQ(*fs->ReadAttribute("e", "generation", 64), "0\n");
  // outblob before any inblob write: EINVAL.
  EXPECT_THAT(fs->ReadAttribute("e", "outblob", 4096), StatusIs(StatusCode::kInvalidArgument));
  // 65 bytes exceed TSM_REPORT_INBLOB_MAX; tdx_guest wants exactly 64.
  EXPECT_THAT(fs->WriteAttribute("e", "inblob", std::string(65, 'x')), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs->WriteAttribute("e", "inblob", std::string(32, 'x')), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_TRUE(fs->WriteAttribute("e", "inblob", Inblob('a')).ok());
  ASSERT_TRUE(fs->WriteAttribute("e", "inblob", Inblob('b')).ok());
  EXPECT_EQ(*fs->ReadAttribute("e", "generation", 64), "2\n");
  EXPECT_EQ(*fs->ReadAttribute("e", "outblob", 4096), "QUOTE:" + Inblob('b'));
  EXPECT_THAT(fs->ReadAttribute("e", "auxblob", 4096), StatusIs(StatusCode::kNotFound));  // tdx: invisible
  EXPECT_FALSE(fs->WriteAttribute("e", "generation", "5").ok());
  ASSERT_TRUE(fs->RemoveEntry("e").ok());
  EXPECT_EQ(fs->EntryCount(), 0u);
}

TEST(TsmReporterTest, OneEntryPerRequestAndRemoved) {
  auto fs = EchoTdx();
  TsmReporter reporter(fs);
  auto r = reporter.GetReport("tdx_guest", Inblob('q'), false, CallContext{});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->outblob, "QUOTE:" + Inblob('q'));
  EXPECT_FALSE(r->auxblob.has_value());
  EXPECT_EQ(fs->entries_created(), 1);
  EXPECT_EQ(fs->EntryCount(), 0u);
}

TEST(TsmReporterTest, RejectsInblobOfWrongSize) {
  TsmReporter reporter(EchoTdx());
  for (size_t n : {0, 32, 63, 65}) {
    EXPECT_THAT(reporter.GetReport("tdx_guest", std::string(n, 'x'), false, CallContext{}),
                StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(TsmReporterTest, WrongProviderIsFailedPreconditionAndEntryRemoved) {
  auto fs = std::make_shared<FakeTsmFs>(
      "sev_guest", [](std::string_view in) -> absl::StatusOr<std::string> { return std::string(in); });
  TsmReporter reporter(fs);
  auto r = reporter.GetReport("tdx_guest", Inblob('q'), false, CallContext{});
  EXPECT_THAT(r, StatusIs(StatusCode::kFailedPrecondition, "sev_guest"));
  EXPECT_EQ(fs->EntryCount(), 0u);
}

TEST(TsmReporterTest, GenerationRaceRetriesOnFreshEntry) {
  auto fs = EchoTdx();
  fs->SetForeignWrites(1);  // someone writes into our first entry right after us
  TsmReporter reporter(fs);
  auto r = reporter.GetReport("tdx_guest", Inblob('m'), false, CallContext{});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->outblob, "QUOTE:" + Inblob('m'));  // never the foreign writer's quote
  EXPECT_EQ(fs->entries_created(), 2);
  EXPECT_EQ(fs->EntryCount(), 0u);
}

TEST(TsmReporterTest, PersistentRaceGivesUpAfterBoundedAttempts) {
  auto fs = EchoTdx();
  fs->SetForeignWrites(100);
  TsmReporter reporter(fs);
  auto r = reporter.GetReport("tdx_guest", Inblob('m'), false, CallContext{});
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(fs->entries_created(), TsmReporter::kMaxAttempts);
  EXPECT_EQ(fs->EntryCount(), 0u);
}

TEST(TsmReporterTest, ConcurrentRequestsGetTheirOwnQuotes) {
  auto fs = EchoTdx();
  TsmReporter reporter(fs);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string in = Inblob(static_cast<char>('A' + t));
        auto r = reporter.GetReport("tdx_guest", in, false, CallContext::WithTimeout(absl::Seconds(30)));
        if (!r.ok() || r->outblob != "QUOTE:" + in) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(fs->WaitForNoEntries(absl::Seconds(5)));
}

// A quote source that never answers.
TEST(TsmReporterTest, HungQuoteServiceTimesOutAndCleansUpLater) {
  auto fs = EchoTdx();
  fs->SetOutblobHangs(true);
  TsmReporter reporter(fs);
  absl::Time start = absl::Now();
  auto r = reporter.GetReport("tdx_guest", Inblob('h'), false, CallContext::WithTimeout(absl::Milliseconds(200)));
  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(fs->EntryCount(), 1u);  // the abandoned request still holds its entry...
  fs->ReleaseHangs();
  EXPECT_TRUE(fs->WaitForNoEntries(absl::Seconds(10)));  // ...and removes it once the kernel answers
}

// A caller without a deadline still gets an answer (the reporter's default timeout).
TEST(TsmReporterTest, NoCallerDeadlineUsesTheDefaultTimeout) {
  auto fs = EchoTdx();
  fs->SetOutblobHangs(true);
  TsmReporter reporter(fs, absl::Milliseconds(100));
  EXPECT_THAT(reporter.GetReport("tdx_guest", Inblob('h'), false, CallContext{}),
              StatusIs(StatusCode::kDeadlineExceeded));
  fs->ReleaseHangs();
  EXPECT_TRUE(fs->WaitForNoEntries(absl::Seconds(10)));
}

// An outblob holding more than the limit is refused, whatever size the file system announced.
TEST(TsmReporterTest, OversizeOutblobRejected) {
  auto fs = std::make_shared<FakeTsmFs>("tdx_guest", [](std::string_view) -> absl::StatusOr<std::string> {
    return std::string(kTsmMaxBlobSize + 1, 'q');
  });
  TsmReporter reporter(fs);
  auto r = reporter.GetReport("tdx_guest", Inblob('s'), false, CallContext{});
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted, "holds more than")) << r.status();
  EXPECT_EQ(fs->EntryCount(), 0u);
}

// EIO from outblob names the path.
TEST(TsmReporterTest, OutblobEioNamesThePath) {
  auto fs = EchoTdx();
  fs->SetOutblobEio(true);
  TsmReporter reporter(fs);
  auto r = reporter.GetReport("tdx_guest", Inblob('e'), false, CallContext{});
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, "/outblob")) << r.status();
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("Input/output error"));
  EXPECT_EQ(fs->EntryCount(), 0u);
}

TEST(TsmReporterTest, EmptyOutblobIsUnavailable) {  // guest-components#823
  auto fs = std::make_shared<FakeTsmFs>("tdx_guest",
                                        [](std::string_view) -> absl::StatusOr<std::string> { return std::string(); });
  TsmReporter reporter(fs);
  EXPECT_THAT(reporter.GetReport("tdx_guest", Inblob('e'), false, CallContext{}), StatusIs(StatusCode::kUnavailable));
}

TEST(TsmReporterTest, MissingRootAndNoProvider) {
  auto fs = EchoTdx();
  TsmReporter reporter(fs);
  fs->SetRootMissing(true);
  EXPECT_THAT(reporter.GetReport("tdx_guest", Inblob('x'), false, CallContext{}), StatusIs(StatusCode::kNotFound));
  fs->SetRootMissing(false);
  fs->SetNoProvider(true);
  EXPECT_THAT(reporter.ProbeProvider(CallContext{}), StatusIs(StatusCode::kUnavailable));
  fs->SetNoProvider(false);
  EXPECT_EQ(*reporter.ProbeProvider(CallContext{}), "tdx_guest");
  EXPECT_EQ(fs->EntryCount(), 0u);
}

TEST(TsmReporterTest, SevAuxblobReturned) {
  auto fs = std::make_shared<FakeTsmFs>(
      "sev_guest", [](std::string_view in) -> absl::StatusOr<std::string> { return std::string(in); },
      [](std::string_view) -> absl::StatusOr<std::string> { return std::string("CERTS"); });
  TsmReporter reporter(fs);
  auto r = reporter.GetReport("sev_guest", Inblob('v'), true, CallContext{});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->auxblob.value_or(""), "CERTS");
}

TEST(ParseTsmDecimalTest, Table) {
  EXPECT_EQ(*ParseTsmDecimal("0\n"), 0u);
  EXPECT_EQ(*ParseTsmDecimal("17"), 17u);
  for (const char* bad : {"", "\n", "-1", "1x", "99999999999999999999"}) EXPECT_FALSE(ParseTsmDecimal(bad).ok()) << bad;
}

// PosixTsmFs on a real directory: the file-level failure cases (configfs itself needs a TEE kernel).
TEST(PosixTsmFsTest, LimitAppliesToTheBytesRead) {
  testing::TempDir dir;
  PosixTsmFs fs(dir.path());
  ASSERT_TRUE(fs.MakeEntry("e").ok());
  std::string path = dir.path() + "/e/outblob";
  ASSERT_EQ(::truncate(dir.Write("e/outblob", "").c_str(), 0x81000000), 0);  // sparse: nothing allocated
  auto r = fs.ReadAttribute("e", "outblob", kTsmMaxBlobSize);
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted, path));
}

TEST(PosixTsmFsTest, EioNamesThePath) {
  testing::TempDir dir;
  PosixTsmFs fs(dir.path());
  ASSERT_TRUE(fs.MakeEntry("e").ok());
  // Reading /proc/self/mem at offset 0 fails with EIO: a real EIO from a real read(2).
  ASSERT_EQ(::symlink("/proc/self/mem", (dir.path() + "/e/outblob").c_str()), 0);
  auto r = fs.ReadAttribute("e", "outblob", kTsmMaxBlobSize);
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, dir.path() + "/e/outblob")) << r.status();
  ::unlink((dir.path() + "/e/outblob").c_str());
  EXPECT_TRUE(fs.RemoveEntry("e").ok());
  EXPECT_THAT(fs.RemoveEntry("e"), StatusIs(StatusCode::kNotFound));
}

TEST(PosixTsmFsTest, MissingRootIsNotFound) {
  PosixTsmFs fs("/nonexistent/tsm/report");
  EXPECT_THAT(fs.MakeEntry("e"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace cdh::attestation
