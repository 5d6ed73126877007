#include "adapters/redis/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapters/redis/acl_users.h"
#include "adapters/redis/blocked_clients.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/connection_stream.h"
#include "adapters/redis/keyspace_notifier.h"
#include "adapters/redis/monitor_feed.h"
#include "adapters/redis/pipeline_run.h"
#include "adapters/redis/pubsub_hub.h"
#include "adapters/redis/reply_writer.h"
#include "adapters/redis/resp_writer.h"
#include "adapters/redis/tracking_table.h"
#include "core/redis/executor.h"
#include "core/redis/keyspace_events.h"
#include "core/util/assert.h"

namespace ekv::redis {

absl::Status ParseListenAddress(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "' is not host:port (e.g. 127.0.0.1:6379)"));
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "': bad port"));
  }
  *host = h;
  *port = p;
  return absl::OkStatus();
}

namespace {

// epoll tags of the two non-connection descriptors; connection ids count up from 1.
constexpr uint64_t kListenerTag = ~uint64_t{0};
constexpr uint64_t kWakeTag = ~uint64_t{0} - 1;
constexpr size_t kReadChunkBytes = 64 * 1024;
// Consumed input (or written output) is dropped from the front of its buffer once it is
// this large, so buffers do not grow with a connection's lifetime.
constexpr size_t kCompactBytes = 64 * 1024;

// A backend answer on its way to the loop: one command's reply, or a run's replies and
// the keys it made ready (pipeline_run.h).
struct Completion {
  uint64_t connection_id = 0;
  std::string reply;
  std::optional<std::vector<std::string>> run_ready_keys;  // set for a run
  // Set: not a reply but work for the loop (ServerControl::RunOnLoop).
  std::function<void(ConnectionState*)> task;
};

// Backend answers on their way to the loop. Shared with the reply callbacks, which may
// run after the server stopped: then Push drops them (closed), and never touches the
// eventfd, whose number the OS may have reused.
class CompletionQueue {
 public:
  explicit CompletionQueue(int wake_fd) : wake_fd_(wake_fd) {}

  void Push(Completion completion) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    const bool was_empty = items_.empty();
    items_.push_back(std::move(completion));
    // One wake-up per burst: the loop drains everything queued when it wakes.
    if (was_empty) {
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
    }
  }

  std::vector<Completion> Drain() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(items_, {});
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    items_.clear();
  }

 private:
  std::mutex mu_;
  const int wake_fd_;
  bool closed_ = false;            // guarded by mu_
  std::vector<Completion> items_;  // guarded by mu_
};

void CloseFd(int fd) {
  if (fd >= 0) close(fd);
}

// "ip:port" of a socket's peer or local end, as CLIENT LIST shows it.
std::string SocketAddress(int fd, bool peer) {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  const int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size)
                      : getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  if (rc != 0) return "";
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    port = ntohs(v6->sin6_port);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    port = ntohs(v4->sin_port);
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace

// A message PUBLISHed on another node, on its way to this loop's subscribers; or, with
// `task` set, work for the loop thread (a blocked client's run answered).
struct RemoteDelivery {
  std::string channel;
  std::string message;
  std::function<void(int64_t)> done;
  std::function<void()> task;
};

namespace {

// Client-side caching between nodes, on the pub/sub fan-out (NUL-first channels, never
// delivered to subscribers). A node with tracking connections announces it every
// kTrackingAnnounceMs (and at once when a connection turns tracking on, answering only once
// its peers heard); a node that heard one within kTrackingHeardMs asks its groups for the
// keys each write changes and sends them to its peers.
constexpr absl::string_view kTrackingOnChannel("\0ekv:tracking-on", 17);
constexpr absl::string_view kTrackingKeysChannel("\0ekv:tracking-keys", 19);
constexpr absl::string_view kTrackingFlushChannel("\0ekv:tracking-flush", 20);
constexpr int64_t kTrackingAnnounceMs = 1000;
constexpr int64_t kTrackingHeardMs = 5000;
// A key expires when the group's clock passes its deadline, a clock close to this node's
// wall clock but not the same: the invalidation waits this much more, so a client that
// reads again at once finds it gone (Redis's active expiry is up to 100 ms late too).
constexpr int64_t kTrackingExpiryMarginMs = 50;
constexpr size_t kMaxScheduledExpiries = 1'000'000;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An invalidation's keys: RESP array of one key.
std::string OneKeyPayload(const std::string& key) {
  return absl::StrCat("*1\r\n$", key.size(), "\r\n", key, "\r\n");
}

bool IsFlush(const std::vector<std::string>& args) {
  return !args.empty() && (absl::EqualsIgnoreCase(args[0], "flushall") ||
                           absl::EqualsIgnoreCase(args[0], "flushdb"));
}

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Deliveries from other threads (the fan-out's gRPC handlers). Owned jointly by the server
// and its loop, so a delivery racing Stop() finds it closed (answered 0) instead of a
// destroyed loop; like CompletionQueue, it never writes the eventfd once closed.
class DeliveryInbox {
 public:
  explicit DeliveryInbox(int wake_fd) : wake_fd_(wake_fd) {}

  // False once closed: the caller answers 0 itself.
  bool Push(RemoteDelivery& delivery) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    items_.push_back(std::move(delivery));
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
    return true;
  }

  std::vector<RemoteDelivery> Drain(bool close) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = closed_ || close;
    return std::exchange(items_, {});
  }

 private:
  std::mutex mu_;
  const int wake_fd_;
  bool closed_ = false;                // guarded by mu_
  std::vector<RemoteDelivery> items_;  // guarded by mu_
};

class RedisServer::Loop final : public ServerControl {
 public:
  Loop(const RedisServerOptions& options, RedisBackend* backend, const TlsContext* tls,
       int listen_fd, int epoll_fd, int wake_fd, std::atomic<size_t>* connection_count)
      : options_(options),
        backend_(backend),
        tls_(tls),
        table_(CommandTable::Default()),
        listen_fd_(listen_fd),
        epoll_fd_(epoll_fd),
        wake_fd_(wake_fd),
        connection_count_(connection_count),
        completions_(std::make_shared<CompletionQueue>(wake_fd)) {}

  ~Loop() override {
    completions_->Close();  // before the eventfd closes: late answers must not write it
    FailDeliveries();
    // Streams first (a TLS stream's close_notify needs its descriptor still open).
    std::vector<int> fds;
    for (auto& [id, connection] : connections_) fds.push_back(connection->fd);
    connections_.clear();
    for (int fd : fds) CloseFd(fd);
    CloseFd(listen_fd_);
    CloseFd(wake_fd_);
    CloseFd(epoll_fd_);
  }

  void RequestStop() {
    stop_requested_.store(true);
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }

  void Run();

  const std::shared_ptr<DeliveryInbox>& inbox() const { return inbox_; }

