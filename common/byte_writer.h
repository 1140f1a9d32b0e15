// Fixed-width integer encoding for the binary formats we produce (event-log entries, ttrpc frame
// headers, the Concat KDF input, test fixtures): the writing half of common/byte_reader.h.
//
// `Buffer` is any byte container with push_back(char), size(), resize() and operator[]
// (std::string, or a secret-carrying string type). Appends never fail; Store* grows the buffer
// with zero bytes when it is shorter than `at` + width, so no write can land outside it.
// Thread-safe (pure functions on the caller's buffer).
#ifndef CDH_COMMON_BYTE_WRITER_H_
#define CDH_COMMON_BYTE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cdh {

template <typename Buffer>
void AppendLe(Buffer& out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
template <typename Buffer>
void AppendBe(Buffer& out, uint64_t v, size_t width) {
  for (size_t i = width; i > 0; --i) out.push_back(static_cast<char>((v >> (8 * (i - 1))) & 0xff));
}

template <typename Buffer>
void AppendU16Le(Buffer& out, uint16_t v) {
  AppendLe(out, v, 2);
}
template <typename Buffer>
void AppendU32Le(Buffer& out, uint32_t v) {
  AppendLe(out, v, 4);
}
template <typename Buffer>
void AppendU64Le(Buffer& out, uint64_t v) {
  AppendLe(out, v, 8);
}
template <typename Buffer>
void AppendU16Be(Buffer& out, uint16_t v) {
  AppendBe(out, v, 2);
}
template <typename Buffer>
void AppendU32Be(Buffer& out, uint32_t v) {
  AppendBe(out, v, 4);
}
template <typename Buffer>
void AppendU64Be(Buffer& out, uint64_t v) {
  AppendBe(out, v, 8);
}

// Writes the low `width` bytes of `v`, little-endian, at byte `at` of `out`.
template <typename Buffer>
void StoreLe(Buffer& out, size_t at, uint64_t v, size_t width) {
  if (out.size() < at + width) out.resize(at + width, '\0');
  for (size_t i = 0; i < width; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
// Writes at most `max` bytes of `bytes` at byte `at` of `out`.
template <typename Buffer>
void StoreBytes(Buffer& out, size_t at, std::string_view bytes, size_t max = SIZE_MAX) {
  size_t n = bytes.size() < max ? bytes.size() : max;
  if (out.size() < at + n) out.resize(at + n, '\0');
  for (size_t i = 0; i < n; ++i) out[at + i] = bytes[i];
}

}  // namespace cdh

#endif  // CDH_COMMON_BYTE_WRITER_H_
