// What wakes a blocked XREAD or XREADGROUP and what it answers, and which stream commands
// make a WATCHing EXEC fail, byte for byte against a real redis-server 7.0.
#include <string>
#include <vector>

#include "tests/redis/differential_script.h"

namespace ekv::redis::differential {
namespace {

// A blocked reader of several streams is answered with the first stream a write signalled
// (Redis serves the ready keys in the order the writes signalled them, one reply per
// client): the others' new entries wait for its next read. A signalled stream whose last
// id passed the reader's answers even when the new entries are gone again (an empty list).
TEST_F(DifferentialTest, StreamBlockedReadAnswersTheSignalledStream) {
  Compare({
      Cmd({"XADD", "a", "1-0", "f", "v"}),
      Cmd({"XADD", "b", "1-0", "f", "v"}),
      On(1, {"XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"XADD", "b", "2-0", "f", "v"}),
      Cmd({"XADD", "a", "2-0", "f", "v"}),
      Cmd({"EXEC"}),
      Read(1),
      On(1, {"XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "b", "2-0", "2-0"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"XADD", "a", "3-0", "f", "v"}),
      Cmd({"XADD", "a", "4-0", "f", "v"}),
      Cmd({"XADD", "b", "3-0", "f", "v"}),
      Cmd({"EXEC"}),
      Read(1),
      On(1, {"XREAD", "BLOCK", "0", "STREAMS", "b", "a", "$", "$"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"XADD", "a", "5-0", "f", "v"}),
      Cmd({"XDEL", "a", "5-0"}),
      Cmd({"XADD", "b", "5-0", "f", "v"}),
      Cmd({"EXEC"}),
      Read(1),
      // RESP3: a map of one stream.
      On(2, {"HELLO", "3"}),
      On(2, {"XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"XADD", "b", "6-0", "f", "v"}),
      Cmd({"XADD", "a", "6-0", "f", "v"}),
      Cmd({"EXEC"}),
      Read(2),
      // A consumer of two streams: delivered the signalled stream's entries only.
      Cmd({"XGROUP", "CREATE", "a", "g", "$"}),
      Cmd({"XGROUP", "CREATE", "b", "g", "$"}),
      On(1, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "a", "b", ">", ">"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"XADD", "b", "7-0", "f", "v"}),
      Cmd({"XADD", "a", "7-0", "f", "v"}),
      Cmd({"EXEC"}),
      Read(1),
      Cmd({"XPENDING", "a", "g"}),
      Cmd({"XPENDING", "b", "g"}),
      // Entries gone again: an empty list, and the consumer is created.
      Cmd({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">"}),
      On(2, {"XREADGROUP", "GROUP", "g", "late", "BLOCK", "0", "STREAMS", "a", "b", ">", ">"}, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"XADD", "b", "8-0", "f", "v"}),
      Cmd({"XDEL", "b", "8-0"}),
      Cmd({"EXEC"}),
      Read(2),
      Cmd({"XPENDING", "b", "g"}),
      Cmd({"XINFO", "GROUPS", "b"}),
      Cmd({"XGROUP", "DELCONSUMER", "b", "g", "late"}),
      Cmd({"XGROUP", "DELCONSUMER", "a", "g", "late"}),
  });
}

// A consumer reading several streams at once records its pending entries in each (with
// the streams in several groups too, where the command runs over the keys' snapshots).
TEST_F(DifferentialTest, StreamConsumerOfSeveralStreamsKeepsItsPending) {
  Compare({
      Cmd({"XGROUP", "CREATE", "a", "g", "$", "MKSTREAM"}),
      Cmd({"XGROUP", "CREATE", "b", "g", "$", "MKSTREAM"}),
      Cmd({"XADD", "a", "1-0", "f", "v"}),
      Cmd({"XREADGROUP", "GROUP", "g", "late", "STREAMS", "a", "b", ">", ">"}),
      Cmd({"XPENDING", "a", "g"}),
      Cmd({"XPENDING", "b", "g"}),
      Cmd({"XINFO", "GROUPS", "b"}),
      Cmd({"XGROUP", "DELCONSUMER", "b", "g", "late"}),
      Cmd({"XGROUP", "DELCONSUMER", "a", "g", "late"}),
  });
}

// A consumer blocked on a group is answered with an error when the group goes
// (-NOGROUP) or the stream does (-UNBLOCKED: DEL, UNLINK, RENAME, FLUSHALL), and stays
// blocked when the key is a stream with the group again by the time its turn comes.
TEST_F(DifferentialTest, StreamBlockedGroupReadWhenTheGroupGoes) {
  const std::vector<std::string> read = {"XREADGROUP", "GROUP",   "g", "c", "BLOCK",
                                         "0",          "STREAMS", "s", ">"};
  const std::vector<std::string> create = {"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"};
  Compare({
      Cmd(create),
      On(1, read, 0),
      AfterBlocked(1, {"XGROUP", "DESTROY", "s", "g"}),
      Read(1),
      Cmd(create),
      On(1, read, 0),
      AfterBlocked(1, {"DEL", "s"}),
      Read(1),
      Cmd(create),
      On(1, read, 0),
      AfterBlocked(1, {"UNLINK", "s"}),
      Read(1),
      Cmd(create),
      On(1, read, 0),
      AfterBlocked(1, {"RENAME", "s", "t"}),
      Read(1),
      Cmd(create),
      On(1, read, 0),
      AfterBlocked(1, {"FLUSHALL"}),
      Read(1),
      // Deleted and made again without the group: the new stream's XADD finds no group.
      Cmd(create),
      On(1, read, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"DEL", "s"}),
      Cmd({"XADD", "s", "5-0", "f", "v"}),
      Cmd({"EXEC"}),
      Read(1),
      // Deleted and made again with the group: still blocked, served by the next XADD.
      Cmd({"DEL", "s"}),
      Cmd(create),
      On(1, read, 0),
      AfterBlocked(1, {"MULTI"}),
      Cmd({"DEL", "s"}),
      Cmd(create),
      Cmd({"EXEC"}),
      AfterBlocked(1, {"XADD", "s", "6-0", "f", "v"}),
      Read(1),
      // An XREAD (no group) stays blocked through a DEL.
      On(1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, 0),
      AfterBlocked(1, {"DEL", "s"}),
      AfterBlocked(1, {"XADD", "s", "7-0", "f", "v"}),
      Read(1),
      // RESP3 errors are the same bytes.
      On(2, {"HELLO", "3"}),
      Cmd({"XGROUP", "CREATE", "s", "g", "$"}),
      On(2, read, 0),
      AfterBlocked(1, {"XGROUP", "DESTROY", "s", "g"}),
      Read(2),
  });
}

// Of the stream commands, Redis 7.0 marks a key modified (a WATCHing EXEC aborts) for
// XADD, XTRIM and XDEL that removed something, and XGROUP CREATE ... MKSTREAM that made
// the stream; XSETID, XACK, XCLAIM, XAUTOCLAIM, XREADGROUP and the other XGROUP
// subcommands leave WATCH alone.
TEST_F(DifferentialTest, StreamCommandsAndWatch) {
  const std::vector<std::vector<std::string>> commands = {
      {"XADD", "s", "9-0", "f", "v"},
      {"XADD", "s", "1-0", "f", "v"},
      {"XTRIM", "s", "MAXLEN", "100"},
      {"XTRIM", "s", "MAXLEN", "1"},
      {"XDEL", "s", "99-0"},
      {"XDEL", "s", "3-0"},
      {"XSETID", "s", "50-0"},
      {"XACK", "s", "g", "2-0"},
      {"XACK", "s", "g", "99-0"},
      {"XCLAIM", "s", "g", "c2", "0", "2-0"},
      {"XCLAIM", "s", "g", "c2", "0", "99-0"},
      {"XCLAIM", "s", "g", "c2", "0", "2-0", "JUSTID"},
      {"XCLAIM", "s", "g", "c2", "100000", "2-0"},
      {"XAUTOCLAIM", "s", "g", "c3", "0", "0"},
      {"XAUTOCLAIM", "s", "g", "c3", "0", "0", "JUSTID"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"},
      {"XREADGROUP", "GROUP", "g", "newc", "STREAMS", "s", "0"},
      {"XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "s", ">"},
      {"XGROUP", "CREATE", "s", "g2", "$"},
      {"XGROUP", "CREATE", "s", "g", "$"},
      {"XGROUP", "SETID", "s", "g", "0"},
      {"XGROUP", "DESTROY", "s", "g"},
      {"XGROUP", "DESTROY", "s", "nog"},
      {"XGROUP", "CREATECONSUMER", "s", "g", "c9"},
      {"XGROUP", "DELCONSUMER", "s", "g", "c"},
      {"XGROUP", "DELCONSUMER", "s", "g", "nobody"},
      {"XGROUP", "CREATE", "s", "g3", "$", "MKSTREAM"},
      {"XGROUP", "CREATE", "new", "g", "$", "MKSTREAM"},
  };
  std::vector<Step> script;
  for (const std::vector<std::string>& command : commands) {
    const std::string watched = command[2] == "new" ? "new" : "s";
    const std::vector<Step> steps = {
        Cmd({"DEL", "s", "new"}),
        Cmd({"XADD", "s", "1-0", "a", "1"}),
        Cmd({"XADD", "s", "2-0", "b", "2"}),
        Cmd({"XADD", "s", "3-0", "c", "3"}),
        Cmd({"XGROUP", "CREATE", "s", "g", "0"}),
        Cmd({"XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"}),
        On(1, {"WATCH", watched}),
        Cmd(command),
        On(1, {"MULTI"}),
        On(1, {"PING"}),
        On(1, {"EXEC"}),
    };
    script.insert(script.end(), steps.begin(), steps.end());
  }
  Compare(script);
}

}  // namespace
}  // namespace ekv::redis::differential
