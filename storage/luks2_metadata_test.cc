// LUKS2 metadata validation and volume-key recovery against real `cryptsetup`-made images, and
// hostile headers made by editing those images' JSON (with valid checksums, as a host would).
#include "storage/luks2_metadata.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "absl/time/clock.h"
#include "common/json.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"
#include "storage/luks2_keyslots.h"
#include "storage/testing/luks_image.h"

namespace cdh::storage {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using nlohmann::json;
using testutil::LuksImage;
using testutil::MakeLuksImage;
using testutil::TempDir;

absl::StatusOr<Luks2Metadata> ReadFromFile(const std::string& path, const Luks2Limits& limits = {}) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(path);
  const off_t size = lseek(fd, 0, SEEK_END);
  auto md = ReadLuks2Metadata(fd, static_cast<uint64_t>(size), /*detached=*/false, limits);
  close(fd);
  return md;
}

class Luks2Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto a = MakeLuksImage(*dir_, "pbkdf2_512", {.plaintext_bytes = 1 << 20, .sector_size = 512});
    auto b = MakeLuksImage(*dir_, "argon2id_4096",
                           {.plaintext_bytes = 1 << 20, .sector_size = 4096, .pbkdf = "argon2id", .extra_keyslots = 2});
    auto c = MakeLuksImage(*dir_, "argon2i_256", {.plaintext_bytes = 1 << 20, .pbkdf = "argon2i", .key_bits = 256});
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    ASSERT_THAT(c, IsOk());
    pbkdf2_ = new LuksImage(std::move(*a));
    argon_ = new LuksImage(std::move(*b));
    argon_i_ = new LuksImage(std::move(*c));
  }
  static void TearDownTestSuite() {
    delete pbkdf2_;
    delete argon_;
    delete argon_i_;
    delete dir_;
  }

  static std::string Edited(const Luks2Metadata& md, const std::function<void(json&)>& edit, bool primary = true,
                            bool secondary = true) {
    return testutil::EditLuks2Json(md.bytes, md.hdr_size, edit, primary, secondary);
  }

  static uint64_t DeviceSize(const LuksImage& img) { return static_cast<uint64_t>(img.plaintext.size() + (32u << 20)); }

  static TempDir* dir_;
  static LuksImage* pbkdf2_;
  static LuksImage* argon_;
  static LuksImage* argon_i_;
};
TempDir* Luks2Test::dir_;
LuksImage* Luks2Test::pbkdf2_;
LuksImage* Luks2Test::argon_;
LuksImage* Luks2Test::argon_i_;

TEST_F(Luks2Test, ReadsCryptsetupImagesAndRecoversTheDumpedVolumeKey) {
  struct Case {
    const LuksImage* img;
    uint32_t sector;
    uint32_t key;
    int slots;
  };
  for (Case c : {Case{pbkdf2_, 512, 64, 1}, Case{argon_, 4096, 64, 3}, Case{argon_i_, 512, 32, 1}}) {
    SCOPED_TRACE(c.img->path);
    auto md = ReadFromFile(c.img->path);
    ASSERT_THAT(md, IsOk());
    EXPECT_EQ(md->sector_size, c.sector);
    EXPECT_EQ(md->key_size, c.key);
    EXPECT_EQ(md->keyslots, c.slots);
    EXPECT_EQ(md->data_offset, c.img->data_offset);
    EXPECT_FALSE(md->data_size.has_value());  // "dynamic"
    EXPECT_EQ(md->bytes.size(), 2 * md->hdr_size + md->keyslots_size);
    for (const std::string& pass : c.img->passphrases) {  // every keyslot opens
      auto vk = RecoverVolumeKey(*md, SecretBytes::FromString(pass));
      ASSERT_THAT(vk, IsOk());
      EXPECT_TRUE(vk->Equals(c.img->volume_key.Reveal()));
    }
    EXPECT_THAT(RecoverVolumeKey(*md, SecretBytes::FromString("wrong")), StatusIs(absl::StatusCode::kPermissionDenied));
  }
}

