// WriteReply: a redis_core::Reply (the executor's protocol-independent reply) in the
// connection's protocol, shaped as Redis 7.0 shapes it in RESP2 and RESP3.
#pragma once

#include <string>

#include "adapters/redis/resp_writer.h"
#include "core/redis/reply.h"

namespace ekv::redis {

void WriteReply(RespWriter* writer, const redis_core::Reply& reply);
std::string EncodeReplyFor(int protocol, const redis_core::Reply& reply);

}  // namespace ekv::redis
