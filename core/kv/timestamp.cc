#include "core/kv/timestamp.h"

#include "absl/strings/str_cat.h"

namespace ekv::kv {

std::string FormatTimestamp(Timestamp ts) { return absl::StrCat(PhysicalMs(ts), ".", Logical(ts)); }

}  // namespace ekv::kv
