// Early-return helpers for absl::Status / absl::StatusOr, local to kv until core/util
// grows shared ones.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define EKV_KV_CONCAT_INNER(a, b) a##b
#define EKV_KV_CONCAT(a, b) EKV_KV_CONCAT_INNER(a, b)

// Returns the status of `expr` from the enclosing function unless it is OK.
#define EKV_KV_RETURN_IF_ERROR(expr)               \
  do {                                             \
    ::absl::Status ekv_kv_status = (expr);         \
    if (!ekv_kv_status.ok()) return ekv_kv_status; \
  } while (false)

// `lhs` = the value of StatusOr `expr`, or returns its error. `lhs` may be a declaration
// ("auto x", "std::string x") or an existing lvalue.
#define EKV_KV_ASSIGN_OR_RETURN(lhs, expr) \
  EKV_KV_ASSIGN_OR_RETURN_IMPL(EKV_KV_CONCAT(ekv_kv_statusor_, __LINE__), lhs, expr)
#define EKV_KV_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) return statusor.status();           \
  lhs = *std::move(statusor)
