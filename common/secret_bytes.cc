#include "common/secret_bytes.h"

#include <string.h>

namespace cdh {
namespace secret_internal {

void Wipe(void* data, size_t size) {
  if (data != nullptr && size > 0) explicit_bzero(data, size);
}

}  // namespace secret_internal

bool SecretBytes::Equals(std::span<const uint8_t> other) const {
  if (other.size() != bytes_.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < bytes_.size(); ++i) diff |= bytes_[i] ^ other[i];
  return diff == 0;
}

}  // namespace cdh
