#include "storage/aligned_buffer.h"

#include <sys/mman.h>

#include <utility>

#include "common/secret_bytes.h"
#include "common/strings.h"

namespace cdh::storage {
namespace {
constexpr size_t kPage = 4096;
constexpr size_t kHugePage = 2 << 20;
}  // namespace

absl::StatusOr<AlignedBuffer> AlignedBuffer::Allocate(size_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("AlignedBuffer of 0 bytes");
  const size_t align = bytes >= kHugePage ? kHugePage : kPage;
  const size_t rounded = (bytes + kPage - 1) / kPage * kPage;
  if (rounded < bytes || rounded > (size_t{1} << 40)) return absl::ResourceExhaustedError("buffer too large");
  const size_t map_size = rounded + (align > kPage ? align : 0);
  void* map = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    return absl::ResourceExhaustedError(StrCat("cannot map ", bytes, " bytes of buffer memory"));
  }
  const uintptr_t start = (reinterpret_cast<uintptr_t>(map) + align - 1) / align * align;
  if (align == kHugePage) madvise(reinterpret_cast<void*>(start), rounded, MADV_HUGEPAGE);  // best effort
  AlignedBuffer b;
  b.map_ = map;
  b.map_size_ = map_size;
  b.data_ = reinterpret_cast<uint8_t*>(start);
  b.size_ = bytes;
  return b;
}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
  }
  return *this;
}

void AlignedBuffer::Release() {
  if (map_ == nullptr) return;
  SecretBytes::WipeForeign(data_, size_);  // mmap'ed, outside the allocator
  munmap(map_, map_size_);
  map_ = nullptr;
  data_ = nullptr;
  size_ = map_size_ = 0;
}

}  // namespace cdh::storage