  // ServerControl, on the loop thread.
  RedisSettings& settings() override { return settings_; }
  ServerStats& stats() override { return stats_; }
  int tcp_port() const override { return port_; }
  int64_t start_unix_seconds() const override { return start_unix_seconds_; }
  std::vector<const ConnectionState*> Connections() const override;
  bool Kill(uint64_t connection_id) override;
  void Subscribe(ConnectionState& connection, const std::string& channel, bool pattern) override {
    hub_.Add(connection.id, channel, pattern);
  }
  void Unsubscribe(ConnectionState& connection, const std::string& channel, bool pattern) override {
    hub_.Remove(connection.id, channel, pattern);
  }
  void Publish(std::string channel, std::string message,
               std::function<void(int64_t)> done) override;
  std::vector<std::string> ActiveChannels(absl::string_view pattern) const override {
    return hub_.Channels(pattern);
  }
  int64_t ChannelSubscribers(const std::string& channel) const override {
    return hub_.Subscribers(channel);
  }
  int64_t PatternCount() const override { return hub_.Patterns(); }
  bool CanBlock() const override { return true; }
  void Block(ConnectionState& connection, std::vector<std::string> args,
             std::vector<std::string> keys, uint64_t timeout_ms) override {
    // Redis shows a blocking command when it blocks, not when it is served.
    FeedMonitorsAfterReply(connection, "");
    connection.blocked_slowlog_args.clear();
    if (stats_.slowlog != nullptr && stats_.slowlog->enabled()) {
      connection.blocked_slowlog_args = SlowLog::EntryArgs(args);
    }
    // Redis counts the call when it blocks (its handler's reply is never called).
    connection.blocked_call = ConnectionState::BlockedCall{absl::AsciiStrToLower(args.front()),
                                                           std::chrono::steady_clock::now()};
    stats_.commands->RecordBlocked(connection.blocked_call->name);
    blocked_.Add(connection.id, std::move(args), std::move(keys), timeout_ms, MonotonicMs());
  }
  size_t BlockedClientCount() const override { return blocked_.blocked(); }
  bool Unblock(uint64_t connection_id, bool error) override {
    // Marked before: the answer comes at once when the waiter is not running, else after
    // its run; either way it is pumped by RunDeferred.
    auto it = connections_.find(connection_id);
    ConnectionState* state = it != connections_.end() ? &it->second->state : nullptr;
    const bool had_call = state != nullptr && state->blocked_call.has_value();
    if (had_call) state->blocked_call->unblocked = true;
    answering_unblock_ = true;
    const bool unblocked = blocked_.Unblock(connection_id, error);
    answering_unblock_ = false;
    if (!unblocked && had_call && state->blocked_call.has_value()) {
      state->blocked_call->unblocked = false;
    }
    return unblocked;
  }
  void RunOnLoop(uint64_t connection_id, std::function<void(ConnectionState*)> task) override;
  void StartMonitoring(ConnectionState& connection) override {
    if (connection.monitoring) return;
    connection.monitoring = true;
    monitors_.push_back(connection.id);
  }
  void StopMonitoring(ConnectionState& connection) override {
    if (!connection.monitoring) return;
    connection.monitoring = false;
    monitors_.erase(std::find(monitors_.begin(), monitors_.end(), connection.id));
  }
  bool HasMonitors() const override { return !monitors_.empty(); }
  void FeedMonitors(const ConnectionState& from, const std::vector<std::string>& args) override;
  void TrackingEnabled(ConnectionState& connection, const std::vector<std::string>& prefixes_added,
                       std::function<void()> ready) override;
  void TrackingDisabled(ConnectionState& connection) override;
  TrackingStats Tracking() const override {
    return TrackingStats{trackers_.size(), tracking_.keys(), tracking_.items(),
                         tracking_.prefixes()};
  }

  void set_port(int port) { port_ = port; }

 private:
  struct PendingCommand {
    std::vector<std::string> args;
    std::string protocol_error;  // non-empty: answer this error, then close
    size_t bytes = 0;            // as the client sent it
  };
  struct Connection {
    Connection(int fd, const RespLimits& limits, const TlsContext* tls)
        : fd(fd), stream(fd, tls), parser(limits) {}
    const int fd;
    ConnectionStream stream;  // plaintext or TLS
    ConnectionState state;
    RespParser parser;
    std::string input;
    size_t input_pos = 0;  // input[0, input_pos) is parsed
    std::deque<PendingCommand> pending;
    bool in_flight = false;  // a dispatched command has not answered yet
    bool closing = false;    // close once the replies so far are written
    std::string output;
    size_t output_pos = 0;  // output[0, output_pos) is written
    uint32_t events = 0;    // the epoll interest registered now
    // Invalidations due to this tracking connection while its command runs: written after
    // that command's reply, as Redis 7.0 does (tracking_pending_keys).
    std::vector<std::string> deferred_invalidations;
    // The running command is FLUSHALL/FLUSHDB, or EXEC with one: every tracking connection
    // is invalidated (null) once it answers.
    bool flush_in_flight = false;
    // The running command is a script whose KEYS are tracked if it reads (default-mode
    // tracking, CACHING allowing).
    bool track_script_keys = false;
    size_t unsent() const { return output.size() - output_pos; }
  };

  void Accept();
  void OnEvent(Connection& connection, uint32_t events);
  // Parses, dispatches and writes as far as possible, then updates the epoll interest or
  // closes the connection. Returns false when it closed it.
  bool Pump(Connection& connection);
  bool ParseSome(Connection& connection);
  bool DispatchSome(Connection& connection);
  // Writes what it can; false on a socket error.
  bool Flush(Connection& connection);
  // `run_ready_keys`: the answer of a run (DispatchRun), with the keys it made ready.
  void OnReply(uint64_t id, std::string reply,
               std::optional<std::vector<std::string>> run_ready_keys = std::nullopt);
  // Shows the monitors what the connection's answered command left in monitor_feed.
  void FeedMonitorsAfterReply(ConnectionState& connection, absl::string_view reply);
  void DrainCompletions();
  void Close(Connection& connection);
  void BeginStop();
  ReplyFn MakeReply(uint64_t id);
  RunReplyFn MakeRunReply(uint64_t id);
  // Appends a message to each local subscriber's output; returns how many got it.
  int64_t DeliverLocally(const std::string& channel, const std::string& message);
  void DrainDeliveries();
  void FailDeliveries();
  // Work a handler asked for that must not run inside it: connections to close (CLIENT
  // KILL, subscribers over their output limit) and outputs to flush (PUBLISH).
  void RunDeferred();
  // Blocked clients: one run of a waiter's command (answered on this thread through the
  // inbox), its answer, and the key-ready notices of this loop's writes, handed to the
  // local waiters and the other nodes once per loop turn.
  void RunBlocked(const BlockedClients::Args& args, BlockedClients::AttemptDone done);
  void AnswerBlocked(uint64_t id, absl::StatusOr<redis_core::Reply> reply);
  void FlushReadyKeys();
  // Keyspace notifications a reply brought back (KeyspaceNotifier), from any thread:
  // published on the loop, through the completion queue, so before the reply that came
  // with them is written.
  void QueueKeyEvents(const std::shared_ptr<CompletionQueue>& completions, uint32_t flags,
                      uint64_t writer, std::vector<redis_core::KeyEvent> events);
  void PublishKeyEvents(uint32_t flags, uint64_t writer,
                        const std::vector<redis_core::KeyEvent>& events);
  // Client-side caching (tracking_table.h). RememberReads: the keys of a read-only command
  // a default-mode tracking connection runs. InvalidateKeys: keys changed by `writer` (0:
  // not one of this node's connections); `broadcast`: BCAST prefixes see them too.
  // InvalidateAll: FLUSHALL. SendInvalidation / WriteInvalidation: one message, to the
  // tracking connection or its REDIRECT (after the tracker's running command, if any).
  // FlushTracking: once per loop turn: BCAST messages, the table limit, the announcements.
  void RememberReads(Connection& connection, const std::vector<std::string>& args);
  void InvalidateKeys(const std::vector<std::string>& keys, uint64_t writer, bool broadcast);
  void InvalidateAll(uint64_t writer);
  void SendInvalidation(Connection& tracker, std::string payload);
  void WriteInvalidation(Connection& tracker, const std::string& payload);
  void AppendPush(Connection& connection, const std::string& bytes);
  void FlushTracking();
  // A key this node's write left with a TTL: invalidated (here and on the peers) once it
  // expired, kTrackingExpiryMarginMs after its deadline (unix ms).
  void ScheduleExpiry(const std::string& key, int64_t deadline_ms);
  void InvalidateExpired();
  bool PeersTrack() const { return peer_tracking_until_ms_ > MonotonicMs(); }

