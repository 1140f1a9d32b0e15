#include "common/byte_reader.h"

#include "common/strings.h"

namespace cdh {

absl::Status ByteReader::Need(size_t n) {
  if (!failed_ && n <= remaining()) return absl::OkStatus();
  size_t left = failed_ ? 0 : remaining();
  absl::Status s = absl::InvalidArgumentError(
      StrCat(what_, ": truncated at byte ", base_ + pos_, " (", n, " bytes needed, ", left, " left)"));
  failed_ = true;
  pos_ = bytes_.size();
  return s;
}

template <typename T, bool kBigEndian>
absl::StatusOr<T> ByteReader::Int() {
  absl::Status need = Need(sizeof(T));
  if (!need.ok()) return need;
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    size_t at = kBigEndian ? pos_ + i : pos_ + sizeof(T) - 1 - i;
    v = static_cast<T>((static_cast<uint64_t>(v) << 8) | static_cast<uint8_t>(bytes_[at]));
  }
  pos_ += sizeof(T);
  return v;
}

absl::StatusOr<uint8_t> ByteReader::U8() { return Int<uint8_t, true>(); }
absl::StatusOr<uint16_t> ByteReader::U16Le() { return Int<uint16_t, false>(); }
absl::StatusOr<uint32_t> ByteReader::U32Le() { return Int<uint32_t, false>(); }
absl::StatusOr<uint64_t> ByteReader::U64Le() { return Int<uint64_t, false>(); }
absl::StatusOr<uint16_t> ByteReader::U16Be() { return Int<uint16_t, true>(); }
absl::StatusOr<uint32_t> ByteReader::U32Be() { return Int<uint32_t, true>(); }
absl::StatusOr<uint64_t> ByteReader::U64Be() { return Int<uint64_t, true>(); }

absl::StatusOr<std::string_view> ByteReader::Bytes(size_t n) {
  absl::Status need = Need(n);
  if (!need.ok()) return need;
  std::string_view out = bytes_.substr(pos_, n);
  pos_ += n;
  return out;
}

absl::StatusOr<std::span<const uint8_t>> ByteReader::Span(size_t n) {
  absl::StatusOr<std::string_view> b = Bytes(n);
  if (!b.ok()) return b.status();
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b->data()), b->size());
}

absl::StatusOr<ByteReader> ByteReader::Sub(size_t n) {
  size_t at = base_ + pos_;
  absl::StatusOr<std::string_view> b = Bytes(n);
  if (!b.ok()) return b.status();
  return ByteReader(*b, what_, at);
}

std::string_view ByteReader::Rest() {
  std::string_view out = bytes_.substr(pos_);
  pos_ = bytes_.size();
  return out;
}

absl::Status ByteReader::Skip(size_t n) {
  absl::Status need = Need(n);
  if (!need.ok()) return need;
  pos_ += n;
  return absl::OkStatus();
}

absl::Status ByteReader::Seek(size_t offset) {
  if (failed_) return Need(0);
  if (offset > bytes_.size()) {
    failed_ = true;
    pos_ = bytes_.size();
    return absl::InvalidArgumentError(
        StrCat(what_, ": offset ", base_ + offset, " is outside its ", base_ + bytes_.size(), " bytes"));
  }
  pos_ = offset;
  return absl::OkStatus();
}

absl::StatusOr<ByteReader> ByteReader::Slice(size_t offset, size_t n) const {
  if (offset > bytes_.size() || n > bytes_.size() - offset) {
    return absl::InvalidArgumentError(StrCat(what_, ": truncated at byte ", base_ + offset, " (", n, " bytes needed, ",
                                             offset > bytes_.size() ? 0 : bytes_.size() - offset, " left)"));
  }
  return ByteReader(bytes_.substr(offset, n), what_, base_ + offset);
}

absl::Status ByteReader::ExpectEnd() const {
  if (remaining() == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat(what_, ": ", remaining(), " trailing bytes"));
}

}  // namespace cdh
