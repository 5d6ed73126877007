// The connection commands a transaction may queue (MULTI ... EXEC): their replies depend
// only on their arguments, so the executor answers them in place, in order with the
// queued data commands. Outside a transaction the front door answers them itself.
#include "core/redis/executor.h"

namespace ekv::redis_core {

EKV_REDIS_HANDLER(CmdPing) {
  (void)ex;
  if (args.size() > 2) return Reply::Error("ERR wrong number of arguments for 'ping' command");
  return args.size() == 2 ? Reply::Bulk(args[1]) : Reply::Status("PONG");
}

EKV_REDIS_HANDLER(CmdEcho) {
  (void)ex;
  return Reply::Bulk(args[1]);
}

// UNWATCH queued inside MULTI: EXEC forgets every WATCH anyway, so nothing is left to do.
EKV_REDIS_HANDLER(CmdUnwatch) {
  (void)ex;
  (void)args;
  return Reply::Ok();
}

}  // namespace ekv::redis_core
