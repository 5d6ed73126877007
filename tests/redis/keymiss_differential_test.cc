// `keymiss` keyspace notifications (notify-keyspace-events class m, not part of A) as Redis
// 7.0 sends them for read commands, byte for byte against a real redis-server 7.0.
#include <string>
#include <vector>

#include "tests/redis/differential_script.h"

namespace ekv::redis::differential {
namespace {

TEST_F(DifferentialTest, KeymissNotificationsOfReads) {
  std::vector<Step> script = {
      Cmd({"CONFIG", "SET", "notify-keyspace-events", "Km"}),
      On(1, {"PSUBSCRIBE", "*"}),
      Cmd({"SET", "a", "1"}),
      Cmd({"RPUSH", "l", "x"}),
  };
  auto notify = [&](std::vector<std::string> args, int messages) {
    script.push_back(Cmd(std::move(args)));
    script.push_back(Read(1, messages));
  };
  notify({"GET", "nokey"}, 1);
  notify({"GET", "a"}, 0);
  notify({"EXISTS", "a", "b", "c"}, 2);
  notify({"TYPE", "nokey"}, 1);
  notify({"TTL", "nokey"}, 1);
  notify({"STRLEN", "nokey"}, 1);
  notify({"HGET", "nokey", "f"}, 1);
  notify({"HGETALL", "nokey"}, 1);
  notify({"LRANGE", "nokey", "0", "-1"}, 1);
  notify({"LRANGE", "l", "0", "-1"}, 0);
  notify({"LPOS", "nokey", "x"}, 1);
  notify({"SMEMBERS", "nokey"}, 1);
  notify({"SUNION", "nokey", "a2"}, 2);
  notify({"ZSCORE", "nokey", "m"}, 1);
  notify({"XRANGE", "nokey", "-", "+"}, 1);
  notify({"XREAD", "STREAMS", "nokey", "nokey2", "0", "0"}, 4);
  notify({"MGET", "a", "nokey", "nokey2"}, 2);
  notify({"GETRANGE", "nokey", "0", "1"}, 1);
  notify({"DUMP", "nokey"}, 1);
  notify({"OBJECT", "ENCODING", "nokey"}, 0);
  notify({"DEL", "nokey"}, 0);
  notify({"INCR", "counter"}, 0);
  // An expired key is a miss (its `expired` event needs class x).
  script.push_back(Cmd({"SET", "e", "v", "PX", "1"}));
  script.push_back(After(20, {"GET", "e"}));
  script.push_back(Read(1, 1));
  script.push_back(Cmd({"MULTI"}));
  script.push_back(Cmd({"GET", "nokey"}));
  script.push_back(Cmd({"GET", "nokey3"}));
  notify({"EXEC"}, 2);
  // A (every class but m and n) publishes no miss.
  script.push_back(Cmd({"CONFIG", "SET", "notify-keyspace-events", "KEA"}));
  notify({"GET", "nokey"}, 0);
  script.push_back(Cmd({"CONFIG", "SET", "notify-keyspace-events", "Em"}));
  notify({"GET", "nokey"}, 1);
  notify({"EXISTS", "a"}, 0);
  Compare(script);
}

}  // namespace
}  // namespace ekv::redis::differential
