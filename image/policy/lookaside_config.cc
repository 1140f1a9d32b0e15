#include "image/policy/lookaside_config.h"

#include <yaml.h>

#include <memory>

#include "common/strings.h"
#include "image/policy/policy.h"

namespace cdh::image {
namespace {

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("invalid sigstore config: ", what));
}

// A loaded libyaml document, freed on scope exit.
class YamlDocument {
 public:
  YamlDocument() = default;
  ~YamlDocument() {
    if (loaded_) yaml_document_delete(&doc_);
  }
  YamlDocument(const YamlDocument&) = delete;
  YamlDocument& operator=(const YamlDocument&) = delete;

  absl::Status Load(std::string_view text) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return absl::InternalError("yaml_parser_initialize failed");
    yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    bool ok = yaml_parser_load(&parser, &doc_) != 0;
    std::string problem = ok || parser.problem == nullptr ? "" : parser.problem;
    size_t line = parser.problem_mark.line + 1;
    yaml_parser_delete(&parser);
    if (!ok) return Invalid(StrCat("YAML does not parse (line ", line, ": ", Sanitize(problem, 80), ")"));
    loaded_ = true;
    return absl::OkStatus();
  }
  yaml_node_t* Root() { return yaml_document_get_root_node(&doc_); }
  yaml_node_t* Node(int index) { return yaml_document_get_node(&doc_, index); }

 private:
  yaml_document_t doc_;
  bool loaded_ = false;
};

std::string Scalar(const yaml_node_t* node) {
  return std::string(reinterpret_cast<const char*>(node->data.scalar.value), node->data.scalar.length);
}

// One namespace entry: {lookaside, sigstore, lookaside-staging, sigstore-staging,
// use-sigstore-attachments}. Returns the read URL, or "" when it has none.
absl::StatusOr<std::string> ReadUrl(YamlDocument& doc, yaml_node_t* node, std::string_view where) {
  if (node->type == YAML_SCALAR_NODE && node->data.scalar.length == 0) return std::string();  // `ns:` with no value
  if (node->type != YAML_MAPPING_NODE) return Invalid(StrCat(where, " must be a mapping"));
  std::string lookaside, sigstore;
  for (yaml_node_pair_t* p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; ++p) {
    yaml_node_t* k = doc.Node(p->key);
    yaml_node_t* v = doc.Node(p->value);
    if (k == nullptr || v == nullptr || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) {
      return Invalid(StrCat(where, ": members must be scalars"));
    }
    std::string key = Scalar(k);
    if (key == "lookaside") {
      lookaside = Scalar(v);
    } else if (key == "sigstore") {
      sigstore = Scalar(v);
    } else if (key != "lookaside-staging" && key != "sigstore-staging" && key != "use-sigstore-attachments") {
      return Invalid(StrCat(where, ": unknown key `", Sanitize(key, 40), "`"));
    }
  }
  return lookaside.empty() ? sigstore : lookaside;
}

}  // namespace

absl::StatusOr<LookasideConfig> LookasideConfig::Parse(std::string_view yaml) {
  LookasideConfig config;
  if (yaml.find_first_not_of(" \t\r\n") == std::string_view::npos) return config;
  YamlDocument doc;
  if (auto s = doc.Load(yaml); !s.ok()) return s;
  yaml_node_t* root = doc.Root();
  if (root == nullptr) return config;
  if (root->type != YAML_MAPPING_NODE) return Invalid("the top level must be a mapping");
  for (yaml_node_pair_t* p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; ++p) {
    yaml_node_t* k = doc.Node(p->key);
    yaml_node_t* v = doc.Node(p->value);
    if (k == nullptr || v == nullptr || k->type != YAML_SCALAR_NODE) return Invalid("top-level keys must be scalars");
    std::string key = Scalar(k);
    if (key == "default-docker") {
      auto url = ReadUrl(doc, v, "default-docker");
      if (!url.ok()) return url.status();
      if (!url->empty()) config.default_ = *url;
    } else if (key == "docker") {
      if (v->type != YAML_MAPPING_NODE) return Invalid("`docker` must be a mapping");
      for (yaml_node_pair_t* q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; ++q) {
        yaml_node_t* nk = doc.Node(q->key);
        yaml_node_t* nv = doc.Node(q->value);
        if (nk == nullptr || nv == nullptr || nk->type != YAML_SCALAR_NODE)
          return Invalid("`docker` keys must be scalars");
        std::string ns = Scalar(nk);
        auto url = ReadUrl(doc, nv, StrCat("docker.", Sanitize(ns, 80)));
        if (!url.ok()) return url.status();
        if (!config.namespaces_.emplace(ns, *url).second) {
          return Invalid(StrCat("namespace `", Sanitize(ns, 80), "` is defined twice"));
        }
      }
    } else {
      return Invalid(StrCat("unknown top-level key `", Sanitize(key, 40), "`"));
    }
  }
  return config;
}

std::optional<std::string> LookasideConfig::BaseUrlFor(const ImageReference& image) const {
  std::vector<std::string> candidates = Policy::ScopeCandidates(image);
  for (const std::string& candidate : candidates) {
    if (candidate.starts_with("*.")) break;  // registries.d has no wildcard namespaces
    auto it = namespaces_.find(candidate);
    if (it != namespaces_.end() && !it->second.empty()) return it->second;
  }
  return default_;
}

std::string LookasideConfig::SignatureUrl(std::string_view base, const ImageReference& image, const Digest& digest,
                                          int index) {
  std::string d = digest.String();
  if (size_t colon = d.find(':'); colon != std::string::npos) d[colon] = '=';
  std::string_view trimmed = base;
  while (trimmed.ends_with('/')) trimmed.remove_suffix(1);
  return StrCat(trimmed, "/", image.repository(), "@", d, "/signature-", index);
}

}  // namespace cdh::image
