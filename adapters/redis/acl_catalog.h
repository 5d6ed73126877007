// AclCatalog: Redis 7.0's commands and subcommands with their ACL categories, the universe
// ACL rules are evaluated over. Redis evaluates rules over every command it has, not only
// the ones ekv serves: `+eval` is a valid rule, `+nosuch` is not, and `ACL LIST` describes
// `+@all -@dangerous` by comparing category sizes over the whole set. ekv keeps that set
// as data (acl_catalog.cc, generated from redis-server 7.0.15 by
// scripts/gen-redis-acl-catalog.py), so rules, their errors and their descriptions are
// Redis's whatever subset of commands ekv serves. Each entry's arity is Redis's too:
// Dispatch checks a container's subcommand (its name and arity) as Redis's processCommand
// does, before any handler runs and also while MULTI queues.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace ekv::redis {

// Redis 7.0's ACL categories, in its order (ACL CAT; the order ACL LIST tries them in).
inline constexpr std::array<absl::string_view, 21> kAclCategories = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};

struct AclCatalogEntry {
  absl::string_view name;  // lower case; a subcommand is "container|sub"
  // Redis's convention: N > 0 exactly N arguments, -N at least N (a subcommand counts the
  // container's name and its own: CONFIG GET is -3).
  int arity = 0;
  absl::string_view categories;  // space-separated category names
};

// The generated list, sorted by name (acl_catalog.cc).
const std::vector<AclCatalogEntry>& AclCatalogEntries();

// The list compiled for lookups. Ids are positions in name order, so a container comes
// before its subcommands.
class AclCatalog {
 public:
  // A bound on the catalogue, so permission bitmaps can be fixed-size.
  static constexpr size_t kMaxCommands = 512;

  static const AclCatalog& Get();

  size_t size() const { return names_.size(); }
  // `full_name` lower case ("get", "client|list"); nullopt when Redis has no such command.
  std::optional<size_t> Find(absl::string_view full_name) const;
  const std::string& name(size_t id) const { return names_[id]; }
  int arity(size_t id) const { return arities_[id]; }
  // Bit i set: in category kAclCategories[i].
  uint32_t categories(size_t id) const { return categories_[id]; }
  // The subcommands' ids of a container (empty for a plain command).
  const std::vector<size_t>& subcommands(size_t id) const { return subcommands_[id]; }
  // Every id of category `category` (an index into kAclCategories).
  const std::vector<size_t>& InCategory(size_t category) const { return by_category_[category]; }

  // The index into kAclCategories of a category name (case-insensitive, without '@').
  static std::optional<size_t> CategoryIndex(absl::string_view name);

 private:
  AclCatalog();

  std::vector<std::string> names_;
  std::vector<int> arities_;
  std::vector<uint32_t> categories_;
  std::vector<std::vector<size_t>> subcommands_;
  std::array<std::vector<size_t>, kAclCategories.size()> by_category_;
  absl::flat_hash_map<std::string, size_t> ids_;  // lookups only, never iterated
};

}  // namespace ekv::redis
