// UserspaceDataPath: XtsEngine + FuseBlockImage + LoopDevice (see data_path.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/data_path.h"
#include "storage/fuse_block_image.h"
#include "storage/loop_device.h"
#include "storage/xts_engine.h"

namespace cdh::storage {
namespace {

class UserspaceVolume : public OpenVolume {
 public:
  UserspaceVolume(std::unique_ptr<XtsEngine> engine, std::unique_ptr<FuseBlockImage> image,
                  std::unique_ptr<LoopDevice> loop, std::string fuse_dir)
      : engine_(std::move(engine)),
        image_(std::move(image)),
        loop_(std::move(loop)),
        fuse_dir_(std::move(fuse_dir)),
        device_path_(loop_->path()) {}
  ~UserspaceVolume() override { (void)Close(); }

  const std::string& device_path() const override { return device_path_; }

  void Abandon() override {
    // The autoclear loop device goes when its last user (the busy mount) does; the FUSE image
    // leaves the namespace now and serves that user on its own threads until the session ends.
    if (loop_) {
      loop_->Release();
      loop_.reset();
    }
    if (image_) FuseBlockImage::Abandon(std::move(image_), std::move(engine_));
    engine_.reset();
    if (!fuse_dir_.empty()) {
      rmdir(fuse_dir_.c_str());
      fuse_dir_.clear();
    }
  }

  absl::Status Close() override {
    if (loop_) {
      loop_->Release();
      loop_.reset();
    }
    if (image_) {
      image_->Stop();
      image_.reset();
    }
    engine_.reset();
    if (!fuse_dir_.empty()) {
      rmdir(fuse_dir_.c_str());
      fuse_dir_.clear();
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<XtsEngine> engine_;
  std::unique_ptr<FuseBlockImage> image_;
  std::unique_ptr<LoopDevice> loop_;
  std::string fuse_dir_;
  std::string device_path_;
};

class UserspaceDataPath : public DataPath {
 public:
  explicit UserspaceDataPath(UserspaceDataPathOptions options) : options_(std::move(options)) {}
  bool SupportsIntegrity() const override { return false; }
  std::string_view name() const override { return "userspace"; }

  absl::StatusOr<std::unique_ptr<OpenVolume>> Open(const DataPathRequest& req, const SecretBytes& volume_key) override {
    const Luks2Metadata& md = *req.metadata;
    if (!md.integrity.empty()) {
      // The data area of an integrity volume interleaves tags with data; only dm-integrity
      // reads it.
      return absl::FailedPreconditionError("the volume has dm-integrity, which the userspace data path cannot read");
    }
    const uint64_t size = md.data_size ? *md.data_size : req.device_size - md.data_offset;
    if (size == 0) return absl::InvalidArgumentError("LUKS2 data segment is empty");
    CDH_ASSIGN_OR_RETURN(
        auto engine, XtsEngine::New(volume_key, {.sector_size = md.sector_size, .threads = options_.engine_threads}));
    CDH_RETURN_IF_ERROR(MakeDirs(options_.runtime_dir, 0700));
    const std::string dir = StrCat(options_.runtime_dir, "/fuse-", req.name);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::UnavailableError(StrCat("cannot create ", dir));
    }
    auto image = FuseBlockImage::Start({.mount_dir = dir,
                                        .device_fd = req.device_fd,
                                        .data_offset = md.data_offset,
                                        .data_size = size,
                                        .sector_size = md.sector_size},
                                       engine.get());
    if (!image.ok()) {
      rmdir(dir.c_str());
      return image.status();
    }
    auto loop = LoopDevice::Attach((*image)->image_path(), md.sector_size, /*read_only=*/false);
    if (!loop.ok()) {
      (*image)->Stop();
      rmdir(dir.c_str());
      return loop.status();
    }
    SetReadAheadKb((*loop)->path(), 1024);
    return std::unique_ptr<OpenVolume>(
        new UserspaceVolume(std::move(engine), std::move(*image), std::move(*loop), dir));
  }

 private:
  const UserspaceDataPathOptions options_;
};

}  // namespace

std::unique_ptr<DataPath> NewUserspaceDataPath(UserspaceDataPathOptions options) {
  return std::make_unique<UserspaceDataPath>(std::move(options));
}

}  // namespace cdh::storage
