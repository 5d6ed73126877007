// FakeServerControl: ServerControl for handler tests and the fuzzer, without sockets: a
// set of connections the test registers, a PubSubHub, and delivered messages recorded per
// connection id instead of written.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "adapters/redis/command_table.h"
#include "adapters/redis/pubsub_hub.h"
#include "adapters/redis/server_control.h"

namespace ekv::redis {

class FakeServerControl final : public ServerControl {
 public:
  void Register(ConnectionState* connection) {
    connection->server = this;
    connections_[connection->id] = connection;
  }

  RedisSettings& settings() override { return settings_; }
  ServerStats& stats() override { return stats_; }
  int tcp_port() const override { return 6379; }
  int64_t start_unix_seconds() const override { return 1; }
  std::vector<const ConnectionState*> Connections() const override {
    std::vector<const ConnectionState*> all;
    for (const auto& [id, connection] : connections_) all.push_back(connection);
    return all;
  }
  bool Kill(uint64_t connection_id) override {
    if (!connections_.contains(connection_id)) return false;
    killed.insert(connection_id);
    return true;
  }
  void Subscribe(ConnectionState& connection, const std::string& channel, bool pattern) override {
    hub_.Add(connection.id, channel, pattern);
  }
  void Unsubscribe(ConnectionState& connection, const std::string& channel, bool pattern) override {
    hub_.Remove(connection.id, channel, pattern);
  }
  void Publish(std::string channel, std::string message,
               std::function<void(int64_t)> done) override {
    done(hub_.ForEachReceiver(channel, [&](uint64_t id, const std::string* pattern) {
      delivered[id].push_back(
          MessageBytes(connections_.at(id)->protocol, channel, message, pattern));
    }));
  }
  std::vector<std::string> ActiveChannels(absl::string_view pattern) const override {
    return hub_.Channels(pattern);
  }
  int64_t ChannelSubscribers(const std::string& channel) const override {
    return hub_.Subscribers(channel);
  }
  int64_t PatternCount() const override { return hub_.Patterns(); }
  // Handler tests run on one thread: at once.
  void RunOnLoop(uint64_t connection_id, std::function<void(ConnectionState*)> task) override {
    auto it = connections_.find(connection_id);
    task(it != connections_.end() ? it->second : nullptr);
  }

  std::map<uint64_t, std::vector<std::string>> delivered;
  std::set<uint64_t> killed;

 private:
  RedisSettings settings_;
  ServerStats stats_;
  PubSubHub hub_;
  std::map<uint64_t, ConnectionState*> connections_;
};

}  // namespace ekv::redis
