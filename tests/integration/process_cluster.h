// ProcessCluster: real ekv-server processes on 127.0.0.1 for integration tests.
//
// Each node is a child process (fork/exec of the built ekv-server) with its own data dir
// and log file under one temp dir, and ports the harness picked itself. The harness can
// crash (SIGKILL), pause (SIGSTOP/SIGCONT), stop gracefully (SIGTERM) and restart a node
// on the same data dir and ports. The destructor kills and reaps every process it started
// and removes the temp dir; children also die with the harness (PR_SET_PDEATHSIG), so a
// crashed test leaves no server behind. Every wait is bounded in time.
//
// Not thread-safe for process control: start, stop and restart nodes from one thread (the
// test's main thread, which PR_SET_PDEATHSIG ties the children to). The client stubs are
// thread-safe and may be used from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "proto/cluster.grpc.pb.h"
#include "proto/ekv.grpc.pb.h"

namespace ekv::integration {

struct ClusterOptions {
  int nodes = 3;
  // Nodes n(nodes+1).. that are not part of the bootstrap: started (by the test, with
  // StartNode) with --join through n1 instead of --peers.
  int joining_nodes = 0;
  int tick_ms = 20;
  int election_ticks = 10;  // election timeout in [10, 20) ticks = [200, 400) ms
  int request_timeout_ms = 2000;
  uint64_t snapshot_interval_entries = 10000;
  // Give every node a metrics endpoint (--metrics_address) on a port the harness picks.
  bool metrics = false;
  // Give every node an admin console (--console_address) on a port the harness picks.
  bool console = false;
  // Serve the Redis front door too (--redis_address on a port the harness picks).
  bool redis = false;
  // Serve the DynamoDB front door too (--dynamo_address on a port the harness picks).
  bool dynamo = false;
  // More ekv-server flags, appended to every node's command line.
  std::vector<std::string> extra_flags;
  // Bound on waiting for one node to serve (start or restart).
  std::chrono::milliseconds serve_timeout{20000};
};

// Result of running ekv-server to completion (bad-configuration tests).
struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal or did not exit in time
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Path of the ekv-server binary under test (compile definition EKV_SERVER_BINARY).
std::string ServerBinary();

// Picks `count` distinct free TCP ports on 127.0.0.1 below the ephemeral range (so no
// outgoing connection takes one before its server binds it), each reserved for this process
// against other test processes (free_ports.cc).
std::vector<int> PickFreePorts(int count);

// Creates a fresh directory under $TMPDIR (or /tmp); removed by RemoveTree.
std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);

// Runs ekv-server with `args` until it exits (killed after `timeout`), capturing output.
ProcessResult RunServerToCompletion(const std::vector<std::string>& args,
                                    std::chrono::milliseconds timeout);

// Runs ekv-server with `args` until its stdout contains `line` (then kills it), it exits, or
// `timeout` passes (then kills it: timed_out); an empty `line` waits for the exit. For a test that
// needs a running node to have said something: a fixed run time would be too short on a loaded
// machine, where starting takes longer.
ProcessResult RunServerUntilOutput(const std::vector<std::string>& args, const std::string& line,
                                   std::chrono::milliseconds timeout);

// Microseconds on the monotonic clock since the first call in this process.
uint64_t MonotonicMicros();

class ProcessCluster {
 public:
  explicit ProcessCluster(ClusterOptions options = {});
  ~ProcessCluster();
  ProcessCluster(const ProcessCluster&) = delete;
  ProcessCluster& operator=(const ProcessCluster&) = delete;

  // Starts every node, then waits until each one serves.
  absl::Status Start();

  // Nodes are numbered 1..nodes (n1, n2, ...).
  int size() const { return static_cast<int>(nodes_.size()); }

  // Starts (or restarts, same data dir and ports) node `i`; does not wait.
  absl::Status StartNode(int i);
  // Polls Distribution.GetTimestamp through node `i` (short deadlines) until it answers,
  // the process exits, or options.serve_timeout passes.
  absl::Status WaitServing(int i);
  // StartNode + WaitServing.
  absl::Status RestartNode(int i);

  // SIGKILL and reap. No-op when the node is not running.
  void Kill(int i);
  // SIGSTOP / SIGCONT.
  void Pause(int i);
  void Resume(int i);
  // SIGTERM, wait up to `timeout` for the exit; returns the exit code, or -1 when the
  // process died of a signal or had to be killed after the timeout.
  int Terminate(int i, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running(int i) const;
  bool paused(int i) const;
  pid_t pid(int i) const;

  const std::string& grpc_address(int i) const;
  // host:port of node `i`'s metrics endpoint; empty unless options.metrics.
  const std::string& metrics_address(int i) const;
  // host:port of node `i`'s console; empty unless options.console.
  const std::string& console_address(int i) const;
  // The node's Redis port (0 unless options.redis).
  int redis_port(int i) const;
  // The node's DynamoDB HTTP port (0 unless options.dynamo).
  int dynamo_port(int i) const;
  const std::string& data_dir(int i) const;
  const std::string& temp_dir() const { return temp_dir_; }

  proto::RawKV::Stub& raw(int i);
  proto::TransactionalKV::Stub& txn(int i);
  proto::Distribution::Stub& dist(int i);
  proto::Cluster::Stub& membership(int i);

  // The last `max_bytes` of every node's captured stdout/stderr, labelled by node.
  std::string Logs(size_t max_bytes = 6000) const;
  // Everything node `i` wrote to stdout/stderr so far, across restarts.
  std::string Log(int i) const;

  // The server flags node `i` is started with.
  std::vector<std::string> NodeArgs(int i) const;

 private:
  struct Node {
    int id = 0;
    std::string grpc_address;
    std::string raft_address;
    std::string metrics_address;  // empty: no metrics endpoint
    std::string console_address;  // empty: no console
    int redis_port = 0;
    int dynamo_port = 0;
    std::string data_dir;
    std::string log_path;
    pid_t pid = -1;
    bool paused = false;
    int starts = 0;
  };
  // One channel and its stubs. Each (re)start of a node gets a fresh client, so no RPC
  // waits out the reconnect backoff a channel built up while the node was down; older
  // clients stay alive until the cluster is destroyed, since another thread may still
  // hold a reference to one of their stubs.
  struct Client {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<proto::RawKV::Stub> raw;
    std::unique_ptr<proto::TransactionalKV::Stub> txn;
    std::unique_ptr<proto::Distribution::Stub> dist;
    std::unique_ptr<proto::Cluster::Stub> membership;
  };
  Node& node(int i);
  const Node& node(int i) const;
  Client& client(int i);
  void NewClient(int i);

  mutable std::mutex clients_mu_;
  std::vector<std::vector<std::unique_ptr<Client>>> clients_;  // [node - 1], current last

  ClusterOptions options_;
  std::string temp_dir_;
  std::string peers_flag_;
  std::vector<Node> nodes_;
};

}  // namespace ekv::integration
