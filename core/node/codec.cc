#include "core/node/codec.h"

namespace ekv::node {

void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutBytes(std::string& out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out.append(bytes);
}

void PutOptionalBytes(std::string& out, const std::optional<std::string>& bytes) {
  out.push_back(bytes.has_value() ? 1 : 0);
  if (bytes.has_value()) PutBytes(out, *bytes);
}

std::string EncodeTimestampRequest(uint64_t at_least) {
  std::string out;
  if (at_least != 0) PutVarint(out, at_least);
  return out;
}

bool DecodeTimestampRequest(std::string_view value, uint64_t* at_least) {
  *at_least = 0;
  if (value.empty()) return true;
  Decoder decoder(value);
  return decoder.Varint(at_least) && decoder.Done();
}

bool Decoder::Varint(uint64_t* value) {
  uint64_t result = 0;
  // A uint64 needs at most 10 groups of 7 bits.
  for (int shift = 0; shift < 70; shift += 7) {
    if (input_.empty()) return false;
    const uint8_t byte = static_cast<uint8_t>(input_.front());
    input_.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

bool Decoder::Bytes(std::string* bytes) {
  uint64_t size = 0;
  if (!Varint(&size) || size > input_.size()) return false;
  bytes->assign(input_.substr(0, size));
  input_.remove_prefix(size);
  return true;
}

bool Decoder::OptionalBytes(std::optional<std::string>* bytes) {
  if (input_.empty()) return false;
  const char present = input_.front();
  input_.remove_prefix(1);
  if (present == 0) {
    bytes->reset();
    return true;
  }
  if (present != 1) return false;
  std::string value;
  if (!Bytes(&value)) return false;
  *bytes = std::move(value);
  return true;
}

}  // namespace ekv::node
