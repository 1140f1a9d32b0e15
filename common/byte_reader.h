// ByteReader: the one way to read host-controlled binary formats (TEE reports and quotes, event
// logs, TPM structures, the LUKS2 binary header, ttrpc frame headers, ...).
//
// A reader is a view of a byte range plus a cursor. Every read checks the length first and
// returns absl::StatusOr; there is no unchecked accessor, so an out-of-bounds read cannot be
// written with it. A failed read fails closed: the reader is then exhausted and every later read
// fails too, so a parser that forgets one status cannot go on reading garbage.
//
// Errors: INVALID_ARGUMENT "<what>: truncated at byte <offset> (<n> bytes needed, <m> left)",
// "<what>: offset <o> is outside its <size> bytes", "<what>: <n> trailing bytes", where <what>
// names the structure (given at construction) and offsets count from the start of the outermost
// reader. The message holds sizes and offsets only, never the bytes themselves.
//
// Copyable (a view: the bytes must outlive the reader and every sub-reader, and `what` must be a
// string with static storage, e.g. a literal). Not thread-safe.
#ifndef CDH_COMMON_BYTE_READER_H_
#define CDH_COMMON_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdh {

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes, std::string_view what = "input") : bytes_(bytes), what_(what) {}
  explicit ByteReader(std::span<const uint8_t> bytes, std::string_view what = "input")
      : ByteReader(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), what) {}
  // A reader over a temporary would dangle at once.
  ByteReader(std::string&&, std::string_view = "input") = delete;

  // Bytes consumed so far (the cursor), counted from the start of this reader's range.
  size_t offset() const { return pos_; }
  // Bytes of this reader's range.
  size_t size() const { return bytes_.size(); }
  // Bytes left after the cursor; 0 once a read has failed.
  size_t remaining() const { return bytes_.size() - pos_; }
  bool AtEnd() const { return remaining() == 0; }

  // Fixed-width unsigned integers, little-endian (Le) or big-endian (Be). Each consumes its
  // width; INVALID_ARGUMENT when fewer bytes remain.
  absl::StatusOr<uint8_t> U8();
  absl::StatusOr<uint16_t> U16Le();
  absl::StatusOr<uint32_t> U32Le();
  absl::StatusOr<uint64_t> U64Le();
  absl::StatusOr<uint16_t> U16Be();
  absl::StatusOr<uint32_t> U32Be();
  absl::StatusOr<uint64_t> U64Be();

  // The next `n` bytes, consumed; a view into the input. INVALID_ARGUMENT when fewer remain.
  absl::StatusOr<std::string_view> Bytes(size_t n);
  absl::StatusOr<std::span<const uint8_t>> Span(size_t n);
  // The next N bytes as a fixed-size span (for fixed-size fields: digests, GUIDs, nonces).
  template <size_t N>
  absl::StatusOr<std::span<const uint8_t, N>> Fixed() {
    absl::StatusOr<std::span<const uint8_t>> s = Span(N);
    if (!s.ok()) return s.status();
    return s->template first<N>();
  }
  // The next `n` bytes as a reader of their own (offsets in its errors stay absolute), consumed.
  absl::StatusOr<ByteReader> Sub(size_t n);
  // Everything after the cursor, consumed (may be empty; never fails).
  std::string_view Rest();

  // Moves the cursor forward by `n` bytes. INVALID_ARGUMENT when fewer remain.
  absl::Status Skip(size_t n);
  // Moves the cursor to `offset` bytes from the start of this reader's range (back or forward),
  // for fixed-layout structures. INVALID_ARGUMENT when `offset` > size(), or after a failed read.
  absl::Status Seek(size_t offset);
  // The `n` bytes at `offset` from the start of this range, as a reader, without moving the
  // cursor. INVALID_ARGUMENT when [offset, offset + n) is not inside the range.
  absl::StatusOr<ByteReader> Slice(size_t offset, size_t n) const;

  // OK when every byte has been consumed; INVALID_ARGUMENT "<n> trailing bytes" otherwise.
  absl::Status ExpectEnd() const;

 private:
  ByteReader(std::string_view bytes, std::string_view what, size_t base) : bytes_(bytes), what_(what), base_(base) {}
  // Checks that `n` bytes remain; on failure exhausts the reader (fail closed).
  absl::Status Need(size_t n);
  template <typename T, bool kBigEndian>
  absl::StatusOr<T> Int();

  std::string_view bytes_;
  std::string_view what_;
  size_t base_ = 0;  // offset of bytes_ inside the outermost reader, for messages
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace cdh

#endif  // CDH_COMMON_BYTE_READER_H_
