// Client-side caching (CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO) byte for byte
// against a real redis-server 7.0: the replies, the errors and the invalidation pushes
// (RESP3 `>2 invalidate [key]`, a RESP2 REDIRECT connection's __redis__:invalidate
// messages, FLUSHALL's null, tracking-redir-broken).
//
// Whether an invalidation was sent is read from the tracking connection's stream: after
// the write answered, a PING on the tracking connection answers after every push the
// write caused (both servers append them before the writer's reply, or at the end of
// the loop turn for BCAST).
#include <regex>
#include <string>
#include <vector>

#include "tests/redis/differential_script.h"

namespace ekv::redis::differential {
namespace {

TEST_F(DifferentialTest, ClientTrackingRepliesAndInvalidations) {
  std::vector<Step> script = {
      // Errors, as Redis words them, and the replies of a connection not tracking.
      Cmd({"CLIENT", "TRACKING"}),
      Cmd({"CLIENT", "TRACKING", "maybe"}),
      Cmd({"CLIENT", "TRACKING", "on", "foo"}),
      Cmd({"CLIENT", "TRACKING", "on", "PREFIX", "p"}),
      Cmd({"CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"}),
      Cmd({"CLIENT", "TRACKING", "on", "BCAST", "OPTIN"}),
      Cmd({"CLIENT", "TRACKING", "on", "REDIRECT", "abc"}),
      Cmd({"CLIENT", "TRACKING", "on", "REDIRECT", "987654"}),
      Cmd({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"}),
      Cmd({"CLIENT", "CACHING", "yes"}),
      Cmd({"CLIENT", "CACHING"}),
      Cmd({"CLIENT", "GETREDIR"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      Cmd({"CLIENT", "TRACKING", "off"}),
      Cmd({"CONFIG", "GET", "tracking-table-max-keys"}),
      // RESP3, default mode: a read key is invalidated once, by another connection's write.
      Cmd({"HELLO", "3"}),
      Cmd({"CLIENT", "TRACKING", "on"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      Cmd({"CLIENT", "GETREDIR"}),
      On(1, {"SET", "a", "1"}),
      Cmd({"GET", "a"}),
      On(1, {"SET", "a", "2"}),
      Cmd({"PING"}, 2),  // the push, then PONG
      On(1, {"SET", "a", "3"}),
      Cmd({"PING"}),  // told once: nothing until it reads again
      Cmd({"MGET", "a", "b", "c"}),
      On(1, {"SET", "b", "x"}),
      On(1, {"DEL", "a", "nokey"}),
      Cmd({"PING"}, 3),
      // A write that changes nothing invalidates nothing.
      Cmd({"SMEMBERS", "s"}),
      On(1, {"SADD", "s", "m"}),
      Cmd({"SMEMBERS", "s"}),
      On(1, {"SADD", "s", "m"}),
      On(1, {"DEL", "c"}),
      Cmd({"PING"}, 2),
      // Its own write: the push follows the reply.
      Cmd({"HSET", "h", "f", "1"}),
      Cmd({"HGET", "h", "f"}),
      Cmd({"HDEL", "h", "f"}, 2),
      // A transaction's reads are tracked when EXEC runs them; its push after EXEC's reply.
      Cmd({"MSET", "x", "1", "y", "2"}),
      Cmd({"GET", "x"}),
      Cmd({"MULTI"}),
      Cmd({"INCR", "x"}),
      Cmd({"GET", "y"}),
      Cmd({"EXEC"}, 2),
      On(1, {"SET", "y", "3"}),
      Cmd({"PING"}, 2),
      // Writes of every kind reach the reader.
      Cmd({"MGET", "l", "z", "n"}),
      On(1, {"RPUSH", "l", "v"}),
      On(1, {"ZADD", "z", "1", "m"}),
      On(1, {"INCRBY", "n", "5"}),
      Cmd({"PING"}, 4),
      Cmd({"LRANGE", "l", "0", "-1"}),
      On(1, {"RENAME", "l", "l2"}),
      Cmd({"PING"}, 2),
      // NOLOOP: its own writes are not reported, others' are.
      Cmd({"CLIENT", "TRACKING", "on", "NOLOOP"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      Cmd({"GET", "p"}),
      Cmd({"SET", "p", "1"}),
      Cmd({"GET", "p"}),
      On(1, {"SET", "p", "2"}),
      Cmd({"PING"}, 2),
      Cmd({"CLIENT", "TRACKING", "off"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      // OPTIN: only the command after CLIENT CACHING yes is tracked.
      Cmd({"CLIENT", "TRACKING", "on", "OPTIN"}),
      Cmd({"CLIENT", "CACHING", "no"}),
      Cmd({"CLIENT", "CACHING", "maybe"}),
      Cmd({"GET", "o1"}),
      Cmd({"CLIENT", "CACHING", "yes"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      Cmd({"GET", "o2"}),
      Cmd({"GET", "o3"}),
      On(1, {"MSET", "o1", "1", "o2", "2", "o3", "3"}),
      Cmd({"PING"}, 2),
      Cmd({"CLIENT", "TRACKING", "on", "OPTOUT"}),
      Cmd({"CLIENT", "TRACKING", "off"}),
      // OPTOUT: every read but the one after CLIENT CACHING no.
      Cmd({"CLIENT", "TRACKING", "on", "OPTOUT"}),
      Cmd({"CLIENT", "CACHING", "no"}),
      Cmd({"GET", "o1"}),
      Cmd({"GET", "o2"}),
      On(1, {"MSET", "o1", "1", "o2", "2"}),
      Cmd({"PING"}, 2),
      Cmd({"CLIENT", "TRACKING", "on", "BCAST"}),
      Cmd({"CLIENT", "TRACKING", "off"}),
      // BCAST: every changed key under the prefixes, one message per prefix.
      Cmd({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "order:"}),
      Cmd({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:1"}),
      Cmd({"CLIENT", "TRACKING", "on"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      On(1, {"SET", "user:1", "a"}),
      Cmd({"PING"}, 2),
      On(1, {"MSET", "order:1", "a", "other", "b", "order:2", "c"}),
      Cmd({"PING"}, 2),
      Cmd({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "cart:"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      On(1, {"SET", "cart:9", "a"}),
      Cmd({"PING"}, 2),
      Cmd({"CLIENT", "TRACKING", "off"}),
      // BCAST with NOLOOP: its own changes are left out.
      Cmd({"CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"}),
      Cmd({"SET", "mine", "1"}),
      Cmd({"PING"}),
      On(1, {"SET", "theirs", "1"}),
      Cmd({"PING"}, 2),
      Cmd({"CLIENT", "TRACKING", "off"}),
      // FLUSHALL and FLUSHDB: every tracking connection gets a null.
      Cmd({"CLIENT", "TRACKING", "on"}),
      Cmd({"GET", "a"}),
      On(1, {"FLUSHALL"}),
      Cmd({"PING"}, 2),
      Cmd({"FLUSHDB"}, 2),
      Cmd({"GET", "a"}),
      On(1, {"SET", "a", "1"}),
      Cmd({"PING"}, 2),
      // A RESP2 connection without REDIRECT gets nothing (no push in RESP2).
      On(2, {"CLIENT", "TRACKING", "on"}),
      On(2, {"GET", "a"}),
      On(1, {"SET", "a", "2"}),
      On(2, {"PING"}),
      On(2, {"CLIENT", "TRACKINGINFO"}),
      // RESET turns tracking off.
      Cmd({"RESET"}),
      Cmd({"CLIENT", "TRACKINGINFO"}),
      Cmd({"CLIENT", "GETREDIR"}),
  };
  Compare(script);
}

// The connection ids differ between the servers: REDIRECT takes the id each server gave,
// and the replies that show it have it masked.
std::vector<std::string> RunRedirects(int port) {
  std::vector<std::string> out;
  auto id_of = [](RespClient& client) {
    const std::string reply = client.Call({"CLIENT", "ID"});
    return reply.size() > 3 ? reply.substr(1, reply.size() - 3) : reply;
  };
  auto mask = [](std::string reply, const std::string& id) {
    return std::regex_replace(reply, std::regex(":" + id + "\r\n"), ":<redirect>\r\n");
  };
  RespClient writer(port);
  // A RESP2 REDIRECT connection: messages on __redis__:invalidate once it subscribed.
  RespClient sink(port);
  const std::string sink_id = id_of(sink);
  RespClient tracker(port);
  out.push_back(tracker.Call({"CLIENT", "TRACKING", "on", "REDIRECT", sink_id}));
  out.push_back(mask(tracker.Call({"CLIENT", "GETREDIR"}), sink_id));
  out.push_back(mask(tracker.Call({"CLIENT", "TRACKINGINFO"}), sink_id));
  out.push_back(tracker.Call({"GET", "k"}));
  out.push_back(writer.Call({"SET", "k", "1"}));  // not subscribed yet: nothing
  out.push_back(sink.Call({"SUBSCRIBE", "__redis__:invalidate"}));
  out.push_back(tracker.Call({"GET", "k"}));
  out.push_back(writer.Call({"SET", "k", "2"}));
  out.push_back(sink.ReadReply());
  out.push_back(tracker.Call({"MGET", "k", "k2"}));
  out.push_back(writer.Call({"MSET", "k", "3", "k2", "3"}));
  out.push_back(sink.ReadReply());
  out.push_back(sink.ReadReply());
  out.push_back(writer.Call({"FLUSHALL"}));
  out.push_back(sink.ReadReply());
  // Several trackers, one RESP3 REDIRECT connection.
  RespClient sink3(port);
  out.push_back(Mask(sink3.Call({"HELLO", "3"})));
  const std::string sink3_id = id_of(sink3);
  RespClient tracker3(port);
  out.push_back(tracker3.Call({"HELLO", "3"}).substr(0, 2));
  out.push_back(tracker3.Call({"CLIENT", "TRACKING", "on", "REDIRECT", sink3_id}));
  out.push_back(tracker3.Call({"GET", "r"}));
  out.push_back(tracker.Call({"CLIENT", "TRACKING", "on", "REDIRECT", sink3_id}));
  out.push_back(tracker.Call({"GET", "r"}));
  out.push_back(writer.Call({"SET", "r", "1"}));
  out.push_back(sink3.ReadReply());
  out.push_back(sink3.ReadReply());
  // The REDIRECT connection goes: the RESP3 tracker is told once a key of it changes.
  out.push_back(tracker3.Call({"GET", "r"}));
  out.push_back(sink3.Call({"QUIT"}));
  out.push_back(sink3.ClosedByServer() ? "<closed>" : "<still open>");
  out.push_back(writer.Call({"SET", "r", "2"}));
  out.push_back(mask(tracker3.ReadReply(), sink3_id));
  out.push_back(mask(tracker3.Call({"CLIENT", "TRACKINGINFO"}), sink3_id));
  return out;
}

TEST(TrackingDifferentialTest, RedirectToResp2AndResp3Connections) {
  BothServers both(kRedisConfDefaults);
  ASSERT_TRUE(both.Ready());
  const std::vector<std::string> want = RunRedirects(both.redis.port());
  const std::vector<std::string> got = RunRedirects(both.ekv.port());
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << "step " << i;
  }
}

}  // namespace
}  // namespace ekv::redis::differential
