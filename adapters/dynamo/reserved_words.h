// DynamoDB's reserved words: an expression that names an attribute by one of them, bare
// (`status = :s`, `SET count = :c`), is refused ("Attribute name is a reserved keyword;
// reserved keyword: status"); the application must write a #placeholder from
// ExpressionAttributeNames instead. Refused here too, so that an application tested
// against ekv does not fail on DynamoDB with the same request.
#pragma once

#include <cstddef>

#include "absl/strings/string_view.h"

namespace ekv::dynamo {

// Whether `name` is one of DynamoDB's reserved words (case-insensitive).
bool IsReservedWord(absl::string_view name);
// How many there are (573), for tests.
size_t ReservedWordCount();

}  // namespace ekv::dynamo
