// RespWriter: encodes Redis replies into a byte string, in RESP2 or RESP3 (HELLO picks
// the protocol per connection). Null, map and set types fall back to their RESP2 shapes
// (null bulk, flat array, array) when the connection speaks RESP2, as Redis does.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ekv::redis {

class RespWriter {
 public:
  explicit RespWriter(int protocol_version) : resp3_(protocol_version >= 3) {}

  void SimpleString(absl::string_view text);  // +text (CR/LF replaced by spaces)
  // -message; `message` starts with its error code, as Redis spells it ("ERR syntax
  // error", "NOPROTO unsupported protocol version"). CR/LF become spaces: an error is one
  // line.
  void Error(absl::string_view message);
  void Integer(int64_t value);
  void Bulk(absl::string_view bytes);
  void Null();       // RESP3 `_`, RESP2 null bulk `$-1`
  void NullArray();  // RESP3 `_`, RESP2 null array `*-1`
  // RESP3 `,text`, RESP2 a bulk of the text; the text is "%.17g" ("inf"/"-inf"), as
  // Redis 7.0's addReplyDouble writes it.
  void Double(double value);
  // The same with the text given (Redis's addReplyHumanLongDouble: GEOPOS's coordinates).
  void DoubleText(absl::string_view text);
  void ArrayHeader(size_t count);
  void MapHeader(size_t pairs);  // RESP3 `%`, RESP2 array of 2*pairs
  void SetHeader(size_t count);  // RESP3 `~`, RESP2 array
  // RESP3 verbatim string `=<n>\r\ntxt:...` (INFO, CLIENT LIST), a bulk in RESP2.
  void Verbatim(absl::string_view text);
  // The same with its 3-byte format ("txt", "mkd"; a script's {verbatim_string=}).
  void Verbatim(absl::string_view format, absl::string_view text);
  void Bool(bool value);                     // RESP3 `#t` / `#f`, RESP2 `:1` / `:0`
  void BigNumber(absl::string_view digits);  // RESP3 `(digits`, RESP2 a bulk
  void PushHeader(size_t count);             // RESP3 `>` (out-of-band pub/sub), RESP2 array

  bool resp3() const { return resp3_; }
  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  bool resp3_;
  std::string out_;
};

// One reply as bytes, for the common single-value replies.
std::string ErrorReply(absl::string_view message);
std::string SimpleStringReply(absl::string_view text);
std::string IntegerReply(int64_t value);

}  // namespace ekv::redis