// After validation, the disk changes under us (here: the header is wiped); the key still comes
// from the validated copy, and a fresh read refuses the disk.
TEST_F(Luks2Test, UsesTheValidatedCopyNotTheDisk) {
  TempDir dir;
  auto img = MakeLuksImage(dir, "swap", {.plaintext_bytes = 1 << 20});
  ASSERT_THAT(img, IsOk());
  auto md = ReadFromFile(img->path);
  ASSERT_THAT(md, IsOk());
  {
    int fd = open(img->path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::string zeros(md->bytes.size(), '\0');
    ASSERT_EQ(pwrite(fd, zeros.data(), zeros.size(), 0), static_cast<ssize_t>(zeros.size()));
    close(fd);
  }
  auto vk = RecoverVolumeKey(*md, SecretBytes::FromString(img->passphrase));
  ASSERT_THAT(vk, IsOk());
  EXPECT_TRUE(vk->Equals(img->volume_key.Reveal()));
  EXPECT_THAT(ReadFromFile(img->path), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A deadline that has passed stops the unlock before any keyslot's KDF runs; the KDF that is
// running when a deadline passes runs to its end (libcryptsetup cannot stop it), and no further
// keyslot is tried.
TEST_F(Luks2Test, PassedDeadlineStopsBeforeTheNextKdf) {
  auto md = ReadFromFile(pbkdf2_->path);
  ASSERT_THAT(md, IsOk());
  auto vk = RecoverVolumeKey(*md, SecretBytes::FromString(pbkdf2_->passphrase), absl::Now() - absl::Seconds(1));
  EXPECT_THAT(vk, StatusIs(absl::StatusCode::kDeadlineExceeded, "0 keyslots tried"));
  EXPECT_THAT(RecoverVolumeKey(*md, SecretBytes::FromString(pbkdf2_->passphrase), absl::Now() + absl::Seconds(60)),
              IsOk());
}

TEST_F(Luks2Test, IdentityEditStillValidatesAndUnlocks) {
  // Guards the hostile cases below: our re-serialisation alone is not what makes them fail.
  auto md = ReadFromFile(pbkdf2_->path);
  ASSERT_THAT(md, IsOk());
  auto again = ParseLuks2Metadata(Edited(*md, [](json&) {}), DeviceSize(*pbkdf2_), false, {});
  ASSERT_THAT(again, IsOk());
  auto vk = RecoverVolumeKey(*again, SecretBytes::FromString(pbkdf2_->passphrase));
  ASSERT_THAT(vk, IsOk());
  EXPECT_TRUE(vk->Equals(pbkdf2_->volume_key.Reveal()));
}

struct Hostile {
  const char* name;
  std::function<void(json&)> edit;
  const char* expect_in_message;
};

TEST_F(Luks2Test, HostileHeadersAreRefused) {
  auto md = ReadFromFile(argon_->path);
  ASSERT_THAT(md, IsOk());
  const uint64_t dev = DeviceSize(*argon_);
  const std::vector<Hostile> cases = {
      // Null cipher on the data segment or on a keyslot.
      {"null segment cipher", [](json& j) { j["segments"]["0"]["encryption"] = "cipher_null-ecb"; },
       "segments.0.encryption"},
      {"aes-cbc segment", [](json& j) { j["segments"]["0"]["encryption"] = "aes-cbc-essiv:sha256"; },
       "segments.0.encryption"},
      {"null keyslot cipher", [](json& j) { j["keyslots"]["1"]["area"]["encryption"] = "cipher_null-ecb"; },
       "keyslots.1.area.encryption"},
      {"integrity segment without journal fields",
       [](json& j) {
         j["segments"]["0"]["integrity"] = {{"type", "hmac(sha256)"}};
       },
       "integrity"},
      {"integrity crc32c",
       [](json& j) {
         j["segments"]["0"]["integrity"] = {
             {"type", "crc32c"}, {"journal_encryption", "none"}, {"journal_integrity", "none"}};
       },
       "integrity.type"},
      {"integrity aead",
       [](json& j) {
         j["segments"]["0"]["integrity"] = {
             {"type", "aead"}, {"journal_encryption", "none"}, {"journal_integrity", "none"}};
       },
       "integrity.type"},
      {"integrity journal encrypted",
       [](json& j) {
         j["segments"]["0"]["integrity"] = {
             {"type", "hmac(sha256)"}, {"journal_encryption", "cbc(aes)"}, {"journal_integrity", "none"}};
       },
       "journal"},
      {"integrity extra member",
       [](json& j) {
         j["segments"]["0"]["integrity"] = {
             {"type", "hmac(sha256)"}, {"journal_encryption", "none"}, {"journal_integrity", "none"}, {"key_size", 0}};
       },
       "unknown members"},
      {"integrity not an object", [](json& j) { j["segments"]["0"]["integrity"] = "hmac(sha256)"; }, "integrity"},
      {"key size 96 without integrity",
       [](json& j) {
         uint64_t off = 32768;
         for (auto& [id, ks] : j["keyslots"].items()) {
           ks["key_size"] = 96;
           ks["area"]["offset"] = std::to_string(off);
           ks["area"]["size"] = "389120";
           off += 389120;
         }
       },
       "without integrity"},
      {"key size 48", [](json& j) { j["keyslots"]["0"]["key_size"] = 48; }, "key_size"},
      {"sector size 1024", [](json& j) { j["segments"]["0"]["sector_size"] = 1024; }, "sector_size"},
      {"second segment", [](json& j) { j["segments"]["1"] = j["segments"]["0"]; }, "exactly one segment"},
      {"linear segment", [](json& j) { j["segments"]["0"]["type"] = "linear"; }, "segments.0.type"},
      {"iv tweak", [](json& j) { j["segments"]["0"]["iv_tweak"] = "7"; }, "iv_tweak"},
      // Segment overflow.
      {"segment past device", [dev](json& j) { j["segments"]["0"]["size"] = std::to_string(dev); }, "does not fit"},
      {"segment size u64 max", [](json& j) { j["segments"]["0"]["size"] = "18446744073709551615"; }, "segments.0"},
      {"segment size overflowing u64", [](json& j) { j["segments"]["0"]["size"] = "99999999999999999999"; },
       "segments.0.size"},
      {"segment offset in metadata", [](json& j) { j["segments"]["0"]["offset"] = "4096"; }, "overlaps the metadata"},
      {"segment offset past end", [dev](json& j) { j["segments"]["0"]["offset"] = std::to_string(dev + 4096); },
       "past the end"},
      // Keyslot area bounds.
      {"area offset 0", [](json& j) { j["keyslots"]["0"]["area"]["offset"] = "0"; }, "outside the keyslot region"},
      {"area past region", [](json& j) { j["keyslots"]["0"]["area"]["offset"] = "536870912"; },
       "outside the keyslot region"},
      {"area size huge", [](json& j) { j["keyslots"]["0"]["area"]["size"] = "18446744073709547520"; },
       "outside the keyslot region"},
      {"area too small for stripes", [](json& j) { j["keyslots"]["0"]["area"]["size"] = "4096"; },
       "key_size * stripes"},
      {"stripes changed", [](json& j) { j["keyslots"]["0"]["af"]["stripes"] = 1; }, "stripes"},
      {"areas overlap", [](json& j) { j["keyslots"]["1"]["area"]["offset"] = j["keyslots"]["0"]["area"]["offset"]; },
       "overlap"},
      // KDF cost bombs.
      {"argon2 4 GiB", [](json& j) { j["keyslots"]["0"]["kdf"]["memory"] = 4194304; }, "memory"},
      {"argon2 time 1000", [](json& j) { j["keyslots"]["0"]["kdf"]["time"] = 1000; }, "time"},
      {"argon2 cpus 64", [](json& j) { j["keyslots"]["0"]["kdf"]["cpus"] = 64; }, "cpus"},
      {"pbkdf2 2^31",
       [](json& j) {
         j["keyslots"]["0"]["kdf"] = {
             {"type", "pbkdf2"}, {"hash", "sha256"}, {"iterations", 2147483648u}, {"salt", "AAAA"}};
       },
       "iterations"},
      {"digest iterations 2^31", [](json& j) { j["digests"]["0"]["iterations"] = 2147483648u; }, "iterations"},
      {"unknown kdf", [](json& j) { j["keyslots"]["0"]["kdf"]["type"] = "scrypt"; }, "kdf.type"},
      // Structure.
      {"reencrypt requirement",
       [](json& j) {
         j["config"]["requirements"] = {{"mandatory", {"online-reencrypt-v2"}}};
       },
       "mandatory"},
      {"keyslots_size huge", [](json& j) { j["config"]["keyslots_size"] = "1099511627776"; }, "keyslots_size"},
      {"digest unknown keyslot", [](json& j) { j["digests"]["0"]["keyslots"] = {"9"}; }, "unknown keyslot"},
      {"offset as number", [](json& j) { j["segments"]["0"]["offset"] = 16777216; }, "decimal string"},
      {"negative offset", [](json& j) { j["segments"]["0"]["offset"] = "-1"; }, "not a valid number"},
      {"keyslot id",
       [](json& j) {
         j["keyslots"]["01"] = j["keyslots"]["0"];
         j["keyslots"].erase("0");
       },
       "id"},
  };
  for (const Hostile& h : cases) {
    SCOPED_TRACE(h.name);
    auto r = ParseLuks2Metadata(Edited(*md, h.edit), dev, false, {});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, h.expect_in_message)) << r.status();
  }
}

// What `cryptsetup luksFormat --integrity hmac-sha256` writes (the guest tests format real ones):
// the volume key is the AES-XTS key followed by the 32-byte HMAC key.
TEST_F(Luks2Test, IntegritySegmentsAsCryptsetupWritesThemAreAccepted) {
  const json integrity = {{"type", "hmac(sha256)"}, {"journal_encryption", "none"}, {"journal_integrity", "none"}};
  auto md = ReadFromFile(argon_->path);  // 64-byte keys: AES-128-XTS + HMAC once edited
  ASSERT_THAT(md, IsOk());
  auto r = ParseLuks2Metadata(Edited(*md, [&](json& j) { j["segments"]["0"]["integrity"] = integrity; }),
                              DeviceSize(*argon_), false, {});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->integrity, "hmac(sha256)");
  EXPECT_EQ(r->integrity_key_size, 32u);
  EXPECT_EQ(r->key_size, 64u);
  // 96-byte keys (AES-256-XTS + HMAC, upstream's format) with keyslot areas large enough.
  auto big = ParseLuks2Metadata(Edited(*md,
                                       [&](json& j) {
                                         j["segments"]["0"]["integrity"] = integrity;
                                         uint64_t off = 32768;
                                         for (auto& [id, ks] : j["keyslots"].items()) {
                                           ks["key_size"] = 96;
                                           ks["area"]["offset"] = std::to_string(off);
                                           ks["area"]["size"] = "389120";
                                           off += 389120;
                                         }
                                       }),
                                DeviceSize(*argon_), false, {});
  ASSERT_THAT(big, IsOk());
  EXPECT_EQ(big->key_size, 96u);
  // A 32-byte key leaves no AES-XTS key next to the HMAC key.
  auto small = ReadFromFile(argon_i_->path);
  ASSERT_THAT(small, IsOk());
  auto bad = ParseLuks2Metadata(Edited(*small, [&](json& j) { j["segments"]["0"]["integrity"] = integrity; }),
                                DeviceSize(*argon_i_), false, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument, "with integrity")) << bad.status();
}

