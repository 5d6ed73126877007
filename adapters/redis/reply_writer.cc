#include "adapters/redis/reply_writer.h"

#include <vector>

#include "core/util/assert.h"

namespace ekv::redis {
namespace {

// Alternating elements as an array of two-element arrays, one per pair: RESP2's form of
// a keyed map (XREAD's streams), RESP3's of member/score pairs (ZRANGE WITHSCORES).
void WritePairArrays(RespWriter* writer, const std::vector<redis_core::Reply>& elements) {
  writer->ArrayHeader(elements.size() / 2);
  for (size_t i = 0; i + 1 < elements.size(); i += 2) {
    writer->ArrayHeader(2);
    WriteReply(writer, elements[i]);
    WriteReply(writer, elements[i + 1]);
  }
}

}  // namespace

void WriteReply(RespWriter* writer, const redis_core::Reply& reply) {
  using Kind = redis_core::Reply::Kind;
  switch (reply.kind) {
    case Kind::kStatus:
      return writer->SimpleString(reply.text);
    case Kind::kError:
      return writer->Error(reply.text);
    case Kind::kInteger:
      return writer->Integer(reply.integer);
    case Kind::kBulk:
      return writer->Bulk(reply.text);
    case Kind::kNil:
      return writer->Null();
    case Kind::kNilArray:
      return writer->NullArray();
    case Kind::kDouble:
      return writer->Double(reply.number);
    case Kind::kBool:
      return writer->Bool(reply.integer != 0);
    case Kind::kBigNumber:
      return writer->BigNumber(reply.text);
    case Kind::kHumanDouble:
      return writer->DoubleText(reply.text);
    case Kind::kVerbatim:
      EKV_ASSERT(reply.text.size() >= 4, "a verbatim string carries its 3-byte format");
      return writer->Verbatim(absl::string_view(reply.text).substr(0, 3),
                              absl::string_view(reply.text).substr(4));
    case Kind::kArray:
      writer->ArrayHeader(reply.elements.size());
      break;
    case Kind::kMap:
      writer->MapHeader(reply.elements.size() / 2);
      break;
    case Kind::kSet:
      writer->SetHeader(reply.elements.size());
      break;
    case Kind::kKeyedMap:
      if (writer->resp3()) {
        writer->MapHeader(reply.elements.size() / 2);
        break;
      }
      return WritePairArrays(writer, reply.elements);  // RESP2: (key, value)
    case Kind::kPairs:
      if (!writer->resp3()) {
        writer->ArrayHeader(reply.elements.size());
        break;
      }
      return WritePairArrays(writer, reply.elements);  // RESP3: (member, score)
  }
  for (const redis_core::Reply& element : reply.elements) WriteReply(writer, element);
}

std::string EncodeReplyFor(int protocol, const redis_core::Reply& reply) {
  RespWriter writer(protocol);
  WriteReply(&writer, reply);
  return writer.Take();
}

}  // namespace ekv::redis
