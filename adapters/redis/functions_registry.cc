#include "adapters/redis/functions_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "core/kv/codec.h"
#include "core/redis/executor.h"

namespace ekv::redis {

const FunctionLibrary* FunctionsRegistry::FindFunction(absl::string_view name,
                                                       const RegisteredFunction** function) const {
  for (const auto& [library_name, library] : libraries) {
    for (const RegisteredFunction& f : library.functions) {
      if (absl::EqualsIgnoreCase(f.name, name)) {
        *function = &f;
        return &library;
      }
    }
  }
  return nullptr;
}

size_t FunctionsRegistry::function_count() const {
  size_t count = 0;
  for (const auto& [name, library] : libraries) count += library.functions.size();
  return count;
}

std::string EncodeFunctionLibraries(const std::map<std::string, FunctionLibrary>& libraries) {
  std::string out;
  kv::AppendVarint64(&out, libraries.size());
  for (const auto& [name, library] : libraries) {
    kv::AppendLengthPrefixed(&out, library.name);
    kv::AppendLengthPrefixed(&out, library.code);
    kv::AppendVarint64(&out, library.functions.size());
    for (const RegisteredFunction& f : library.functions) {
      kv::AppendLengthPrefixed(&out, f.name);
      kv::AppendByte(&out, f.description.has_value() ? 1 : 0);
      if (f.description.has_value()) kv::AppendLengthPrefixed(&out, *f.description);
      kv::AppendVarint64(&out, f.flags);
    }
  }
  return out;
}

absl::StatusOr<FunctionsRegistry> DecodeFunctionsRegistry(const std::optional<std::string>& value) {
  FunctionsRegistry registry;
  if (!value.has_value()) return registry;
  const absl::Status corrupt = absl::DataLossError("the functions registry record is corrupt");
  std::optional<uint64_t> version = redis_core::FunctionsRegistryVersion(*value);
  if (!version.has_value()) return corrupt;
  registry.version = *version;
  kv::ByteReader reader(absl::string_view(*value).substr(value->find('\n') + 1));
  auto count = reader.ReadVarint64();
  if (!count.ok() || *count > reader.remaining()) return corrupt;
  for (uint64_t i = 0; i < *count; ++i) {
    FunctionLibrary library;
    auto name = reader.ReadLengthPrefixed();
    auto code = reader.ReadLengthPrefixed();
    auto functions = reader.ReadVarint64();
    if (!name.ok() || !code.ok() || !functions.ok() || *functions > reader.remaining()) {
      return corrupt;
    }
    library.name = std::string(*name);
    library.code = std::string(*code);
    for (uint64_t j = 0; j < *functions; ++j) {
      RegisteredFunction f;
      auto function_name = reader.ReadLengthPrefixed();
      auto has_description = reader.ReadByte();
      if (!function_name.ok() || !has_description.ok()) return corrupt;
      f.name = std::string(*function_name);
      if (*has_description == 1) {
        auto description = reader.ReadLengthPrefixed();
        if (!description.ok()) return corrupt;
        f.description = std::string(*description);
      }
      auto flags = reader.ReadVarint64();
      if (!flags.ok()) return corrupt;
      f.flags = static_cast<uint32_t>(*flags);
      library.functions.push_back(std::move(f));
    }
    registry.libraries.emplace(library.name, std::move(library));
  }
  if (reader.remaining() != 0) return corrupt;
  return registry;
}

}  // namespace ekv::redis
