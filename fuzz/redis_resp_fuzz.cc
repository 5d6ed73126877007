// libFuzzer target: the Redis front door from bytes to replies without sockets. The input
// is split at a fuzzer-chosen point and fed to RespParser in two pieces (partial commands
// must resume correctly); each parsed command is dispatched through the real command
// table against a fake backend and a fake server (two connections, pub/sub registry).
// Invariants: the parser never asserts or hands out an empty command; every command
// answers exactly once, synchronously here, with one well-formed RESP reply; a parse
// error is sticky.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/resp_parser.h"
#include "core/util/assert.h"
#include "tests/redis/fake_backend.h"
#include "tests/redis/fake_server_control.h"
#include "tests/redis/resp_client.h"

namespace {

// True when `bytes` is a sequence of complete RESP replies and nothing else.
bool WellFormed(const std::string& bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    std::optional<size_t> length = ekv::redis::testing::ReplyLength(bytes, pos);
    if (!length.has_value() || *length == std::string::npos || *length == 0) return false;
    pos += *length;
  }
  return pos == bytes.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t split = data[0] % size;
  const bool second_connection = (data[1] & 1) != 0;
  absl::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  ekv::redis::RespLimits limits;
  limits.max_bulk_bytes = 1024;  // small limits reach the limit paths with short inputs
  limits.max_arguments = 64;
  limits.max_line_bytes = 256;
  limits.max_command_bytes = 4096;
  ekv::redis::RespParser parser(limits);
  ekv::redis::FakeBackend backend;
  ekv::redis::FakeServerControl server;
  ekv::redis::ConnectionState first, second;
  first.id = 1;
  second.id = 2;
  server.Register(&first);
  server.Register(&second);
  ekv::redis::ConnectionState* connection = second_connection ? &second : &first;

  std::string buffer;
  size_t fed = 0;
  for (size_t end : {std::min(split, input.size()), input.size()}) {
    buffer.append(input.data() + fed, end - fed);
    fed = end;
    while (!parser.failed()) {
      size_t consumed = 0;
      const ekv::redis::RespParser::Result result = parser.Parse(buffer, &consumed);
      EKV_ASSERT(consumed <= buffer.size(), "the parser consumed more than it was given");
      buffer.erase(0, consumed);
      if (result != ekv::redis::RespParser::Result::kCommand) break;
      EKV_ASSERT(!parser.command().empty(), "an empty command was handed out");
      int replies = 0;
      std::string reply;
      ekv::redis::CommandTable::Default().Dispatch(std::move(parser.command()), connection,
                                                   &backend, [&](std::string r) {
                                                     ++replies;
                                                     reply = std::move(r);
                                                   });
      EKV_ASSERT(replies == 1, "a command answered ", replies, " times");
      EKV_ASSERT(WellFormed(reply), "a reply is not well-formed RESP");
      // Alternate connections so one can publish to the other's subscriptions.
      connection = connection == &first ? &second : &first;
    }
  }
  if (parser.failed()) {
    size_t consumed = 0;
    EKV_ASSERT(parser.Parse("PING\r\n", &consumed) == ekv::redis::RespParser::Result::kError,
               "a parse error is not sticky");
  }
  for (const auto& [id, messages] : server.delivered) {
    for (const std::string& message : messages) {
      EKV_ASSERT(WellFormed(message), "a delivered message is not well-formed RESP");
    }
  }
  return 0;
}
