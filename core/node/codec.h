// Byte encoding helpers shared by the node's command format and state machine images.
//
// Little-endian varints and length-prefixed strings; decoding is bounds-checked and
// reports malformed input as an error rather than trusting it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ekv::node {

void PutVarint(std::string& out, uint64_t value);
void PutBytes(std::string& out, std::string_view bytes);
void PutOptionalBytes(std::string& out, const std::optional<std::string>& bytes);

// The value of a kTimestamp request: the timestamp must be above `at_least` (a version a
// snapshot read met in its uncertainty window, kv_state_machine.h). Empty: no bound.
std::string EncodeTimestampRequest(uint64_t at_least);
bool DecodeTimestampRequest(std::string_view value, uint64_t* at_least);

// Reads from the front of `input`, advancing it. Each returns false on malformed input.
class Decoder {
 public:
  explicit Decoder(std::string_view input) : input_(input) {}
  bool Varint(uint64_t* value);
  bool Bytes(std::string* bytes);
  bool OptionalBytes(std::optional<std::string>* bytes);
  bool Done() const { return input_.empty(); }

 private:
  std::string_view input_;
};

}  // namespace ekv::node
