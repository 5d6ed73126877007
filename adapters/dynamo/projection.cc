#include "adapters/dynamo/projection.h"

#include <map>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/errors.h"

namespace ekv::dynamo {
namespace {

// The paths as a tree: a leaf takes the whole value below it; an inner node takes only its
// children, by member name (maps) or by index (lists) -- never both (CheckProjectionPaths).
struct Node {
  bool leaf = false;
  std::map<std::string, Node> members;
  std::map<int, Node> elements;
};

Node BuildTree(const std::vector<Path>& paths) {
  Node root;
  for (const Path& path : paths) {
    Node* node = &root;
    for (const PathElement& step : path) {
      node = step.index >= 0 ? &node->elements[step.index] : &node->members[step.name];
    }
    node->leaf = true;
  }
  return root;
}

std::optional<AttributeValue> ProjectValue(const AttributeValue& value, const Node& node) {
  if (node.leaf) return value;
  if (!node.members.empty() && value.type == AttributeType::kM) {
    AttributeValue out;
    out.type = AttributeType::kM;
    for (const auto& [name, child] : node.members) {
      auto it = value.map.find(name);
      if (it == value.map.end()) continue;
      if (auto projected = ProjectValue(it->second, child)) out.map.emplace(name, *projected);
    }
    if (out.map.empty()) return std::nullopt;
    return out;
  }
  if (!node.elements.empty() && value.type == AttributeType::kL) {
    AttributeValue out;
    out.type = AttributeType::kL;
    for (const auto& [index, child] : node.elements) {
      if (static_cast<size_t>(index) >= value.list.size()) break;  // std::map: ascending
      if (auto projected = ProjectValue(value.list[index], child)) {
        out.list.push_back(*std::move(projected));
      }
    }
    if (out.list.empty()) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::string PathListString(const Path& path) {
  std::vector<std::string> parts;
  for (const PathElement& e : path) {
    parts.push_back(e.index >= 0 ? absl::StrCat("[", e.index, "]") : e.name);
  }
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

absl::Status CheckProjectionPaths(const std::vector<Path>& paths) {
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      const Path& a = paths[i];
      const Path& b = paths[j];
      const size_t n = std::min(a.size(), b.size());
      size_t common = 0;
      while (common < n && a[common] == b[common]) ++common;
      const auto message = [&](const char* what) {
        return ValidationError(absl::StrCat("Invalid ProjectionExpression: Two document paths ",
                                            what,
                                            " with each other; must remove or rewrite one of "
                                            "these paths; path one: ",
                                            PathListString(a), ", path two: ", PathListString(b)));
      };
      if (common == n) return message("overlap");
      if ((a[common].index >= 0) != (b[common].index >= 0)) return message("conflict");
    }
  }
  return absl::OkStatus();
}

AttributeMap Project(const AttributeMap& item, const std::vector<Path>& paths) {
  const Node root = BuildTree(paths);
  AttributeMap out;
  for (const auto& [name, child] : root.members) {
    auto it = item.find(name);
    if (it == item.end()) continue;
    if (auto projected = ProjectValue(it->second, child)) out.emplace(name, *projected);
  }
  return out;
}

}  // namespace ekv::dynamo
