#include "storage/testing/luks_image.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "storage/process.h"

namespace cdh::storage::testutil {

std::string MountTestSkipReason() {
  if (geteuid() != 0) return "needs root (mount, loop devices)";
  if (access("/dev/fuse", R_OK | W_OK) != 0) return "needs /dev/fuse";
  if (access("/dev/loop-control", R_OK | W_OK) != 0) return "needs /dev/loop-control";
  return "";
}

bool IsMountPoint(const std::string& path) {
  std::ifstream f("/proc/self/mountinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.find(" " + path + " ") != std::string::npos) return true;
  }
  return false;
}
namespace {

absl::Status WriteFile(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) return absl::InternalError(StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status Run(const std::vector<std::string>& argv, const std::string& step) {
  std::string out;
  CDH_ASSIGN_OR_RETURN(int rc, RunProgram(argv, &out));
  if (rc != 0) return absl::InternalError(StrCat(step, " failed (rc ", rc, "): ", out));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> RunProgram(const std::vector<std::string>& argv, std::string* output) {
  return storage::RunProgram(argv, output);
}

std::string EditLuks2Json(const std::string& region_in, size_t hs, const std::function<void(nlohmann::json&)>& edit,
                          bool primary, bool secondary) {
  std::string region = region_in;
  for (size_t off : {size_t{0}, hs}) {
    if ((off == 0 && !primary) || (off == hs && !secondary)) continue;
    std::string area = region.substr(off + 4096, hs - 4096);
    auto j = ParseJson(std::string_view(area.data(), area.find('\0')), "test");
    if (!j.ok()) return region;
    edit(*j);
    std::string text = j->dump();
    text.resize(hs - 4096, '\0');
    region.replace(off + 4096, hs - 4096, text);
    std::string copy = region.substr(off, hs);
    std::memset(copy.data() + 448, 0, 64);
    region.replace(off + 448, 32, crypto::Sha256(copy));
  }
  return region;
}

absl::Status WriteAt(const std::string& path, uint64_t offset, const std::string& bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(StrCat("cannot open ", path));
  ssize_t n = pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
  close(fd);
  if (n != static_cast<ssize_t>(bytes.size())) return absl::InternalError("short write");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> ReadAt(const std::string& path, uint64_t offset, size_t size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(StrCat("cannot open ", path));
  std::vector<uint8_t> out(size);
  ssize_t n = pread(fd, out.data(), size, static_cast<off_t>(offset));
  close(fd);
  if (n != static_cast<ssize_t>(size)) return absl::InternalError(StrCat("short read of ", path));
  return out;
}

absl::StatusOr<LuksImage> MakeLuksImage(const TempDir& dir, const std::string& name, const LuksImageSpec& spec) {
  LuksImage img;
  img.path = dir.File(name);
  std::mt19937_64 rng(spec.plaintext_bytes * 131 + spec.sector_size + spec.key_bits);
  if (!spec.plaintext_file.empty()) {
    std::ifstream in(spec.plaintext_file, std::ios::binary);
    img.plaintext.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (img.plaintext.empty()) return absl::InternalError("cannot read the plaintext file");
  } else {
    img.plaintext.resize(spec.plaintext_bytes);
    for (auto& b : img.plaintext) b = static_cast<uint8_t>(rng() >> 11);
  }
  // The image is the plaintext followed by 32 MiB that reencrypt gives up for the header.
  std::vector<uint8_t> file = img.plaintext;
  file.resize(img.plaintext.size() + (32u << 20), 0);
  CDH_RETURN_IF_ERROR(WriteFile(img.path, file.data(), file.size()));
  const int slots = 1 + spec.extra_keyslots;
  for (int i = 0; i < slots; ++i) img.passphrases.push_back(StrCat("test-passphrase-", name, "-", i));
  img.passphrase = img.passphrases[0];
  const std::string key0 = dir.File(name + ".key0");
  CDH_RETURN_IF_ERROR(WriteFile(key0, img.passphrase.data(), img.passphrase.size()));

  std::vector<std::string> kdf;
  if (spec.pbkdf == "pbkdf2") {
    kdf = {"--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--hash", "sha256"};
  } else {
    kdf = {"--pbkdf", spec.pbkdf, "--pbkdf-memory", "32768", "--pbkdf-parallel", "1", "--pbkdf-force-iterations", "4"};
  }
  std::vector<std::string> argv = {"cryptsetup",    "reencrypt",
                                   "--encrypt",     "--type",
                                   "luks2",         "--reduce-device-size",
                                   "32M",           "--batch-mode",
                                   "--key-file",    key0,
                                   "--sector-size", StrCat(spec.sector_size),
                                   "--key-size",    StrCat(spec.key_bits),
                                   "--cipher",      "aes-xts-plain64"};
  argv.insert(argv.end(), kdf.begin(), kdf.end());
  argv.push_back(img.path);
  CDH_RETURN_IF_ERROR(Run(argv, "cryptsetup reencrypt --encrypt"));
  for (int i = 1; i < slots; ++i) {
    const std::string ki = dir.File(StrCat(name, ".key", i));
    CDH_RETURN_IF_ERROR(WriteFile(ki, img.passphrases[i].data(), img.passphrases[i].size()));
    std::vector<std::string> add = {"cryptsetup", "luksAddKey", "--batch-mode", "--key-file", key0};
    add.insert(add.end(), kdf.begin(), kdf.end());
    add.push_back(img.path);
    add.push_back(ki);
    CDH_RETURN_IF_ERROR(Run(add, "cryptsetup luksAddKey"));
  }
  const std::string vk = dir.File(name + ".vk");
  CDH_RETURN_IF_ERROR(Run({"cryptsetup", "luksDump", "--dump-volume-key", "--batch-mode", "--key-file", key0,
                           "--volume-key-file", vk, img.path},
                          "cryptsetup luksDump --dump-volume-key"));
  CDH_ASSIGN_OR_RETURN(auto vk_bytes, ReadAt(vk, 0, spec.key_bits / 8));
  img.volume_key = SecretBytes(vk_bytes);
  std::string dump;
  CDH_ASSIGN_OR_RETURN(int rc, RunProgram({"cryptsetup", "luksDump", img.path}, &dump));
  if (rc != 0) return absl::InternalError("cryptsetup luksDump failed");
  const auto pos = dump.find("offset: ");
  if (pos == std::string::npos) return absl::InternalError("no data offset in luksDump");
  img.data_offset = std::strtoull(dump.c_str() + pos + 8, nullptr, 10);
  return img;
}

}  // namespace cdh::storage::testutil