  static thread_local Loop* current_;

  const RedisServerOptions& options_;
  RedisBackend* backend_;
  const TlsContext* tls_;  // null: plaintext
  const CommandTable& table_;
  int listen_fd_;
  const int epoll_fd_;
  const int wake_fd_;
  std::atomic<size_t>* connection_count_;
  std::shared_ptr<CompletionQueue> completions_;
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_;
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Connection>> connections_;
  RedisSettings settings_ = options_.settings;
  // Client-side caching: this node's table, its tracking connections, whether a peer
  // announced tracking connections lately (monotonic ms), and whether requests must ask for
  // the keys writes change (read by the notifier on any thread).
  TrackingTable tracking_;
  std::set<uint64_t> trackers_;
  int64_t peer_tracking_until_ms_ = 0;
  int64_t last_announce_ms_ = 0;
  std::atomic<bool> tracking_wanted_{false};
  size_t flushes_in_flight_ = 0;  // connections with flush_in_flight
  // Deadlines of keys written with a TTL while tracking was wanted (unix ms, then key);
  // at most tracking-table-max-keys (or kMaxScheduledExpiries when that is 0).
  std::multimap<int64_t, std::string> expiries_;
  // The connection whose command the loop thread is dispatching (0: none): the writer a
  // request's tracking keys are reported for (NOLOOP).
  static thread_local uint64_t dispatching_;
  // What the handlers and blocked clients run through: backend_ plus keyspace events.
  KeyspaceNotifier notifier_{
      backend_, &settings_.notify_keyspace_events,
      [this, completions = completions_](uint32_t flags, uint64_t writer,
                                         std::vector<redis_core::KeyEvent> events) {
        QueueKeyEvents(completions, flags, writer, std::move(events));
      },
      KeyspaceNotifier::Tracking{
          [this] { return tracking_wanted_.load(std::memory_order_relaxed); },
          [this] { return current_ == this ? dispatching_ : uint64_t{0}; }}};
  ServerStats stats_;
  // SLOWLOG of blocked clients: while a run's answer is handled, how long the run took;
  // while CLIENT UNBLOCK answers one, true.
  std::optional<int64_t> answering_run_usec_;
  bool answering_unblock_ = false;
  int port_ = 0;
  const int64_t start_unix_seconds_ = std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count();
  PubSubHub hub_;
  std::vector<uint64_t> to_kill_;
  std::vector<uint64_t> to_flush_;
  std::vector<uint64_t> monitors_;  // MONITOR connections, in the order they began
  std::shared_ptr<DeliveryInbox> inbox_ = std::make_shared<DeliveryInbox>(wake_fd_);
  BlockedClients blocked_{
      [this](const BlockedClients::Args& args, BlockedClients::AttemptDone done) {
        RunBlocked(args, std::move(done));
      },
      [this](uint64_t id, absl::StatusOr<redis_core::Reply> reply) {
        AnswerBlocked(id, std::move(reply));
      },
      BlockedClients::Options{}};
  // Notices of this loop turn's writes, each key once, in the order the writes named them
  // (Redis serves blocked stream readers in signal order).
  std::vector<std::string> ready_keys_;
  std::set<std::string> ready_key_set_;  // ready_keys_'s keys
  void AddReadyKeys(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) {
      if (ready_key_set_.insert(key).second) ready_keys_.push_back(key);
    }
  }
};

std::vector<const ConnectionState*> RedisServer::Loop::Connections() const {
  std::vector<const ConnectionState*> all;
  all.reserve(connections_.size());
  for (const auto& [id, connection] : connections_) all.push_back(&connection->state);
  // Hash order must not reach a reply: CLIENT LIST lists by id, as Redis does.
  std::sort(all.begin(), all.end(),
            [](const ConnectionState* a, const ConnectionState* b) { return a->id < b->id; });
  return all;
}

bool RedisServer::Loop::Kill(uint64_t connection_id) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end()) return false;
  if (blocked_.Has(connection_id)) {
    // Blocked: no reply is coming to wait for.
    blocked_.Cancel(connection_id);
    to_kill_.push_back(connection_id);
    return true;
  }
  if (it->second->in_flight) {
    // The killer itself (its CLIENT KILL is running) or a connection waiting for the
    // store: it gets that reply, then closes, as Redis's close-after-reply.
    it->second->state.close_after_reply = true;
  } else {
    to_kill_.push_back(connection_id);
  }
  return true;
}

int64_t RedisServer::Loop::DeliverLocally(const std::string& channel, const std::string& message) {
  const int64_t receivers =
      hub_.ForEachReceiver(channel, [&](uint64_t id, const std::string* pattern) {
        auto it = connections_.find(id);
        EKV_ASSERT(it != connections_.end(), "a closed connection is still subscribed");
        Connection& subscriber = *it->second;
        subscriber.output += MessageBytes(subscriber.state.protocol, channel, message, pattern);
        // A subscriber that does not read must not hold the node's memory: Redis's
        // client-output-buffer-limit for pub/sub clients disconnects it.
        if (subscriber.unsent() > settings_.pubsub_output_limit_bytes) {
          to_kill_.push_back(id);
        } else {
          to_flush_.push_back(id);
        }
      });
  stats_.pubsub_messages_delivered += static_cast<uint64_t>(receivers);
  return receivers;
}

void RedisServer::Loop::FeedMonitors(const ConnectionState& from,
                                     const std::vector<std::string>& args) {
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const std::string line = MonitorLine(now_us, from.address, args);
  for (const uint64_t id : monitors_) {
    auto it = connections_.find(id);
    EKV_ASSERT(it != connections_.end(), "a closed connection is still monitoring");
    Connection& monitor = *it->second;
    monitor.output += line;
    // A monitor that does not read must not hold the node's memory (Redis applies its
    // replica output limit to monitors).
    if (monitor.unsent() > settings_.pubsub_output_limit_bytes) {
      to_kill_.push_back(id);
    } else {
      to_flush_.push_back(id);
    }
  }
}

void RedisServer::Loop::Publish(std::string channel, std::string message,
                                std::function<void(int64_t)> done) {
  const int64_t local = DeliverLocally(channel, message);
  if (options_.fanout == nullptr) return done(local);
  options_.fanout->PublishToPeers(
      std::move(channel), std::move(message),
      [local, done = std::move(done)](int64_t remote) { done(local + remote); });
}

