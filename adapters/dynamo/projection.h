// Projections: which attributes a read returns (ProjectionExpression, or the legacy
// AttributesToGet). A projection is a set of document paths; the projected item keeps, for
// each path that exists in the item, the value at that path inside the same enclosing
// structure: maps keep only the projected members, lists keep only the projected elements,
// in index order and renumbered from 0 (as DynamoDB returns them). A path that does not
// exist contributes nothing.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "adapters/dynamo/attribute_value.h"
#include "adapters/dynamo/expression.h"

namespace ekv::dynamo {

// Refuses paths that overlap (one a prefix of another: "a" and "a.b") or conflict (one
// step is a map member in one path and a list index in the other: "a.b" and "a[0]"), as
// DynamoDB does.
absl::Status CheckProjectionPaths(const std::vector<Path>& paths);

// The projected item. `paths` passed CheckProjectionPaths.
AttributeMap Project(const AttributeMap& item, const std::vector<Path>& paths);

// DynamoDB's rendering of a path in overlap messages: [a, b, [2]].
std::string PathListString(const Path& path);

}  // namespace ekv::dynamo
