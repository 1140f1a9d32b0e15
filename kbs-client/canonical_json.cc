#include "kbs-client/canonical_json.h"

#include <algorithm>
#include <vector>

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::kbs {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53);

// Decodes UTF-8 into UTF-16 code units (for sorting) and validates it.
absl::StatusOr<std::u16string> ToUtf16(const std::string& s) {
  std::u16string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      len = 3;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      len = 4;
    } else
      return absl::InvalidArgumentError("canonical JSON: string is not valid UTF-8");
    if (i + len > s.size()) return absl::InvalidArgumentError("canonical JSON: string is not valid UTF-8");
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return absl::InvalidArgumentError("canonical JSON: string is not valid UTF-8");
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return absl::InvalidArgumentError("canonical JSON: string is not valid UTF-8");
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

absl::Status AppendString(std::string& out, const std::string& s) {
  CDH_RETURN_IF_ERROR(ToUtf16(s).status());  // validation only
  out.push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return absl::OkStatus();
}

absl::Status Append(std::string& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      out.append("null");
      return absl::OkStatus();
    case nlohmann::json::value_t::boolean:
      out.append(v.get<bool>() ? "true" : "false");
      return absl::OkStatus();
    case nlohmann::json::value_t::number_integer: {
      int64_t n = v.get<int64_t>();
      if (n > kMaxSafeInteger || n < -kMaxSafeInteger) {
        return absl::InvalidArgumentError("canonical JSON: integer out of the exact IEEE-754 range");
      }
      out.append(std::to_string(n));
      return absl::OkStatus();
    }
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t n = v.get<uint64_t>();
      if (n > static_cast<uint64_t>(kMaxSafeInteger)) {
        return absl::InvalidArgumentError("canonical JSON: integer out of the exact IEEE-754 range");
      }
      out.append(std::to_string(n));
      return absl::OkStatus();
    }
    case nlohmann::json::value_t::number_float:
      return absl::InvalidArgumentError("canonical JSON: floating-point numbers are not supported");
    case nlohmann::json::value_t::string:
      return AppendString(out, v.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out.push_back(',');
        first = false;
        CDH_RETURN_IF_ERROR(Append(out, e));
      }
      out.push_back(']');
      return absl::OkStatus();
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<std::u16string, nlohmann::json::const_iterator>> members;
      for (auto it = v.cbegin(); it != v.cend(); ++it) {
        CDH_ASSIGN_OR_RETURN(std::u16string key16, ToUtf16(it.key()));
        members.emplace_back(std::move(key16), it);
      }
      std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      bool first = true;
      for (const auto& [key16, it] : members) {
        if (!first) out.push_back(',');
        first = false;
        CDH_RETURN_IF_ERROR(AppendString(out, it.key()));
        out.push_back(':');
        CDH_RETURN_IF_ERROR(Append(out, it.value()));
      }
      out.push_back('}');
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("canonical JSON: unsupported value type");
  }
}

}  // namespace

absl::StatusOr<std::string> CanonicalJson(const nlohmann::json& value) {
  std::string out;
  CDH_RETURN_IF_ERROR(Append(out, value));
  return out;
}

}  // namespace cdh::kbs
