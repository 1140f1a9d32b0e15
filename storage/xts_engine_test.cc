#include "storage/xts_engine.h"

#include <random>
#include <thread>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "storage/aligned_buffer.h"
#include "storage/testing/luks_image.h"

namespace cdh::storage {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

SecretBytes TestKey(size_t n) {
  SecretBytes k(n);
  for (size_t i = 0; i < n; ++i) k.RevealMutable()[i] = static_cast<uint8_t>(i * 13 + 5);
  return k;
}

std::vector<uint8_t> RandomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// The engine's slicing across threads must not change a single byte: compare 2- and 3-thread
// engines against the single-sector reference, for both sector sizes and odd sector counts.
TEST(XtsEngineTest, ThreadedResultEqualsPerSectorReference) {
  const SecretBytes key = TestKey(64);
  for (size_t ss : {512u, 4096u}) {
    for (unsigned threads : {1u, 2u, 3u}) {
      SCOPED_TRACE(::testing::Message() << "sector " << ss << " threads " << threads);
      auto engine = XtsEngine::New(key, {.sector_size = ss, .threads = threads, .min_parallel_bytes = 4096});
      ASSERT_THAT(engine, IsOk());
      const size_t sectors = 257;
      auto data = RandomData(sectors * ss, ss + threads);
      std::vector<uint8_t> ct(data.size()), ref(data.size());
      ASSERT_TRUE((*engine)->Encrypt(1000, data, ct).ok());
      ASSERT_TRUE(crypto::XtsCryptSectorsRekeyingEachSectorForTest(key, crypto::XtsDirection::kEncrypt, data, ref, ss,
                                                                   1000 * (ss / 512), ss / 512)
                      .ok());
      EXPECT_EQ(ct, ref);
      ASSERT_TRUE((*engine)->Decrypt(1000, ct, ct).ok());  // in place
      EXPECT_EQ(ct, data);
    }
  }
}

TEST(XtsEngineTest, ConcurrentCallersShareOneEngine) {
  auto engine = XtsEngine::New(TestKey(64), {.sector_size = 4096, .threads = 2, .min_parallel_bytes = 8192});
  ASSERT_THAT(engine, IsOk());
  auto data = RandomData(64 * 4096, 1);
  std::vector<uint8_t> expected(data.size());
  ASSERT_TRUE((*engine)->Encrypt(5, data, expected).ok());
  std::vector<std::thread> callers;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      std::vector<uint8_t> out(data.size());
      bool all = true;
      for (int i = 0; i < 20; ++i) all = all && (*engine)->Encrypt(5, data, out).ok() && out == expected;
      ok[t] = all;
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
}

TEST(XtsEngineTest, RejectsBadArguments) {
  EXPECT_THAT(XtsEngine::New(TestKey(64), {.sector_size = 1024}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(XtsEngine::New(TestKey(64), {.threads = 0}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(XtsEngine::New(TestKey(40), {}), StatusIs(absl::StatusCode::kInvalidArgument));
  auto engine = XtsEngine::New(TestKey(64), {.sector_size = 4096});
  ASSERT_THAT(engine, IsOk());
  std::vector<uint8_t> a(4096 + 512), b(4096 + 512);
  EXPECT_THAT((*engine)->Decrypt(0, a, b), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<uint8_t> c(4096), d(4096);
  EXPECT_THAT((*engine)->Decrypt(UINT64_MAX / 8, c, d), StatusIs(absl::StatusCode::kInvalidArgument));
}

// FillAndDecrypt gives the bytes Decrypt gives, whatever the thread count, chunk size and
// request size (one chunk, exact multiples, a short last chunk), and calls `fill` once per chunk,
// in order, covering the request exactly.
TEST(XtsEngineTest, FillAndDecryptEqualsDecryptAndFillsEachChunkOnceInOrder) {
  const SecretBytes key = TestKey(64);
  for (size_t ss : {512u, 4096u}) {
    for (unsigned threads : {1u, 2u, 3u}) {
      for (size_t chunk_sectors : {1u, 3u, 16u}) {
        auto engine = XtsEngine::New(key, {.sector_size = ss,
                                           .threads = threads,
                                           .min_parallel_bytes = 4096,
                                           .pipeline_chunk_bytes = chunk_sectors * ss});
        ASSERT_THAT(engine, IsOk());
        for (size_t sectors : {1u, 2u, 7u, 48u, 53u}) {
          SCOPED_TRACE(::testing::Message() << "sector " << ss << " threads " << threads << " chunk " << chunk_sectors
                                            << " sectors " << sectors);
          const auto ct = RandomData(sectors * ss, sectors + ss + threads);
          std::vector<uint8_t> want(ct.size());
          ASSERT_TRUE((*engine)->Decrypt(1 << 20, ct, want).ok());
          std::vector<uint8_t> got(ct.size(), 0);
          std::vector<std::pair<size_t, size_t>> calls;
          ASSERT_TRUE((*engine)
                          ->FillAndDecrypt(1 << 20, got,
                                           [&](size_t off, std::span<uint8_t> chunk) {
                                             calls.emplace_back(off, chunk.size());
                                             std::copy_n(ct.begin() + off, chunk.size(), chunk.begin());
                                             return absl::OkStatus();
                                           })
                          .ok());
          EXPECT_EQ(got, want);
          size_t next = 0;
          for (auto [off, len] : calls) {
            EXPECT_EQ(off, next);
            EXPECT_GT(len, 0u);
            EXPECT_EQ(len % ss, 0u);
            next = off + len;
          }
          EXPECT_EQ(next, ct.size());
        }
      }
    }
  }
}

// A failing fill (a pread error) ends the request with that status: no later fill call, and the
// chunks already queued are drained before the call returns.
TEST(XtsEngineTest, FillAndDecryptStopsAtTheFirstFillError) {
  auto engine = XtsEngine::New(TestKey(64), {.sector_size = 4096, .threads = 2, .pipeline_chunk_bytes = 8192});
  ASSERT_THAT(engine, IsOk());
  std::vector<uint8_t> buf(64 * 4096);
  int calls = 0;
  const absl::Status s = (*engine)->FillAndDecrypt(0, buf, [&](size_t off, std::span<uint8_t>) {
    ++calls;
    return off >= 5 * 8192 ? absl::UnavailableError("device gone") : absl::OkStatus();
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(calls, 6);
  // The engine still works afterwards.
  EXPECT_TRUE((*engine)->FillAndDecrypt(0, buf, [](size_t, std::span<uint8_t>) { return absl::OkStatus(); }).ok());
}

TEST(XtsEngineTest, FillAndDecryptRejectsBadArguments) {
  EXPECT_THAT(XtsEngine::New(TestKey(64), {.sector_size = 4096, .pipeline_chunk_bytes = 6144}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(XtsEngine::New(TestKey(64), {.sector_size = 512, .pipeline_chunk_bytes = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto engine = XtsEngine::New(TestKey(64), {.sector_size = 4096, .threads = 2});
  ASSERT_THAT(engine, IsOk());
  std::vector<uint8_t> a(4096 + 512);
  int calls = 0;
  auto fill = [&](size_t, std::span<uint8_t>) {
    ++calls;
    return absl::OkStatus();
  };
  EXPECT_THAT((*engine)->FillAndDecrypt(0, a, fill), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<uint8_t> c(4096);
  EXPECT_THAT((*engine)->FillAndDecrypt(UINT64_MAX / 8, c, fill), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(calls, 0);
}

TEST(AlignedBufferTest, AlignmentAndMove) {
  auto small = AlignedBuffer::Allocate(5000);
  auto big = AlignedBuffer::Allocate(3 << 20);
  ASSERT_TRUE(small.ok() && big.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small->data()) % 4096, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big->data()) % (2 << 20), 0u);
  big->data()[(3 << 20) - 1] = 7;
  AlignedBuffer moved = std::move(*big);
  EXPECT_EQ(moved.data()[(3 << 20) - 1], 7);
  EXPECT_EQ(big->data(), nullptr);
  EXPECT_THAT(AlignedBuffer::Allocate(0), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Real data from the real tool: `cryptsetup reencrypt --encrypt` wrote the data segment; the
// engine with the volume key `luksDump --dump-volume-key` prints must give back the plaintext.
TEST(XtsEngineTest, DecryptsDataSegmentsMadeByCryptsetup) {
  testutil::TempDir dir;
  struct Case {
    size_t sector;
    size_t key_bits;
  };
  for (Case c : {Case{512, 512}, Case{4096, 512}, Case{4096, 256}}) {
    SCOPED_TRACE(::testing::Message() << "sector " << c.sector << " key bits " << c.key_bits);
    auto img = testutil::MakeLuksImage(dir, "img" + std::to_string(c.sector) + "_" + std::to_string(c.key_bits),
                                       {.plaintext_bytes = 2 << 20, .sector_size = c.sector, .key_bits = c.key_bits});
    ASSERT_THAT(img, IsOk());
    EXPECT_EQ(img->data_offset, 16u << 20);
    auto ct = testutil::ReadAt(img->path, img->data_offset, img->plaintext.size());
    ASSERT_THAT(ct, IsOk());
    EXPECT_NE(*ct, img->plaintext);
    auto engine = XtsEngine::New(img->volume_key, {.sector_size = c.sector, .threads = 2});
    ASSERT_THAT(engine, IsOk());
    std::vector<uint8_t> pt(ct->size());
    ASSERT_TRUE((*engine)->Decrypt(0, *ct, pt).ok());
    EXPECT_TRUE(pt == img->plaintext);
    // A read starting mid-segment uses that sector's number.
    const size_t k = 37;
    std::vector<uint8_t> one(c.sector);
    ASSERT_TRUE((*engine)->Decrypt(k, std::span<const uint8_t>(ct->data() + k * c.sector, c.sector), one).ok());
    EXPECT_TRUE(std::equal(one.begin(), one.end(), img->plaintext.begin() + k * c.sector));
  }
}

}  // namespace
}  // namespace cdh::storage