void RedisServer::Loop::DrainDeliveries() {
  for (RemoteDelivery& delivery : inbox_->Drain(/*close=*/false)) {
    if (delivery.task) {
      delivery.task();
      continue;
    }
    if (delivery.channel == kNotificationsChannel) {
      int64_t receivers = 0;
      if (std::optional<std::vector<Notification>> notifications =
              DecodeNotifications(delivery.message)) {
        for (const auto& [channel, message] : *notifications) {
          receivers += DeliverLocally(channel, message);
        }
      }
      delivery.done(receivers);
      continue;
    }
    if (delivery.channel == kTrackingOnChannel) {
      peer_tracking_until_ms_ = MonotonicMs() + kTrackingHeardMs;
      tracking_wanted_.store(true, std::memory_order_relaxed);
      delivery.done(0);
      continue;
    }
    if (delivery.channel == kTrackingKeysChannel) {
      if (std::optional<std::vector<std::string>> keys = DecodeKeysReady(delivery.message)) {
        InvalidateKeys(*keys, /*writer=*/0, /*broadcast=*/true);
      }
      delivery.done(0);
      continue;
    }
    if (delivery.channel == kTrackingFlushChannel) {
      InvalidateAll(/*writer=*/0);
      delivery.done(0);
      continue;
    }
    if (delivery.channel == kKeysReadyChannel) {
      if (std::optional<std::vector<std::string>> keys = DecodeKeysReady(delivery.message)) {
        blocked_.KeysReady(*keys);
      }
      delivery.done(0);
      continue;
    }
    delivery.done(DeliverLocally(delivery.channel, delivery.message));
  }
  RunDeferred();
}

void RedisServer::Loop::RunBlocked(const BlockedClients::Args& args,
                                   BlockedClients::AttemptDone done) {
  // A write: the pop happens at apply time in the owning group, once. XREAD only reads.
  const redis_core::CommandInfo* info = redis_core::FindCommand(args.front());
  notifier_.Execute(
      MakeRedisRequest(args), /*write=*/info == nullptr || info->write,
      [this, inbox = inbox_, done = std::move(done),
       start = std::chrono::steady_clock::now()](absl::StatusOr<redis_core::Reply> reply) mutable {
        const int64_t usec = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
        RemoteDelivery task;
        // Runs on the loop thread (the inbox is drained there), so `this` is alive.
        task.task = [this, usec, done = std::move(done), reply = std::move(reply)]() mutable {
          answering_run_usec_ = usec;
          done(std::move(reply));
          answering_run_usec_.reset();
        };
        // Refused once the loop stopped: the waiter is gone with it.
        inbox->Push(task);
      });
}

void RedisServer::Loop::AnswerBlocked(uint64_t id, absl::StatusOr<redis_core::Reply> reply) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ConnectionState& state = it->second->state;
  if (!state.blocked_slowlog_args.empty() && stats_.slowlog != nullptr) {
    // Redis 7.0 logs a blocked command when a write serves it, with the time of that run
    // (not the time it waited), and when CLIENT UNBLOCK answers it (0 us); not when it times
    // out (a timeout's answer is a null, which no serving run gives).
    const bool timed_out = reply.ok() && (reply->kind == redis_core::Reply::Kind::kNil ||
                                          reply->kind == redis_core::Reply::Kind::kNilArray);
    std::optional<int64_t> usec;
    if (answering_unblock_) {
      usec = 0;
    } else if (answering_run_usec_.has_value() && !timed_out) {
      usec = answering_run_usec_;
    }
    if (usec.has_value()) {
      stats_.slowlog->Record(std::move(state.blocked_slowlog_args), *usec, state.address,
                             state.name, absl::ToUnixSeconds(absl::Now()));
    }
    state.blocked_slowlog_args.clear();
  }
  std::string encoded =
      reply.ok() ? EncodeReplyFor(state.protocol, *reply) : BackendErrorReply(reply.status());
  if (state.blocked_call.has_value()) {
    stats_.commands->RecordUnblocked(
        state.blocked_call->name,
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                              state.blocked_call->since)
            .count(),
        encoded, state.blocked_call->unblocked);
    state.blocked_call.reset();
  }
  OnReply(id, std::move(encoded));
  to_flush_.push_back(id);  // pumped after BlockedClients returns
}

void RedisServer::Loop::FlushReadyKeys() {
  if (ready_keys_.empty()) return;
  std::vector<std::string> keys = std::move(ready_keys_);
  ready_keys_.clear();
  ready_key_set_.clear();
  blocked_.KeysReady(keys);
  if (options_.fanout != nullptr) {
    // Fire and forget: a notice lost with a peer is caught by the waiters' re-check.
    options_.fanout->PublishToPeers(std::string(kKeysReadyChannel), EncodeKeysReady(keys),
                                    [](int64_t) {});
  }
}

void RedisServer::Loop::QueueKeyEvents(const std::shared_ptr<CompletionQueue>& completions,
                                       uint32_t flags, uint64_t writer,
                                       std::vector<redis_core::KeyEvent> events) {
  if (current_ == this) return PublishKeyEvents(flags, writer, events);
  // Connection 0 is never a client's: the task runs with no connection state.
  completions->Push(Completion{0, "", std::nullopt,
                               [this, flags, writer, events = std::move(events)](ConnectionState*) {
                                 PublishKeyEvents(flags, writer, events);
                               }});
}

void RedisServer::Loop::PublishKeyEvents(uint32_t flags, uint64_t writer,
                                         const std::vector<redis_core::KeyEvent>& events) {
  // During a FLUSHALL its own deletions (and any other write meanwhile) need no key
  // invalidations: every tracking connection gets the flush's null once it answers.
  if ((flags & redis_core::kNotifyTrackingKeys) && flushes_in_flight_ == 0) {
    std::vector<std::string> changed;
    for (const redis_core::KeyEvent& event : events) {
      if (!redis_core::IsTrackingEvent(event)) continue;
      if (event.event == redis_core::kTrackingScriptReadEvent) {
        // The writer's script read something: its KEYS are tracked for it, as Redis does.
        auto it = connections_.find(writer);
        if (it != connections_.end() && it->second->track_script_keys) {
          tracking_.Remember(event.key, writer);
        }
        continue;
      }
      changed.push_back(event.key);
      uint64_t expire_ms = 0;
      if (!event.event.empty() && absl::SimpleAtoi(event.event.substr(1), &expire_ms)) {
        ScheduleExpiry(event.key, static_cast<int64_t>(expire_ms));
      }
    }
    if (!changed.empty()) {
      InvalidateKeys(changed, writer, /*broadcast=*/true);
      if (options_.fanout != nullptr && PeersTrack()) {
        // At most once, as pub/sub: a lost message leaves a peer's client a stale entry
        // (Redis's own invalidations are as reliable as its connections).
        options_.fanout->PublishToPeers(std::string(kTrackingKeysChannel), EncodeKeysReady(changed),
                                        [](int64_t) {});
      }
    }
  }
  const std::vector<Notification> notifications = NotificationsOf(flags, events);
  if (notifications.empty()) return;
  for (const auto& [channel, message] : notifications) DeliverLocally(channel, message);
  // One delivery per peer for all of them (pub/sub is at most once: nothing waits on it).
  if (options_.fanout != nullptr) {
    options_.fanout->PublishToPeers(std::string(kNotificationsChannel),
                                    EncodeNotifications(notifications), [](int64_t) {});
  }
}

