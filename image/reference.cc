#include "image/reference.h"

#include "common/strings.h"

namespace cdh::image {
namespace {

constexpr size_t kMaxNameLength = 255;  // distribution/reference NameTotalLengthMax
constexpr size_t kMaxTagLength = 128;

absl::Status Illegal(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("Illegal image reference `", Sanitize(text, 120), "`: ", why));
}

bool IsAlnumLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
bool IsPathComponent(std::string_view s) {
  if (s.empty() || !IsAlnumLower(s.front()) || !IsAlnumLower(s.back())) return false;
  size_t i = 0;
  while (i < s.size()) {
    if (IsAlnumLower(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    if (s[i] == '.') {
      j = i + 1;
    } else if (s[i] == '_') {
      j = i + 1;
      if (j < s.size() && s[j] == '_') ++j;
    } else if (s[i] == '-') {
      while (j < s.size() && s[j] == '-') ++j;
    } else {
      return false;
    }
    if (j >= s.size() || !IsAlnumLower(s[j])) return false;
    i = j;
  }
  return true;
}

// host (DNS labels of [A-Za-z0-9-], dot separated) with an optional :port. IPv6 refused.
bool IsDomain(std::string_view s) {
  std::string_view host = s;
  size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    host = s.substr(0, colon);
    std::string_view port = s.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
    }
  }
  if (host.empty()) return false;
  for (std::string_view label : StrSplit(host, '.')) {
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
  }
  return true;
}

bool IsTag(std::string_view s) {
  if (s.empty() || s.size() > kMaxTagLength) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<ImageReference> ImageReference::Parse(std::string_view text) {
  if (text.empty()) return Illegal(text, "empty");
  if (HasControlChars(text) || text.find(' ') != std::string_view::npos) {
    return Illegal(text, "contains whitespace or control characters");
  }
  ImageReference ref;
  std::string_view rest = text;
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    auto digest = Digest::Parse(rest.substr(at + 1));
    if (!digest.ok()) return Illegal(text, "bad digest");
    ref.digest_ = *digest;
    rest = rest.substr(0, at);
  }
  size_t last_slash = rest.rfind('/');
  size_t tag_colon = rest.rfind(':');
  if (tag_colon != std::string_view::npos && (last_slash == std::string_view::npos || tag_colon > last_slash)) {
    std::string_view tag = rest.substr(tag_colon + 1);
    if (!IsTag(tag)) return Illegal(text, "bad tag");
    ref.tag_ = std::string(tag);
    rest = rest.substr(0, tag_colon);
  }
  if (rest.empty()) return Illegal(text, "no repository");

  std::string_view path = rest;
  size_t first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, first_slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost") {
      if (first.front() == '[') return Illegal(text, "IPv6 registry hosts are not supported");
      if (!IsDomain(first)) return Illegal(text, "bad registry host");
      ref.registry_ = std::string(first);
      path = rest.substr(first_slash + 1);
    }
  }
  ref.short_name_ = ref.registry_.empty();
  if (ref.registry_.empty() || ref.registry_ == "index.docker.io") ref.registry_ = "docker.io";
  if (path.empty()) return Illegal(text, "no repository");
  for (std::string_view component : StrSplit(path, '/')) {
    if (!IsPathComponent(component)) {
      return Illegal(text, "repository path components must be lower-case [a-z0-9] with . _ __ - separators");
    }
  }
  ref.repository_ = std::string(path);
  if (ref.registry_ == "docker.io" && ref.repository_.find('/') == std::string::npos) {
    ref.repository_ = StrCat("library/", ref.repository_);
  }
  if (ref.Name().size() > kMaxNameLength) return Illegal(text, "name longer than 255 characters");
  if (ref.tag_.empty() && !ref.digest_) ref.tag_ = "latest";
  return ref;
}

std::string ImageReference::Name() const { return StrCat(registry_, "/", repository_); }

std::string ImageReference::String() const {
  std::string out = Name();
  if (!tag_.empty()) StrAppend(&out, ":", tag_);
  if (digest_) StrAppend(&out, "@", digest_->String());
  return out;
}

std::string ImageReference::TagOrDigest() const { return digest_ ? digest_->String() : tag_; }

std::string ImageReference::RegistryHost() const {
  return registry_ == "docker.io" ? std::string("index.docker.io") : registry_;
}

ImageReference ImageReference::WithTag(std::string tag) const {
  ImageReference r = *this;
  r.tag_ = std::move(tag);
  r.digest_.reset();
  return r;
}

ImageReference ImageReference::WithDigest(const Digest& digest) const {
  ImageReference r = *this;
  r.tag_.clear();
  r.digest_ = digest;
  return r;
}

}  // namespace cdh::image
