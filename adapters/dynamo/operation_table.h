// OperationTable: every DynamoDB operation ekv serves, one entry each (name, handler,
// summary), and Handle, which takes one HTTP request's X-Amz-Target and body through the
// checks DynamoDB makes before an operation runs (known target, a JSON object body) and
// turns the handler's answer or error into the HTTP reply. Handlers live in
// operations/*.cc, one small function per operation, and see only the parsed request and
// the TableStore.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dynamo/table_store.h"
#include "adapters/dynamo/task.h"

namespace ekv::dynamo {

// The X-Amz-Target prefix of every operation of DynamoDB's API version 2012-08-10.
inline constexpr absl::string_view kTargetPrefix = "DynamoDB_20120810.";
inline constexpr absl::string_view kContentType = "application/x-amz-json-1.0";

// A handler's answer is the reply's JSON body; JSON null means an empty body, which is how
// DynamoDB answers the operations without output (TagResource, UntagResource).
using OperationHandler = Task<absl::StatusOr<nlohmann::json>> (*)(const nlohmann::json& request,
                                                                  TableStore* store);

struct OperationSpec {
  std::string name;  // as in X-Amz-Target, e.g. "PutItem"
  OperationHandler handler = nullptr;
  std::string summary;
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
};

class OperationTable {
 public:
  static const OperationTable& Default();
  explicit OperationTable(std::vector<OperationSpec> specs);

  const OperationSpec* Find(absl::string_view name) const;
  // One request, start to end (`target` and `body` must outlive the task). Never throws.
  Task<HttpReply> Handle(absl::string_view target, absl::string_view body, TableStore* store) const;
  const std::map<std::string, OperationSpec, std::less<>>& specs() const { return specs_; }

 private:
  std::map<std::string, OperationSpec, std::less<>> specs_;
};

// The handlers (operations/*.cc).
Task<absl::StatusOr<nlohmann::json>> CreateTableOperation(const nlohmann::json& request,
                                                          TableStore* store);
Task<absl::StatusOr<nlohmann::json>> DescribeTableOperation(const nlohmann::json& request,
                                                            TableStore* store);
Task<absl::StatusOr<nlohmann::json>> ListTablesOperation(const nlohmann::json& request,
                                                         TableStore* store);
Task<absl::StatusOr<nlohmann::json>> DeleteTableOperation(const nlohmann::json& request,
                                                          TableStore* store);
Task<absl::StatusOr<nlohmann::json>> PutItemOperation(const nlohmann::json& request,
                                                      TableStore* store);
Task<absl::StatusOr<nlohmann::json>> GetItemOperation(const nlohmann::json& request,
                                                      TableStore* store);
Task<absl::StatusOr<nlohmann::json>> DeleteItemOperation(const nlohmann::json& request,
                                                         TableStore* store);
Task<absl::StatusOr<nlohmann::json>> UpdateItemOperation(const nlohmann::json& request,
                                                         TableStore* store);
Task<absl::StatusOr<nlohmann::json>> QueryOperation(const nlohmann::json& request,
                                                    TableStore* store);
Task<absl::StatusOr<nlohmann::json>> ScanOperation(const nlohmann::json& request,
                                                   TableStore* store);
Task<absl::StatusOr<nlohmann::json>> BatchWriteItemOperation(const nlohmann::json& request,
                                                             TableStore* store);
Task<absl::StatusOr<nlohmann::json>> BatchGetItemOperation(const nlohmann::json& request,
                                                           TableStore* store);

Task<absl::StatusOr<nlohmann::json>> UpdateTableOperation(const nlohmann::json& request,
                                                          TableStore* store);
Task<absl::StatusOr<nlohmann::json>> TagResourceOperation(const nlohmann::json& request,
                                                          TableStore* store);
Task<absl::StatusOr<nlohmann::json>> UntagResourceOperation(const nlohmann::json& request,
                                                            TableStore* store);
Task<absl::StatusOr<nlohmann::json>> ListTagsOfResourceOperation(const nlohmann::json& request,
                                                                 TableStore* store);
Task<absl::StatusOr<nlohmann::json>> UpdateTimeToLiveOperation(const nlohmann::json& request,
                                                               TableStore* store);
Task<absl::StatusOr<nlohmann::json>> DescribeTimeToLiveOperation(const nlohmann::json& request,
                                                                 TableStore* store);
Task<absl::StatusOr<nlohmann::json>> DescribeLimitsOperation(const nlohmann::json& request,
                                                             TableStore* store);
Task<absl::StatusOr<nlohmann::json>> DescribeContinuousBackupsOperation(
    const nlohmann::json& request, TableStore* store);
Task<absl::StatusOr<nlohmann::json>> UpdateContinuousBackupsOperation(const nlohmann::json& request,
                                                                      TableStore* store);
Task<absl::StatusOr<nlohmann::json>> TransactWriteItemsOperation(const nlohmann::json& request,
                                                                 TableStore* store);
Task<absl::StatusOr<nlohmann::json>> TransactGetItemsOperation(const nlohmann::json& request,
                                                               TableStore* store);

// An error as DynamoDB's reply body and HTTP status.
HttpReply ErrorReply(const absl::Status& status);

}  // namespace ekv::dynamo