void RedisServer::Loop::FailDeliveries() {
  for (RemoteDelivery& delivery : inbox_->Drain(/*close=*/true)) {
    if (!delivery.task) delivery.done(0);  // a task's waiter goes with the loop
  }
}

void RedisServer::Loop::RunDeferred() {
  while (!to_kill_.empty() || !to_flush_.empty()) {
    std::vector<uint64_t> kill = std::exchange(to_kill_, {});
    std::vector<uint64_t> flush = std::exchange(to_flush_, {});
    for (uint64_t id : kill) {
      // At once, like Redis: queued commands and unwritten output are dropped (a
      // subscriber over its output limit is not waited for).
      if (auto it = connections_.find(id); it != connections_.end()) Close(*it->second);
    }
    for (uint64_t id : flush) {
      if (auto it = connections_.find(id); it != connections_.end()) Pump(*it->second);
    }
  }
}

thread_local RedisServer::Loop* RedisServer::Loop::current_ = nullptr;
thread_local uint64_t RedisServer::Loop::dispatching_ = 0;

void RedisServer::Loop::TrackingEnabled(ConnectionState& connection,
                                        const std::vector<std::string>& prefixes_added,
                                        std::function<void()> ready) {
  trackers_.insert(connection.id);
  for (const std::string& prefix : prefixes_added) tracking_.AddPrefix(prefix, connection.id);
  tracking_wanted_.store(true, std::memory_order_relaxed);
  if (options_.fanout == nullptr) return ready();
  // Answered once every peer heard (or its deadline passed): a write through any node
  // after the OK reports the keys it changes.
  last_announce_ms_ = MonotonicMs();
  options_.fanout->PublishToPeers(std::string(kTrackingOnChannel), "",
                                  [ready = std::move(ready)](int64_t) { ready(); });
}

void RedisServer::Loop::TrackingDisabled(ConnectionState& connection) {
  trackers_.erase(connection.id);
  for (const std::string& prefix : connection.tracking.prefixes) {
    tracking_.RemovePrefix(prefix, connection.id);
  }
  // Keys it read stay in the table until they change (Redis does not walk the table
  // either); a later invalidation finds tracking off and sends nothing.
}

void RedisServer::Loop::RememberReads(Connection& connection,
                                      const std::vector<std::string>& args) {
  const ConnectionState::Tracking& t = connection.state.tracking;
  if (!t.on || t.bcast || args.empty()) return;
  if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
  const CommandSpec* spec = table_.Find(args[0]);
  if (spec != nullptr &&
      (spec->name == "eval" || spec->name == "evalsha" || spec->name == "fcall" ||
       spec->name == "eval_ro" || spec->name == "evalsha_ro" || spec->name == "fcall_ro")) {
    connection.track_script_keys = true;  // by the group's answer (PublishKeyEvents)
    return;
  }
  if (spec == nullptr || (spec->flags & kFlagReadOnly) == 0 || (spec->flags & kFlagPubSub)) return;
  // Redis: a read-only script is tracked by the reads it makes, which ekv's front door
  // does not see (scripts run in the group).
  if (spec->name == "eval_ro" || spec->name == "evalsha_ro" || spec->name == "fcall_ro") return;
  std::optional<std::vector<std::string>> keys = CommandKeysOf(*spec, args);
  if (!keys.has_value()) return;
  for (const std::string& key : *keys) tracking_.Remember(key, connection.state.id);
}

void RedisServer::Loop::InvalidateKeys(const std::vector<std::string>& keys, uint64_t writer,
                                       bool broadcast) {
  for (const std::string& key : keys) {
    if (broadcast && tracking_.prefixes() > 0) tracking_.NoteChanged(key, writer);
    for (const uint64_t id : tracking_.Invalidate(key)) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      const ConnectionState::Tracking& t = it->second->state.tracking;
      // Off, or switched to BCAST since it read the key: nothing (Redis's check).
      if (!t.on || t.bcast) continue;
      if (t.noloop && id == writer) continue;
      SendInvalidation(*it->second, OneKeyPayload(key));
    }
  }
}

void RedisServer::Loop::InvalidateAll(uint64_t writer) {
  (void)writer;  // Redis sends the flush's null even to a NOLOOP writer
  for (const uint64_t id : trackers_) {
    auto it = connections_.find(id);
    EKV_ASSERT(it != connections_.end(), "a closed connection is still tracking");
    SendInvalidation(*it->second, it->second->state.protocol > 2 ? "_\r\n" : "$-1\r\n");
  }
  tracking_.Clear();
}

void RedisServer::Loop::SendInvalidation(Connection& tracker, std::string payload) {
  // Its own command is running: after that command's reply (Redis 7.0 sends a command's
  // own invalidations after its reply, and a read's reply must not follow an invalidation
  // of what it read).
  if (tracker.in_flight && tracker.state.tracking.redirect == 0) {
    tracker.deferred_invalidations.push_back(std::move(payload));
    return;
  }
  WriteInvalidation(tracker, payload);
}

void RedisServer::Loop::WriteInvalidation(Connection& tracker, const std::string& payload) {
  ConnectionState::Tracking& t = tracker.state.tracking;
  Connection* target = &tracker;
  const bool redirected = t.redirect != 0;
  if (redirected) {
    auto it = connections_.find(t.redirect);
    if (it == connections_.end()) {
      t.broken_redirect = true;
      if (tracker.state.protocol > 2) {
        AppendPush(tracker,
                   absl::StrCat(">2\r\n$21\r\ntracking-redir-broken\r\n:", t.redirect, "\r\n"));
      }
      return;
    }
    target = it->second.get();
  }
  if (target->state.protocol > 2) {
    AppendPush(*target, absl::StrCat(">2\r\n$10\r\ninvalidate\r\n", payload));
  } else if (redirected && target->state.subscriptions() > 0) {
    // RESP2: only a REDIRECT connection in pub/sub mode gets them, as a message on
    // __redis__:invalidate.
    AppendPush(*target,
               absl::StrCat("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n", payload));
  }
}

void RedisServer::Loop::AppendPush(Connection& connection, const std::string& bytes) {
  connection.output += bytes;
  // The pub/sub output limit: a client that does not read must not hold the node's memory.
  if (connection.unsent() > settings_.pubsub_output_limit_bytes) {
    to_kill_.push_back(connection.state.id);
  } else {
    to_flush_.push_back(connection.state.id);
  }
}

void RedisServer::Loop::ScheduleExpiry(const std::string& key, int64_t deadline_ms) {
  expiries_.emplace(deadline_ms, key);
  const size_t limit = settings_.tracking_table_max_keys > 0
                           ? static_cast<size_t>(settings_.tracking_table_max_keys)
                           : kMaxScheduledExpiries;
  // Bounded: the farthest deadlines go first (their keys are the least likely to be read
  // and cached until then).
  while (expiries_.size() > limit) expiries_.erase(std::prev(expiries_.end()));
}