TEST_F(Luks2Test, MismatchedCopiesTruncationAndBitFlipsAreRefused) {
  auto md = ReadFromFile(pbkdf2_->path);
  ASSERT_THAT(md, IsOk());
  const uint64_t dev = DeviceSize(*pbkdf2_);
  auto code = [&](std::string region) { return ParseLuks2Metadata(std::move(region), dev, false, {}).status(); };
  // Only the secondary copy edited (its checksum valid): the copies disagree.
  auto s = code(Edited(
      *md, [](json& j) { j["segments"]["0"]["encryption"] = "cipher_null-ecb"; }, false, true));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "differ")) << s;
  // Only the primary edited, to something that is allowed: still refused.
  s = code(Edited(
      *md, [](json& j) { j["keyslots"]["0"]["priority"] = 2; }, true, false));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("differ")) << s;
  // Bit flips in the binary header, the JSON area, the secondary copy.
  for (size_t off :
       {size_t{7}, size_t{8}, size_t{300}, size_t{4096 + 10}, size_t{md->hdr_size + 4100}, size_t{md->hdr_size + 1}}) {
    std::string r = md->bytes;
    r[off] ^= 0x01;
    EXPECT_THAT(code(r), StatusIs(absl::StatusCode::kInvalidArgument)) << "flip at " << off;
  }
  // Truncated regions.
  for (size_t len : {size_t{0}, size_t{100}, size_t{4096}, size_t{md->hdr_size}, md->bytes.size() - 1}) {
    EXPECT_THAT(code(md->bytes.substr(0, len)), StatusIs(absl::StatusCode::kInvalidArgument)) << "length " << len;
  }
  // Bytes hidden after the JSON text.
  std::string hidden = md->bytes;
  hidden[md->hdr_size - 10] = 'x';
  EXPECT_THAT(code(hidden), StatusIs(absl::StatusCode::kInvalidArgument));
  // A duplicate key (valid checksums): which copy wins differs between parsers.
  {
    const std::string from = "\"encryption\":\"aes-xts-plain64\",\"iv_tweak\"";
    const std::string dup = "\"encryption\":\"cipher_null-ecb\",\"encryption\":\"aes-xts-plain64\",\"iv_tweak\"";
    std::string edited = testutil::EditLuks2Json(md->bytes, md->hdr_size, [](json&) {});  // canonical text
    for (size_t off : {size_t{0}, size_t{md->hdr_size}}) {
      std::string area = edited.substr(off + 4096, md->hdr_size - 4096);
      const size_t p = area.find(from);
      ASSERT_NE(p, std::string::npos);
      area.replace(p, from.size(), dup);
      area.resize(md->hdr_size - 4096, '\0');
      edited.replace(off + 4096, md->hdr_size - 4096, area);
      std::string copy = edited.substr(off, md->hdr_size);
      std::memset(copy.data() + 448, 0, 64);
      edited.replace(off + 448, 32, crypto::Sha256(copy));
    }
    s = code(edited);
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("duplicate key")) << s;
  }
  // Not LUKS at all.
  s = code(std::string(64 << 10, 'A'));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("not a LUKS2")) << s;
}

