// AclCatalog's lookup structures, built once from the generated list (acl_catalog.cc).
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "adapters/redis/acl_catalog.h"
#include "core/util/assert.h"

namespace ekv::redis {

const AclCatalog& AclCatalog::Get() {
  static const AclCatalog* catalog = new AclCatalog();
  return *catalog;
}

AclCatalog::AclCatalog() {
  const std::vector<AclCatalogEntry>& entries = AclCatalogEntries();
  EKV_ASSERT(entries.size() <= kMaxCommands, "the ACL catalogue outgrew its bitmap bound");
  for (const AclCatalogEntry& entry : entries) {
    const size_t id = names_.size();
    EKV_ASSERT(id == 0 || names_.back() < entry.name, "the ACL catalogue is sorted and unique");
    names_.emplace_back(entry.name);
    EKV_ASSERT(entry.arity != 0, "a command's arity counts its name, so it is never 0");
    arities_.push_back(entry.arity);
    uint32_t bits = 0;
    for (absl::string_view category : absl::StrSplit(entry.categories, ' ', absl::SkipEmpty())) {
      const std::optional<size_t> index = CategoryIndex(category);
      EKV_ASSERT(index.has_value(), "the ACL catalogue names a category Redis 7.0 lacks");
      bits |= uint32_t{1} << *index;
      by_category_[*index].push_back(id);
    }
    categories_.push_back(bits);
    subcommands_.emplace_back();
    ids_.emplace(entry.name, id);
    if (const size_t bar = entry.name.find('|'); bar != absl::string_view::npos) {
      auto parent = ids_.find(entry.name.substr(0, bar));
      EKV_ASSERT(parent != ids_.end(), "a subcommand follows its container in name order");
      subcommands_[parent->second].push_back(id);
    }
  }
}

std::optional<size_t> AclCatalog::Find(absl::string_view full_name) const {
  auto it = ids_.find(full_name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> AclCatalog::CategoryIndex(absl::string_view name) {
  for (size_t i = 0; i < kAclCategories.size(); ++i) {
    if (absl::EqualsIgnoreCase(kAclCategories[i], name)) return i;
  }
  return std::nullopt;
}

}  // namespace ekv::redis