void RedisServer::Loop::InvalidateExpired() {
  if (expiries_.empty()) return;
  const int64_t now = UnixMs();
  std::vector<std::string> expired;
  while (!expiries_.empty() && expiries_.begin()->first + kTrackingExpiryMarginMs <= now) {
    expired.push_back(std::move(expiries_.begin()->second));
    expiries_.erase(expiries_.begin());
  }
  if (expired.empty()) return;
  InvalidateKeys(expired, /*writer=*/0, /*broadcast=*/true);
  if (options_.fanout != nullptr && PeersTrack()) {
    options_.fanout->PublishToPeers(std::string(kTrackingKeysChannel), EncodeKeysReady(expired),
                                    [](int64_t) {});
  }
}

void RedisServer::Loop::FlushTracking() {
  InvalidateExpired();
  for (const TrackingTable::Broadcast& broadcast : tracking_.TakeBroadcasts()) {
    for (const uint64_t id : broadcast.clients) {
      auto it = connections_.find(id);
      EKV_ASSERT(it != connections_.end(), "a closed connection still holds a prefix");
      const bool noloop = it->second->state.tracking.noloop;
      std::string keys;
      size_t count = 0;
      for (const auto& [key, writer] : broadcast.keys) {
        if (noloop && writer == id) continue;
        absl::StrAppend(&keys, "$", key.size(), "\r\n", key, "\r\n");
        ++count;
      }
      if (count == 0) continue;
      SendInvalidation(*it->second, absl::StrCat("*", count, "\r\n", keys));
    }
  }
  tracking_.set_max_keys(static_cast<size_t>(settings_.tracking_table_max_keys));
  for (auto& [key, readers] : tracking_.TrimToLimit()) {
    for (const uint64_t id : readers) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      const ConnectionState::Tracking& t = it->second->state.tracking;
      if (t.on && !t.bcast) SendInvalidation(*it->second, OneKeyPayload(key));
    }
  }
  const int64_t now = MonotonicMs();
  if (!trackers_.empty() && options_.fanout != nullptr &&
      now - last_announce_ms_ >= kTrackingAnnounceMs) {
    last_announce_ms_ = now;
    options_.fanout->PublishToPeers(std::string(kTrackingOnChannel), "", [](int64_t) {});
  }
  tracking_wanted_.store(!trackers_.empty() || peer_tracking_until_ms_ > now,
                         std::memory_order_relaxed);
}

ReplyFn RedisServer::Loop::MakeReply(uint64_t id) {
  return [this, id, completions = completions_](std::string reply) {
    // Answered while the handler runs on this loop's thread (connection commands, errors,
    // fakes): take it directly. From any other thread: through the queue.
    if (current_ == this) return OnReply(id, std::move(reply));
    completions->Push(Completion{id, std::move(reply), std::nullopt, nullptr});
  };
}

RunReplyFn RedisServer::Loop::MakeRunReply(uint64_t id) {
  return [this, id, completions = completions_](std::string replies,
                                                std::vector<std::string> ready_keys) {
    if (current_ == this) return OnReply(id, std::move(replies), std::move(ready_keys));
    completions->Push(Completion{id, std::move(replies), std::move(ready_keys), nullptr});
  };
}

void RedisServer::Loop::Run() {
  current_ = this;
  std::vector<epoll_event> events(256);
  while (true) {
    if (stop_requested_.load() && !stopping_) BeginStop();
    if (stopping_) {
      bool busy = false;
      for (const auto& [id, connection] : connections_) {
        busy = busy || connection->in_flight || connection->unsent() > 0;
      }
      if (!busy || std::chrono::steady_clock::now() >= stop_deadline_) break;
    }
    int timeout_ms = stopping_ ? 20 : -1;
    if (!expiries_.empty()) {
      const int wait = static_cast<int>(std::clamp<int64_t>(
          expiries_.begin()->first + kTrackingExpiryMarginMs - UnixMs(), 0, 60'000));
      timeout_ms = timeout_ms < 0 ? wait : std::min(timeout_ms, wait);
    }
    // Tracking connections: the announcement to the peers is due every second.
    if (!trackers_.empty() && options_.fanout != nullptr) {
      const int wait = static_cast<int>(std::clamp<int64_t>(
          last_announce_ms_ + kTrackingAnnounceMs - MonotonicMs(), 0, kTrackingAnnounceMs));
      timeout_ms = timeout_ms < 0 ? wait : std::min(timeout_ms, wait);
    }
    if (std::optional<int64_t> wake = blocked_.NextWakeMs(); wake.has_value()) {
      const int64_t wait = std::clamp<int64_t>(*wake - MonotonicMs(), 0, 60'000);
      timeout_ms =
          timeout_ms < 0 ? static_cast<int>(wait) : std::min(timeout_ms, static_cast<int>(wait));
    }
    const int ready =
        epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (ready < 0) {
      EKV_ASSERT(errno == EINTR, "epoll_wait failed: ", std::strerror(errno));
      continue;
    }
    for (int i = 0; i < ready; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kListenerTag) {
        Accept();
      } else if (tag == kWakeTag) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
        DrainCompletions();
        DrainDeliveries();
      } else if (auto it = connections_.find(tag); it != connections_.end()) {
        OnEvent(*it->second, events[i].events);
      }
      RunDeferred();
    }
    blocked_.Tick(MonotonicMs());
    FlushReadyKeys();
    FlushTracking();
    RunDeferred();
  }
  FailDeliveries();
  while (!connections_.empty()) Close(*connections_.begin()->second);
  current_ = nullptr;
}

void RedisServer::Loop::BeginStop() {
  stopping_ = true;
  stop_deadline_ = std::chrono::steady_clock::now() + options_.stop_grace;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  CloseFd(listen_fd_);
  listen_fd_ = -1;
  // Commands not started yet are dropped (the client sees the connection close, as on
  // a Redis shutdown); running ones may still answer.
  // Blocked clients get no answer (as on a Redis shutdown): their connections close.
  for (uint64_t id : blocked_.CancelIdle()) {
    if (auto it = connections_.find(id); it != connections_.end()) it->second->in_flight = false;
  }
  std::vector<uint64_t> ids;
  for (auto& [id, connection] : connections_) ids.push_back(id);
  for (uint64_t id : ids) {
    Connection& connection = *connections_.at(id);
    connection.pending.clear();
    connection.closing = true;
    Pump(connection);
  }
}

void RedisServer::Loop::Accept() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error of that one connection attempt
    ++stats_.connections_received;
    if (connections_.size() >= settings_.maxclients) {
      ++stats_.rejected_connections;
      // A TLS client could not read a plaintext error before its handshake: it only sees
      // the close.
      if (tls_ == nullptr) {
        const std::string error = ErrorReply("ERR max number of clients reached");
        [[maybe_unused]] ssize_t n = send(fd, error.data(), error.size(), MSG_NOSIGNAL);
      }
      close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto connection = std::make_unique<Connection>(fd, options_.limits, tls_);
    connection->state.id = next_id_++;
    connection->state.server = this;
    connection->state.authenticated = settings_.users().DefaultIsOpen();
    connection->state.address = SocketAddress(fd, /*peer=*/true);
    connection->state.local_address = SocketAddress(fd, /*peer=*/false);
    connection->state.created_unix_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count();
    connection->events = EPOLLIN;
    epoll_event event{};
    event.events = connection->events;
    event.data.u64 = connection->state.id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      close(fd);
      continue;
    }
    connections_.emplace(connection->state.id, std::move(connection));
    connection_count_->store(connections_.size(), std::memory_order_relaxed);
  }
}