TEST_F(Luks2Test, LimitsAreConfigurable) {
  // The argon2id image (32 MiB, 4 iterations) is refused under a tighter memory limit.
  Luks2Limits tight;
  tight.max_argon2_memory_kib = 16 * 1024;
  auto r = ReadFromFile(argon_->path, tight);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("memory"));
}

TEST_F(Luks2Test, FormatDetachedThenReadBack) {
  TempDir dir;
  const std::string header = dir.File("hdr"), data = dir.File("data");
  {
    int fd = open(data.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_EQ(ftruncate(fd, 8 << 20), 0);
    close(fd);
  }
  {
    int fd = open(header.c_str(), O_CREAT | O_WRONLY | O_EXCL, 0600);
    ASSERT_EQ(ftruncate(fd, 16 << 20), 0);
    close(fd);
  }
  const SecretBytes pass = SecretBytes::FromString(std::string(4096, 'k'));
  ASSERT_TRUE(FormatLuks2Detached(header, data, pass, {}).ok());
  int fd = open(header.c_str(), O_RDONLY);
  auto md = ReadLuks2Metadata(fd, 8 << 20, /*detached=*/true, {});
  close(fd);
  ASSERT_THAT(md, IsOk());
  EXPECT_EQ(md->data_offset, 0u);
  EXPECT_EQ(md->sector_size, 4096u);
  EXPECT_EQ(md->key_size, 64u);
  auto vk = RecoverVolumeKey(*md, pass);
  ASSERT_THAT(vk, IsOk());
  // The data device was not written by formatting.
  auto head = testutil::ReadAt(data, 0, 4096);
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ(*head, std::vector<uint8_t>(4096, 0));
}

}  // namespace
}  // namespace cdh::storage
