// AlignedBuffer: page-aligned scratch memory for the sector data path.
//
// Buffers are mmap'ed, aligned to 4096 bytes (to 2 MiB, with transparent huge pages requested,
// when at least 2 MiB: the XTS engine streams through large buffers and 4 KiB pages cost one TLB
// miss per 4096-byte sector). They may hold plaintext, so they are wiped before being unmapped.
// Move-only; not thread-safe.
#ifndef CDH_STORAGE_ALIGNED_BUFFER_H_
#define CDH_STORAGE_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"

namespace cdh::storage {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // `bytes` > 0. RESOURCE_EXHAUSTED if the memory cannot be mapped.
  static absl::StatusOr<AlignedBuffer> Allocate(size_t bytes);

  AlignedBuffer(AlignedBuffer&& other) noexcept { *this = std::move(other); }
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { Release(); }

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<uint8_t> span() const { return {data_, size_}; }

 private:
  void Release();
  uint8_t* data_ = nullptr;  // first aligned byte
  size_t size_ = 0;          // usable bytes
  void* map_ = nullptr;      // whole mapping
  size_t map_size_ = 0;
};

}  // namespace cdh::storage

#endif  // CDH_STORAGE_ALIGNED_BUFFER_H_