void RedisServer::Loop::OnEvent(Connection& connection, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) return Close(connection);
  // A TLS handshake that waited for EPOLLOUT resumes in the read.
  if ((events & EPOLLIN) || ((events & EPOLLOUT) && connection.stream.read_wants_write())) {
    // EOF, a reset or a failed TLS handshake: the client is gone, and so are the answers
    // it was waiting for.
    if (connection.stream.ReadSome(&connection.input, kReadChunkBytes) ==
        ConnectionStream::Status::kClosed) {
      return Close(connection);
    }
  }
  Pump(connection);
}

bool RedisServer::Loop::ParseSome(Connection& connection) {
  bool progressed = false;
  connection.parser.set_unauthenticated(!connection.state.authenticated);
  connection.parser.set_max_bulk_bytes(static_cast<size_t>(settings_.proto_max_bulk_len));
  while (!connection.closing && !connection.parser.failed() &&
         connection.pending.size() < options_.max_pending_commands &&
         connection.input_pos < connection.input.size()) {
    size_t consumed = 0;
    const RespParser::Result result = connection.parser.Parse(
        absl::string_view(connection.input).substr(connection.input_pos), &consumed);
    connection.input_pos += consumed;
    progressed = progressed || consumed > 0;
    if (result == RespParser::Result::kCommand) {
      connection.pending.push_back({std::move(connection.parser.command()), "", consumed});
    } else if (result == RespParser::Result::kError) {
      connection.pending.push_back({{}, connection.parser.error()});
      progressed = true;
      break;
    } else {
      break;
    }
  }
  if (connection.input_pos == connection.input.size()) {
    connection.input.clear();
    connection.input_pos = 0;
  } else if (connection.input_pos >= kCompactBytes) {
    connection.input.erase(0, connection.input_pos);
    connection.input_pos = 0;
  }
  return progressed;
}

bool RedisServer::Loop::DispatchSome(Connection& connection) {
  bool progressed = false;
  // Replies the client has not read yet hold back the next command too, so the output
  // buffer stays within max_output_bytes plus one request's replies.
  while (!connection.in_flight && !connection.closing && !connection.pending.empty() &&
         connection.unsent() < options_.max_output_bytes) {
    progressed = true;
    // CLIENT REPLY SKIP drops exactly the next command's reply: that command goes alone.
    connection.state.skip_current = std::exchange(connection.state.skip_next, false);
    if (connection.pending.size() >= 2 && !connection.state.skip_current) {
      // Several commands buffered: those that may travel together go as one request
      // (pipeline_run.h), answered together, in order.
      PipelineRun run = NextRun(table_, connection.state, [&](size_t i) {
        if (i >= connection.pending.size())
          return static_cast<const std::vector<std::string>*>(nullptr);
        const PendingCommand& next = connection.pending[i];
        return next.protocol_error.empty() ? &next.args : nullptr;
      });
      if (!run.commands.empty()) {
        for (redis_core::PipelinedCommand& command : run.commands) {
          command.args = std::move(connection.pending.front().args);
          connection.pending.pop_front();
        }
        connection.state.monitor_feed.reset();
        if (HasMonitors()) {
          ConnectionState::MonitorFeed feed;
          for (const redis_core::PipelinedCommand& command : run.commands) {
            feed.commands.push_back(command.args);
          }
          connection.state.monitor_feed = std::move(feed);
        }
        for (const redis_core::PipelinedCommand& command : run.commands) {
          RememberReads(connection, command.args);
        }
        connection.state.tracking.caching = false;  // CLIENT CACHING covers one command
        connection.in_flight = true;
        dispatching_ = connection.state.id;
        DispatchRun(std::move(run), &connection.state, &notifier_,
                    MakeRunReply(connection.state.id));
        dispatching_ = 0;
        continue;
      }
    }
    PendingCommand command = std::move(connection.pending.front());
    connection.pending.pop_front();
    if (!command.protocol_error.empty()) {
      // Redis answers a protocol error after the commands before it, then closes.
      if (!connection.state.replies_off) {
        connection.output += ErrorReply(absl::StrCat("ERR ", command.protocol_error));
      }
      connection.closing = true;
      break;
    }
    connection.in_flight = true;
    size_t query_buffer_bytes = command.bytes + (connection.input.size() - connection.input_pos);
    for (const PendingCommand& later : connection.pending) query_buffer_bytes += later.bytes;
    connection.state.query_buffer_bytes = query_buffer_bytes;
    const std::string name = absl::AsciiStrToLower(command.args.front());
    if (name == "exec" && connection.state.in_multi && !connection.state.multi_failed) {
      // Its queued commands run now (Redis tracks them as they run, under one CACHING).
      for (const std::vector<std::string>& queued : connection.state.queued) {
        RememberReads(connection, queued);
        connection.flush_in_flight = connection.flush_in_flight || IsFlush(queued);
      }
    } else if (!connection.state.in_multi) {
      connection.track_script_keys = false;
      RememberReads(connection, command.args);
      connection.flush_in_flight = IsFlush(command.args);
    }
    if (connection.flush_in_flight) ++flushes_in_flight_;
    // The reply may come back before Dispatch returns (OnReply clears in_flight).
    dispatching_ = connection.state.id;
    table_.Dispatch(std::move(command.args), &connection.state, &notifier_,
                    MakeReply(connection.state.id));
    dispatching_ = 0;
    // CLIENT CACHING covers the next command, or the next MULTI ... EXEC.
    if (!connection.state.in_multi && name != "client") connection.state.tracking.caching = false;
    connection.state.query_buffer_bytes = 0;
  }
  return progressed;
}

bool RedisServer::Loop::Flush(Connection& connection) {
  while (connection.unsent() > 0) {
    size_t written = 0;
    const ConnectionStream::Status status = connection.stream.WriteSome(
        connection.output.data() + connection.output_pos, connection.unsent(), &written);
    if (status == ConnectionStream::Status::kClosed) return false;
    if (status == ConnectionStream::Status::kWouldBlock) break;
    connection.output_pos += written;
  }
  if (connection.output_pos == connection.output.size()) {
    connection.output.clear();
    connection.output_pos = 0;
  } else if (connection.output_pos >= kCompactBytes) {
    connection.output.erase(0, connection.output_pos);
    connection.output_pos = 0;
  }
  return true;
}

bool RedisServer::Loop::Pump(Connection& connection) {
  // Until nothing moves: written output may let held-back commands run, whose replies
  // may be written at once, and fewer pending commands let parsing go on.
  while (true) {
    while (true) {
      const bool parsed = ParseSome(connection);  // both run every round
      const bool dispatched = DispatchSome(connection);
      if (!parsed && !dispatched) break;
    }
    const size_t unsent_before = connection.unsent();
    if (!Flush(connection)) {
      Close(connection);
      return false;
    }
    if (connection.unsent() == unsent_before) break;
  }
  if (connection.closing && !connection.in_flight && connection.unsent() == 0) {
    Close(connection);
    return false;
  }
  const bool want_read = !connection.closing && !connection.parser.failed() &&
                         connection.pending.size() < options_.max_pending_commands &&
                         connection.unsent() < options_.max_output_bytes;
  const bool want_write = connection.unsent() > 0 || connection.stream.read_wants_write();
  const uint32_t events =
      (want_read ? uint32_t{EPOLLIN} : 0u) | (want_write ? uint32_t{EPOLLOUT} : 0u);
  if (events != connection.events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = connection.state.id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
    connection.events = events;
  }
  return true;
}

