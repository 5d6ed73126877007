// ServerControl: what connection, server and pub/sub commands (CLIENT, AUTH, INFO, CONFIG,
// PUBLISH, SUBSCRIBE, ...) need from the server beyond their own connection: the other
// connections, the settings, counters, and the subscription registry. RedisServer's event
// loop implements it; unit tests use a fake. Every call runs on the loop thread (handlers
// call it while they run), so implementations need no locking.
#pragma once

#include <memory>

#include "adapters/redis/command_stats.h"
#include "adapters/redis/slow_log.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ekv::redis {

struct ConnectionState;
class AclUsers;  // acl_users.h

// Settings CONFIG GET reports and, where marked, CONFIG SET changes at run time.
struct RedisSettings {
  // requirepass: CONFIG GET shows it; CONFIG SET (and the server at start, when set) makes
  // it the default user's only password (empty: nopass), as Redis 7 does.
  std::string requirepass;
  // The node's users (acl_users.h): AUTH, the ACL checks in Dispatch and the ACL command
  // use them. Shared by the copies of the settings; null until users() makes the default
  // set (the default user alone, with requirepass).
  std::shared_ptr<AclUsers> acl;
  AclUsers& users();  // acl_users.cc
  // --redis_users_file: what ACL LOAD reads and ACL SAVE writes; empty: both answer
  // Redis's "not configured to use an ACL file" error.
  std::string acl_file;
  // When set, called once per command that passed Dispatch's checks, with its table name
  // ("get") and the time from Dispatch to its reply, on the thread that replies
  // (ekv-server: the ekv_request_duration_seconds{front_door="redis"} histograms).
  std::function<void(const std::string& command, std::chrono::nanoseconds elapsed)> observe_latency;
  size_t maxclients = 10000;                           // settable
  long long proto_max_bulk_len = 512LL * 1024 * 1024;  // settable (1 MB .. 512 MB... as Redis)
  long long timeout_seconds = 0;                       // idle timeout; ekv keeps none: 0 only
  // Output buffer bytes a subscriber may hold unread before it is disconnected (Redis's
  // client-output-buffer-limit pubsub hard limit, 32 MB).
  size_t pubsub_output_limit_bytes = 32 * 1024 * 1024;
  // notify-keyspace-events (core/redis/keyspace_events.h classes; settable; 0: off, as in
  // Redis). This node's writes publish their events to subscribers on every node.
  uint32_t notify_keyspace_events = 0;
  // tracking-table-max-keys (settable; Redis's default): keys remembered for default-mode
  // CLIENT TRACKING before the oldest are invalidated and forgotten; 0: no limit.
  long long tracking_table_max_keys = 1'000'000;
};

// INFO's tracking figures (this node's).
struct TrackingStats {
  size_t clients = 0;  // connections with tracking on
  size_t keys = 0;
  size_t items = 0;
  size_t prefixes = 0;
};

// Counters INFO and CONFIG RESETSTAT see.
struct ServerStats {
  uint64_t connections_received = 0;
  uint64_t commands_processed = 0;
  uint64_t rejected_connections = 0;
  uint64_t pubsub_messages_delivered = 0;
  // INFO commandstats / errorstats; shared with the reply callbacks (backend threads).
  std::shared_ptr<CommandStats> commands = std::make_shared<CommandStats>();
  // SLOWLOG and its two settings; shared with the reply callbacks. CONFIG RESETSTAT keeps
  // it, as Redis's does.
  std::shared_ptr<SlowLog> slowlog = std::make_shared<SlowLog>();
};

class ServerControl {
 public:
  virtual ~ServerControl() = default;

  virtual RedisSettings& settings() = 0;
  virtual ServerStats& stats() = 0;
  // Listening port, process start (unix seconds), for INFO.
  virtual int tcp_port() const = 0;
  virtual int64_t start_unix_seconds() const = 0;

  // Connections open now, by id (CLIENT LIST order).
  virtual std::vector<const ConnectionState*> Connections() const = 0;
  // Closes the connection once its current reply is written (CLIENT KILL); false when no
  // such connection.
  virtual bool Kill(uint64_t connection_id) = 0;

  // Pub/sub. Subscribe/Unsubscribe keep the registry in step with the connection's own
  // sets (ConnectionState::channels/patterns), which the handlers change.
  virtual void Subscribe(ConnectionState& connection, const std::string& channel, bool pattern) = 0;
  virtual void Unsubscribe(ConnectionState& connection, const std::string& channel,
                           bool pattern) = 0;
  // Delivers to every subscriber (on every node when the server has a fan-out) and calls
  // `done` with how many received it; `done` may run later, on the loop thread.
  virtual void Publish(std::string channel, std::string message,
                       std::function<void(int64_t receivers)> done) = 0;
  // PUBSUB CHANNELS / NUMSUB / NUMPAT, over this node's subscribers.
  virtual std::vector<std::string> ActiveChannels(absl::string_view pattern) const = 0;
  virtual int64_t ChannelSubscribers(const std::string& channel) const = 0;
  virtual int64_t PatternCount() const = 0;

  // Blocking commands. CanBlock: false on servers that cannot block a connection (the
  // command then runs once, as inside MULTI). Block: the connection's command `args`
  // waits on `keys` (timeout_ms 0: forever); the server answers it through the
  // connection's reply path, never through the handler's ReplyFn.
  virtual bool CanBlock() const { return false; }
  virtual void Block(ConnectionState& connection, std::vector<std::string> args,
                     std::vector<std::string> keys, uint64_t timeout_ms) {
    (void)connection, (void)args, (void)keys, (void)timeout_ms;
  }
  // INFO's blocked_clients.
  virtual size_t BlockedClientCount() const { return 0; }
  // CLIENT UNBLOCK: answers a connection of this node blocked in a blocking command as if it
  // timed out, or with Redis's UNBLOCKED error; false when it is not blocked.
  virtual bool Unblock(uint64_t connection_id, bool error) {
    (void)connection_id, (void)error;
    return false;
  }

  // MONITOR: the connection starts / stops receiving the feed; FeedMonitors shows one
  // command `from` runs (monitor_feed.h) to every monitor of this node.
  virtual void StartMonitoring(ConnectionState& connection) { (void)connection; }
  virtual void StopMonitoring(ConnectionState& connection) { (void)connection; }
  virtual bool HasMonitors() const { return false; }
  virtual void FeedMonitors(const ConnectionState& from, const std::vector<std::string>& args) {
    (void)from, (void)args;
  }

  // Client-side caching (tracking_table.h). TrackingEnabled: CLIENT TRACKING ON just set
  // the connection's `tracking` (prefixes_added: its new BCAST prefixes); `ready` runs,
  // on the loop thread, once every node will report its writes (maybe at once).
  // TrackingDisabled: before the connection's `tracking` is cleared.
  virtual void TrackingEnabled(ConnectionState& connection,
                               const std::vector<std::string>& prefixes_added,
                               std::function<void()> ready) {
    (void)connection, (void)prefixes_added;
    ready();
  }
  virtual void TrackingDisabled(ConnectionState& connection) { (void)connection; }
  virtual TrackingStats Tracking() const { return {}; }

  // Runs `task` on the loop thread with the state of connection `connection_id` (null once
  // it closed): how a command answered on a backend thread continues with a handler that
  // touches the connection or the server (EXEC running a queued CONFIG or CLIENT after
  // the group ran the rest). On the loop thread itself it runs at once. Thread-safe.
  virtual void RunOnLoop(uint64_t connection_id, std::function<void(ConnectionState*)> task) = 0;
};

}  // namespace ekv::redis
