// DynamoOperationTest: runs operations through OperationTable::Handle (the HTTP body in,
// the HTTP status and body out) against the in-memory fake backend. Shared by the
// operation test files.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/dynamo/operation_table.h"
#include "gtest/gtest.h"
#include "tests/dynamo/fake_backend.h"

namespace ekv::dynamo {

using nlohmann::json;

class DynamoOperationTest : public ::testing::Test {
 protected:
  // Runs `operation` with `body`; remembers the HTTP status.
  json Call(const std::string& operation, const json& body) {
    const std::string target = "DynamoDB_20120810." + operation;
    const std::string text = body.dump();
    HttpReply reply = RunInline(OperationTable::Default().Handle(target, text, &store_));
    status_ = reply.status;
    body_ = reply.body;
    return reply.body.empty() ? json(nullptr) : json::parse(reply.body);
  }
  json Ok(const std::string& operation, const json& body) {
    json reply = Call(operation, body);
    EXPECT_EQ(status_, 200) << operation << " " << body.dump() << " -> " << reply.dump();
    return reply;
  }
  // The error's short name ("ValidationException"), checking the wire shape on the way.
  std::string Error(const std::string& operation, const json& body) {
    json reply = Call(operation, body);
    EXPECT_NE(status_, 200) << reply.dump();
    EXPECT_TRUE(reply.contains("message")) << reply.dump();
    const std::string type = reply.value("__type", "");
    return type.substr(type.find('#') + 1);
  }
  void CreateOrdersTable() {
    Ok("CreateTable", json::parse(R"({
      "TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                    {"AttributeName": "seq", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "customer", "AttributeType": "S"},
                               {"AttributeName": "seq", "AttributeType": "N"}]})"));
  }
  void PutOrder(const std::string& customer, int seq, const std::string& note = "") {
    json item = {{"customer", {{"S", customer}}}, {"seq", {{"N", std::to_string(seq)}}}};
    if (!note.empty()) item["note"] = {{"S", note}};
    Ok("PutItem", {{"TableName", "orders"}, {"Item", item}});
  }
  std::vector<int> Seqs(const json& reply) {
    std::vector<int> out;
    for (const json& item : reply["Items"])
      out.push_back(std::stoi(item["seq"]["N"].get<std::string>()));
    return out;
  }

  testing::FakeBackend backend_;
  TableStore store_{&backend_};
  int status_ = 0;
  std::string body_;  // the last reply's HTTP body
};

}  // namespace ekv::dynamo