void RedisServer::Loop::OnReply(uint64_t id, std::string reply,
                                std::optional<std::vector<std::string>> run_ready_keys) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;  // closed meanwhile: nobody waits for it
  Connection& connection = *it->second;
  EKV_ASSERT(connection.in_flight, "a reply arrived for a connection with no command running");
  connection.in_flight = false;
  if (run_ready_keys.has_value()) {
    AddReadyKeys(*run_ready_keys);
  } else if (!connection.state.ready_keys.empty()) {
    if (!reply.empty() && reply[0] != '-') {
      AddReadyKeys(connection.state.ready_keys);
    }
    connection.state.ready_keys.clear();
  }
  // CLIENT REPLY OFF / SKIP: the command ran, its reply is not written (unless it is
  // pub/sub confirmations, which Redis pushes regardless).
  const bool pushing = std::exchange(connection.state.pushing_reply, false);
  if ((!connection.state.replies_off && !connection.state.skip_current) || pushing) {
    connection.output += reply;
  }
  connection.track_script_keys = false;
  for (const std::string& payload : std::exchange(connection.deferred_invalidations, {})) {
    WriteInvalidation(connection, payload);
  }
  if (std::exchange(connection.flush_in_flight, false)) {
    --flushes_in_flight_;
    // Even a failed FLUSHALL may have deleted keys: every tracking connection forgets all.
    InvalidateAll(id);
    if (options_.fanout != nullptr && PeersTrack()) {
      options_.fanout->PublishToPeers(std::string(kTrackingFlushChannel), "", [](int64_t) {});
    }
  }
  connection.state.skip_current = false;
  if (connection.state.close_after_reply) connection.closing = true;
  FeedMonitorsAfterReply(connection.state, reply);
}

void RedisServer::Loop::FeedMonitorsAfterReply(ConnectionState& connection,
                                               absl::string_view reply) {
  if (!connection.monitor_feed.has_value()) return;
  ConnectionState::MonitorFeed feed = std::move(*connection.monitor_feed);
  connection.monitor_feed.reset();
  if (!HasMonitors()) return;
  // EXEC's commands ran when its reply is an array (not EXECABORT, not a WATCH abort's
  // null): Redis shows them, then EXEC; otherwise EXEC alone.
  const bool ran = !feed.exec || (absl::StartsWith(reply, "*") && !absl::StartsWith(reply, "*-1"));
  for (size_t i = ran ? 0 : feed.commands.size() - 1; i < feed.commands.size(); ++i) {
    FeedMonitors(connection, feed.commands[i]);
  }
}

void RedisServer::Loop::RunOnLoop(uint64_t connection_id,
                                  std::function<void(ConnectionState*)> task) {
  if (current_ != this) {
    completions_->Push(Completion{connection_id, "", std::nullopt, std::move(task)});
    return;
  }
  auto it = connections_.find(connection_id);
  task(it != connections_.end() ? &it->second->state : nullptr);
}

void RedisServer::Loop::DrainCompletions() {
  for (Completion& completion : completions_->Drain()) {
    const uint64_t id = completion.connection_id;
    if (completion.task) {
      // The task may answer the connection's command (EXEC's last step): write it.
      RunOnLoop(id, std::move(completion.task));
      if (auto it = connections_.find(id); it != connections_.end()) Pump(*it->second);
      continue;
    }
    OnReply(id, std::move(completion.reply), std::move(completion.run_ready_keys));
    if (auto it = connections_.find(id); it != connections_.end()) Pump(*it->second);
  }
}

void RedisServer::Loop::Close(Connection& connection) {
  blocked_.Cancel(connection.state.id);
  if (connection.flush_in_flight) --flushes_in_flight_;
  DisableTracking(connection.state);
  StopMonitoring(connection.state);
  for (const std::string& channel : connection.state.channels) {
    hub_.Remove(connection.state.id, channel, false);
  }
  for (const std::string& pattern : connection.state.patterns) {
    hub_.Remove(connection.state.id, pattern, true);
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.fd, nullptr);
  const int fd = connection.fd;
  connections_.erase(connection.state.id);  // destroys `connection` (TLS close_notify first)
  close(fd);
  connection_count_->store(connections_.size(), std::memory_order_relaxed);
}

RedisServer::RedisServer(RedisServerOptions options, RedisBackend* backend)
    : options_(std::move(options)), backend_(backend) {}

RedisServer::~RedisServer() { Stop(); }

absl::Status RedisServer::Start() {
  EKV_ASSERT(loop_ == nullptr, "RedisServer::Start called twice");
  std::string host;
  int port = 0;
  if (absl::Status s = ParseListenAddress(options_.address, &host, &port); !s.ok()) return s;
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return absl::InvalidArgumentError("redis server: TLS needs both a certificate and a key");
  }
  if (!options_.tls_cert_file.empty() && tls_ == nullptr) {
    absl::StatusOr<std::unique_ptr<TlsContext>> tls =
        TlsContext::FromFiles(options_.tls_cert_file, options_.tls_key_file);
    if (!tls.ok()) return tls.status();
    tls_ = std::move(*tls);
    // OpenSSL writes to the socket with write(2), not send(MSG_NOSIGNAL): a client that
    // hangs up must cost an EPIPE, not the process.
    signal(SIGPIPE, SIG_IGN);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve '", options_.address, "': ", gai_strerror(rc)));
  }
  int listen_fd = -1;
  std::string error = "no usable address";
  for (addrinfo* a = found; a != nullptr && listen_fd < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    // SO_REUSEADDR lets a restarted server bind past old TIME_WAIT connections; unlike
    // SO_REUSEPORT it never lets two listeners share a port, so "in use" stays an error.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 511) == 0) {
      listen_fd = fd;
    } else {
      error = std::strerror(errno);
      close(fd);
    }
  }
  freeaddrinfo(found);
  if (listen_fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.address, ": ", error));
  }
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof(bound);
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &bound_size);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || wake_fd < 0) {
    const std::string why = std::strerror(errno);
    CloseFd(epoll_fd);
    CloseFd(wake_fd);
    close(listen_fd);
    return absl::InternalError(absl::StrCat("redis server: epoll/eventfd: ", why));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kListenerTag;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &event);
  event.data.u64 = kWakeTag;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event);
  loop_ = std::make_unique<Loop>(options_, backend_, tls_.get(), listen_fd, epoll_fd, wake_fd,
                                 &connection_count_);
  loop_->set_port(port_);
  inbox_ = loop_->inbox();
  thread_ = std::thread([this] { loop_->Run(); });
  return absl::OkStatus();
}

void RedisServer::DeliverPublished(std::string channel, std::string message,
                                   std::function<void(int64_t)> done) {
  // inbox_ is set once, in Start, before the fan-out can know this server; it outlives
  // the loop, so a delivery racing Stop() is refused by it, not lost in a freed loop.
  if (inbox_ == nullptr) return done(0);
  RemoteDelivery delivery{std::move(channel), std::move(message), std::move(done), {}};
  if (!inbox_->Push(delivery)) delivery.done(0);
}

void RedisServer::Stop() {
  if (!thread_.joinable()) return;
  loop_->RequestStop();
  thread_.join();
  loop_.reset();
}

}  // namespace ekv::redis
