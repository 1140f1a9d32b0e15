#define FUSE_USE_VERSION 312
#include "attestation/fuse_tsm_fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fuse3/fuse.h>

#include "common/strings.h"

namespace cdh::attestation {
namespace {

// Largest attribute served; above every limit PosixTsmFs applies, so oversize blobs reach it.
constexpr size_t kMaxServed = 16 << 20;

FuseTsmFs* Self() { return static_cast<FuseTsmFs*>(fuse_get_context()->private_data); }

struct Parsed {
  std::string entry;      // empty for the root
  std::string attribute;  // empty for the root and entries
  bool valid = false;
};

Parsed Parse(const char* path) {
  Parsed p;
  if (path == nullptr || path[0] != '/') return p;
  std::vector<std::string_view> parts;
  for (std::string_view part : StrSplit(std::string_view(path + 1), '/')) {
    if (!part.empty()) parts.push_back(part);
  }
  if (parts.size() > 2) return p;
  if (parts.size() >= 1) p.entry = std::string(parts[0]);
  if (parts.size() == 2) p.attribute = std::string(parts[1]);
  p.valid = true;
  return p;
}

bool IsText(std::string_view a) { return a == "provider" || a == "generation"; }
bool IsBinary(std::string_view a) { return a == "inblob" || a == "outblob" || a == "auxblob"; }

bool Visible(FuseTsmFs& self, std::string_view attribute) {
  if (IsText(attribute)) return true;
  if (attribute == "auxblob") return self.backing().provider() == "sev_guest";
  return IsBinary(attribute);
}

// The errno the kernel would have given for the backing's status.
int ToErrno(const absl::Status& s) {
  std::string_view m = ToStd(s.message());
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kNotFound:
      return ENOENT;
    case absl::StatusCode::kInvalidArgument:
      return EINVAL;
    case absl::StatusCode::kResourceExhausted:
      return EFBIG;
    default:
      if (m.find("ENXIO") != std::string_view::npos) return ENXIO;
      if (m.find("File exists") != std::string_view::npos) return EEXIST;
      if (m.find("Permission denied") != std::string_view::npos) return EACCES;
      return EIO;
  }
}

// One open file: the attribute's content, read from the backing at the first read.
struct OpenFile {
  std::string entry;
  std::string attribute;
  bool loaded = false;
  int error = 0;
  std::string content;
};

int OpGetattr(const char* path, struct stat* st, fuse_file_info*) {
  std::memset(st, 0, sizeof(*st));
  Parsed p = Parse(path);
  if (!p.valid) return -ENOENT;
  FuseTsmFs* self = Self();
  if (p.entry.empty() || p.attribute.empty()) {
    if (!p.entry.empty() && !self->backing().HasEntry(p.entry)) return -ENOENT;
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (!self->backing().HasEntry(p.entry) || !Visible(*self, p.attribute)) return -ENOENT;
  st->st_mode = S_IFREG | (p.attribute == "inblob" ? 0200 : 0444);
  st->st_nlink = 1;
  st->st_size = IsText(p.attribute) ? self->text_st_size() : self->binary_st_size();
  st->st_blksize = 4096;
  return 0;
}

int OpReaddir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info*, fuse_readdir_flags) {
  Parsed p = Parse(path);
  if (!p.valid || !p.attribute.empty()) return -ENOENT;
  filler(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  filler(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  if (!p.entry.empty()) {
    for (const char* a : {"provider", "generation", "inblob", "outblob", "auxblob"}) {
      if (Visible(*Self(), a)) filler(buf, a, nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    }
  }
  return 0;
}

int OpMkdir(const char* path, mode_t) {
  Parsed p = Parse(path);
  if (!p.valid || p.entry.empty() || !p.attribute.empty()) return -EPERM;
  return -ToErrno(Self()->backing().MakeEntry(p.entry));
}

int OpRmdir(const char* path) {
  Parsed p = Parse(path);
  if (!p.valid || p.entry.empty() || !p.attribute.empty()) return -EPERM;
  return -ToErrno(Self()->backing().RemoveEntry(p.entry));
}

int OpOpen(const char* path, fuse_file_info* fi) {
  Parsed p = Parse(path);
  if (!p.valid || p.attribute.empty()) return -EISDIR;
  FuseTsmFs* self = Self();
  if (!self->backing().HasEntry(p.entry) || !Visible(*self, p.attribute)) return -ENOENT;
  auto* f = new OpenFile;
  f->entry = p.entry;
  f->attribute = p.attribute;
  fi->fh = reinterpret_cast<uint64_t>(f);
  fi->direct_io = 1;  // every read reaches us, whatever st_size says (as configfs ignores i_size)
  fi->keep_cache = 0;
  return 0;
}

int OpRead(const char*, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  auto* f = reinterpret_cast<OpenFile*>(fi->fh);
  if (off < 0) return -EINVAL;
  if (!f->loaded) {
    auto content = Self()->backing().ReadAttribute(f->entry, f->attribute, kMaxServed);
    f->loaded = true;
    if (content.ok()) {
      f->content = std::move(content).value();
    } else {
      f->error = ToErrno(content.status());
    }
  }
  if (f->error != 0) return -f->error;
  if (static_cast<size_t>(off) >= f->content.size()) return 0;
  size_t n = std::min(size, f->content.size() - static_cast<size_t>(off));
  std::memcpy(buf, f->content.data() + off, n);
  return static_cast<int>(n);
}

int OpWrite(const char*, const char* buf, size_t size, off_t, fuse_file_info* fi) {
  auto* f = reinterpret_cast<OpenFile*>(fi->fh);
  absl::Status s = Self()->backing().WriteAttribute(f->entry, f->attribute, std::string_view(buf, size));
  if (!s.ok()) return -ToErrno(s);
  return static_cast<int>(size);
}

int OpRelease(const char*, fuse_file_info* fi) {
  delete reinterpret_cast<OpenFile*>(fi->fh);
  return 0;
}

int OpTruncate(const char*, off_t, fuse_file_info*) { return 0; }  // configfs accepts O_TRUNC and ignores it

void* OpInit(fuse_conn_info*, fuse_config* cfg) {
  cfg->direct_io = 1;
  cfg->attr_timeout = 0;  // entries come and go: no cached attributes
  cfg->entry_timeout = 0;
  cfg->negative_timeout = 0;
  return fuse_get_context()->private_data;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FuseTsmFs>> FuseTsmFs::Start(std::shared_ptr<FakeTsmFs> backing, std::string mount_dir,
                                                            off_t text_st_size, off_t binary_st_size) {
  if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
    return absl::UnavailableError("FUSE needs root and /dev/fuse");
  }
  std::unique_ptr<FuseTsmFs> fs(new FuseTsmFs(std::move(backing), std::move(mount_dir), text_st_size, binary_st_size));
  static const fuse_operations kOps = [] {
    fuse_operations ops{};
    ops.init = OpInit;
    ops.getattr = OpGetattr;
    ops.readdir = OpReaddir;
    ops.mkdir = OpMkdir;
    ops.rmdir = OpRmdir;
    ops.open = OpOpen;
    ops.read = OpRead;
    ops.write = OpWrite;
    ops.release = OpRelease;
    ops.truncate = OpTruncate;
    return ops;
  }();
  const char* argv[] = {"cdh-tsm-test", "-o", "fsname=cdh-tsm,subtype=cdh-tsm", nullptr};
  fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(argv));
  fs->fuse_ = fuse_new(&args, &kOps, sizeof(kOps), fs.get());
  fuse_opt_free_args(&args);
  if (fs->fuse_ == nullptr) return absl::UnavailableError("fuse_new failed");
  if (fuse_mount(fs->fuse_, fs->mount_dir_.c_str()) != 0) {
    fuse_destroy(fs->fuse_);
    fs->fuse_ = nullptr;
    return absl::UnavailableError(StrCat("FUSE mount on ", fs->mount_dir_, " failed"));
  }
  struct fuse* f = fs->fuse_;
  fs->loop_thread_ = std::thread([f] {
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, 8);
    fuse_loop_mt(f, cfg);
    fuse_loop_cfg_destroy(cfg);
  });
  return fs;
}

FuseTsmFs::~FuseTsmFs() {
  if (fuse_ == nullptr) return;
  fuse_exit(fuse_);
  fuse_unmount(fuse_);
  if (loop_thread_.joinable()) loop_thread_.join();
  fuse_destroy(fuse_);
}

}  // namespace cdh::attestation
