#include "tests/integration/process_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/assert.h"

#ifndef EKV_SERVER_BINARY
#error "EKV_SERVER_BINARY must name the ekv-server binary under test"
#endif

namespace ekv::integration {
namespace {

using Clock = std::chrono::steady_clock;

// Bound on reaping a process after SIGKILL (it can sit in uninterruptible I/O briefly).
constexpr std::chrono::milliseconds kReapTimeout{10000};
constexpr std::chrono::milliseconds kPollInterval{10};

// fork/exec of ekv-server with stdout/stderr appended to the given files. Everything the
// child needs is prepared before fork: the child of a multi-threaded parent may only make
// async-signal-safe calls until exec.
pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path,
            const std::string& err_path) {
  const std::string binary = ServerBinary();
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();

  const pid_t pid = fork();
  EKV_ASSERT(pid >= 0, "fork failed: ", std::strerror(errno));
  if (pid == 0) {
    // Die with the test process, even if it is killed without running destructors.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int err = out_path == err_path
                        ? out
                        : open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0 || err < 0) _exit(126);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    static const char kExecFailed[] = "integration harness: execv of ekv-server failed\n";
    (void)!write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    _exit(127);
  }
  return pid;
}

// Waits for `pid` to exit, up to `timeout`. Returns the raw wait status, or nullopt.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    EKV_ASSERT(done == 0, "waitpid(", pid, ") failed: ", std::strerror(errno));
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  std::optional<int> status = WaitExit(pid, kReapTimeout);
  EKV_ASSERT(status.has_value(), "process ", pid, " did not die within ", kReapTimeout.count(),
             " ms of SIGKILL");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Tail(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  return absl::StrCat("...[", text.size() - max_bytes, " bytes cut]...",
                      text.substr(text.size() - max_bytes));
}

// True when a TCP connect to host:port succeeds (the server's listener is up).
bool PortAcceptsConnections(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &address.sin_addr) != 1) return false;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

}  // namespace

std::string ServerBinary() { return EKV_SERVER_BINARY; }

uint64_t MonotonicMicros() {
  static const Clock::time_point origin = Clock::now();
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - origin).count());
}

std::string MakeTempDir(const std::string& prefix) {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/", prefix, "-XXXXXX");
  char* made = mkdtemp(pattern.data());
  EKV_ASSERT(made != nullptr, "mkdtemp(", pattern, ") failed: ", std::strerror(errno));
  return pattern;
}

void RemoveTree(const std::string& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
}

ProcessResult RunServerUntilOutput(const std::vector<std::string>& args, const std::string& line,
                                   std::chrono::milliseconds timeout) {
  const std::string dir = MakeTempDir("ekv-run");
  const std::string out_path = dir + "/stdout";
  const std::string err_path = dir + "/stderr";
  ProcessResult result;
  const pid_t pid = Spawn(args, out_path, err_path);
  const auto deadline = Clock::now() + timeout;
  while (true) {
    std::optional<int> status = WaitExit(pid, std::chrono::milliseconds(0));
    if (status.has_value()) {
      if (WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
      break;
    }
    if (!line.empty() && ReadFile(out_path).find(line) != std::string::npos) {
      KillAndReap(pid);  // said it: a node that runs until killed
      break;
    }
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      KillAndReap(pid);
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  RemoveTree(dir);
  return result;
}

ProcessResult RunServerToCompletion(const std::vector<std::string>& args,
                                    std::chrono::milliseconds timeout) {
  return RunServerUntilOutput(args, /*line=*/"", timeout);
}

// ---------------------------------------------------------------------------------------

ProcessCluster::ProcessCluster(ClusterOptions options) : options_(options) {
  EKV_ASSERT(options_.nodes >= 1 && options_.nodes <= 9, "nodes must be in 1..9, got ",
             options_.nodes);
  temp_dir_ = MakeTempDir("ekv-it");
  EKV_ASSERT(options_.joining_nodes >= 0 && options_.nodes + options_.joining_nodes <= 9,
             "at most 9 nodes in all");
  const int total = options_.nodes + options_.joining_nodes;
  // Per node: gRPC, raft, then metrics and Redis when asked for.
  const int ports_per_node = 2 + (options_.metrics ? 1 : 0) + (options_.redis ? 1 : 0) +
                             (options_.dynamo ? 1 : 0) + (options_.console ? 1 : 0);
  const std::vector<int> ports = PickFreePorts(ports_per_node * total);
  std::vector<std::string> peers;
  nodes_.resize(total);
  for (int i = 0; i < total; ++i) {
    Node& n = nodes_[i];
    n.id = i + 1;
    n.grpc_address = absl::StrCat("127.0.0.1:", ports[ports_per_node * i]);
    n.raft_address = absl::StrCat("127.0.0.1:", ports[ports_per_node * i + 1]);
    int next_port = ports_per_node * i + 2;
    if (options_.metrics) {
      n.metrics_address = absl::StrCat("127.0.0.1:", ports[next_port++]);
    }
    if (options_.redis) n.redis_port = ports[next_port++];
    if (options_.dynamo) n.dynamo_port = ports[next_port++];
    if (options_.console) n.console_address = absl::StrCat("127.0.0.1:", ports[next_port++]);
    n.data_dir = absl::StrCat(temp_dir_, "/n", n.id, "/data");
    n.log_path = absl::StrCat(temp_dir_, "/n", n.id, ".log");
    if (n.id <= options_.nodes) peers.push_back(absl::StrCat("n", n.id, "=", n.raft_address));
  }
  peers_flag_ = absl::StrJoin(peers, ",");
  clients_.resize(nodes_.size());
  for (int i = 1; i <= size(); ++i) NewClient(i);
}

void ProcessCluster::NewClient(int i) {
  const Node& n = node(i);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  // A distinct channel, not a shared subchannel that remembers the old backoff.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Let go of the connection after 1 s without calls (the next call reconnects): a node's
  // graceful stop (SIGTERM: grpc::Server::Shutdown with a 5 s deadline) waits for its
  // clients' connections to close, and an idle connection held by this harness made every
  // Terminate take ~4.5 s instead of ~0.1 s (measured on a 1-node cluster), ~12 s of the
  // quickstart test's 16 s.
  args.SetInt(GRPC_ARG_CLIENT_IDLE_TIMEOUT_MS, 1000);
  auto client = std::make_unique<Client>();
  client->channel =
      grpc::CreateCustomChannel("ipv4:" + n.grpc_address, grpc::InsecureChannelCredentials(), args);
  client->raw = proto::RawKV::NewStub(client->channel);
  client->txn = proto::TransactionalKV::NewStub(client->channel);
  client->dist = proto::Distribution::NewStub(client->channel);
  client->membership = proto::Cluster::NewStub(client->channel);
  std::lock_guard<std::mutex> lock(clients_mu_);
  clients_[i - 1].push_back(std::move(client));
}

ProcessCluster::Client& ProcessCluster::client(int i) {
  node(i);  // range check
  std::lock_guard<std::mutex> lock(clients_mu_);
  return *clients_[i - 1].back();
}

ProcessCluster::~ProcessCluster() {
  for (Node& n : nodes_) {
    if (n.pid > 0) KillAndReap(n.pid);
    n.pid = -1;
  }
  // EKV_IT_KEEP=1 keeps data dirs and logs for a post-mortem.
  const char* keep = getenv("EKV_IT_KEEP");
  if (keep != nullptr && std::string(keep) == "1") {
    std::cout << "integration harness: kept " << temp_dir_ << "\n";
    return;
  }
  RemoveTree(temp_dir_);
}

ProcessCluster::Node& ProcessCluster::node(int i) {
  EKV_ASSERT(i >= 1 && i <= size(), "node ", i, " out of range 1..", size());
  return nodes_[i - 1];
}
const ProcessCluster::Node& ProcessCluster::node(int i) const {
  EKV_ASSERT(i >= 1 && i <= size(), "node ", i, " out of range 1..", size());
  return nodes_[i - 1];
}

std::string ProcessCluster::Log(int i) const { return ReadFile(node(i).log_path); }

std::vector<std::string> ProcessCluster::NodeArgs(int i) const {
  const Node& n = node(i);
  std::vector<std::string> args = {
      absl::StrCat("--id=n", n.id),
      absl::StrCat("--grpc_address=", n.grpc_address),
      absl::StrCat("--raft_address=", n.raft_address),
      n.id <= options_.nodes ? absl::StrCat("--peers=", peers_flag_)
                             : absl::StrCat("--join=", node(1).grpc_address),
      absl::StrCat("--data_dir=", n.data_dir),
      absl::StrCat("--tick_ms=", options_.tick_ms),
      absl::StrCat("--election_ticks=", options_.election_ticks),
      absl::StrCat("--request_timeout_ms=", options_.request_timeout_ms),
      absl::StrCat("--snapshot_interval_entries=", options_.snapshot_interval_entries)};
  if (!n.metrics_address.empty()) {
    args.push_back(absl::StrCat("--metrics_address=", n.metrics_address));
  }
  if (n.redis_port != 0) args.push_back(absl::StrCat("--redis_address=127.0.0.1:", n.redis_port));
  if (n.dynamo_port != 0) {
    args.push_back(absl::StrCat("--dynamo_address=127.0.0.1:", n.dynamo_port));
  }
  if (!n.console_address.empty()) {
    args.push_back(absl::StrCat("--console_address=", n.console_address));
  }
  args.insert(args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  return args;
}

absl::Status ProcessCluster::Start() {
  for (int i = 1; i <= options_.nodes; ++i) {
    if (absl::Status s = StartNode(i); !s.ok()) return s;
  }
  for (int i = 1; i <= options_.nodes; ++i) {
    if (absl::Status s = WaitServing(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ProcessCluster::StartNode(int i) {
  Node& n = node(i);
  if (n.pid > 0) return absl::FailedPreconditionError(absl::StrCat("n", i, " is already running"));
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(n.data_dir).parent_path(), error);
  if (error) return absl::InternalError(absl::StrCat("mkdir for n", i, ": ", error.message()));
  {
    std::ofstream log(n.log_path, std::ios::app);
    log << "==== harness: start #" << ++n.starts << " of n" << i
        << " at t=" << MonotonicMicros() / 1000 << "ms: " << ServerBinary() << " "
        << absl::StrJoin(NodeArgs(i), " ") << "\n";
  }
  n.pid = Spawn(NodeArgs(i), n.log_path, n.log_path);
  n.paused = false;
  if (n.starts > 1) NewClient(i);
  return absl::OkStatus();
}

absl::Status ProcessCluster::WaitServing(int i) {
  Node& n = node(i);
  if (n.pid <= 0) return absl::FailedPreconditionError(absl::StrCat("n", i, " is not running"));
  const auto deadline = Clock::now() + options_.serve_timeout;
  grpc::Status last;
  for (int attempt = 0; attempt < 100000 && Clock::now() < deadline; ++attempt) {
    int status = 0;
    if (waitpid(n.pid, &status, WNOHANG) == n.pid) {
      n.pid = -1;
      return absl::InternalError(absl::StrCat("n", i, " exited while starting (",
                                              WIFEXITED(status)
                                                  ? absl::StrCat("exit code ", WEXITSTATUS(status))
                                                  : absl::StrCat("signal ", WTERMSIG(status)),
                                              "); log:\n", Tail(ReadFile(n.log_path), 4000)));
    }
    if (!PortAcceptsConnections(n.grpc_address)) {
      // Not listening yet: probing through gRPC now would only push the channel into
      // reconnect backoff.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    proto::GetTimestampRequest request;
    proto::GetTimestampResponse response;
    grpc::Status answer = client(i).dist->GetTimestamp(&context, request, &response);
    if (attempt == 0 || answer.error_code() != last.error_code()) {
      std::ofstream(n.log_path, std::ios::app)
          << "==== harness: probe " << attempt + 1 << " of n" << i
          << " at t=" << MonotonicMicros() / 1000 << "ms: " << answer.error_code() << " "
          << answer.error_message() << "\n";
    }
    last = answer;
    if (last.ok() && response.timestamp() > 0) {
      std::ofstream(n.log_path, std::ios::app)
          << "==== harness: n" << i << " serving at t=" << MonotonicMicros() / 1000 << "ms after "
          << attempt + 1 << " probes\n";
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("n", i, " did not serve GetTimestamp within ", options_.serve_timeout.count(),
                   " ms; last error ", last.error_code(), " ", last.error_message()));
}

absl::Status ProcessCluster::RestartNode(int i) {
  if (absl::Status s = StartNode(i); !s.ok()) return s;
  return WaitServing(i);
}

void ProcessCluster::Kill(int i) {
  Node& n = node(i);
  if (n.pid <= 0) return;
  KillAndReap(n.pid);
  n.pid = -1;
  n.paused = false;
}

void ProcessCluster::Pause(int i) {
  Node& n = node(i);
  EKV_ASSERT(n.pid > 0, "Pause of n", i, " which is not running");
  const int sent = kill(n.pid, SIGSTOP);
  EKV_ASSERT(sent == 0, "SIGSTOP n", i, ": ", std::strerror(errno));
  n.paused = true;
}

void ProcessCluster::Resume(int i) {
  Node& n = node(i);
  EKV_ASSERT(n.pid > 0, "Resume of n", i, " which is not running");
  const int sent = kill(n.pid, SIGCONT);
  EKV_ASSERT(sent == 0, "SIGCONT n", i, ": ", std::strerror(errno));
  n.paused = false;
}

int ProcessCluster::Terminate(int i, std::chrono::milliseconds timeout) {
  Node& n = node(i);
  EKV_ASSERT(n.pid > 0, "Terminate of n", i, " which is not running");
  if (n.paused) Resume(i);
  kill(n.pid, SIGTERM);
  std::optional<int> status = WaitExit(n.pid, timeout);
  if (!status.has_value()) {
    KillAndReap(n.pid);
    n.pid = -1;
    return -1;
  }
  n.pid = -1;
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

bool ProcessCluster::running(int i) const { return node(i).pid > 0; }
bool ProcessCluster::paused(int i) const { return node(i).paused; }
pid_t ProcessCluster::pid(int i) const { return node(i).pid; }
const std::string& ProcessCluster::grpc_address(int i) const { return node(i).grpc_address; }
const std::string& ProcessCluster::metrics_address(int i) const { return node(i).metrics_address; }
const std::string& ProcessCluster::console_address(int i) const { return node(i).console_address; }
int ProcessCluster::redis_port(int i) const { return node(i).redis_port; }
int ProcessCluster::dynamo_port(int i) const { return node(i).dynamo_port; }
const std::string& ProcessCluster::data_dir(int i) const { return node(i).data_dir; }
proto::RawKV::Stub& ProcessCluster::raw(int i) { return *client(i).raw; }
proto::TransactionalKV::Stub& ProcessCluster::txn(int i) { return *client(i).txn; }
proto::Distribution::Stub& ProcessCluster::dist(int i) { return *client(i).dist; }
proto::Cluster::Stub& ProcessCluster::membership(int i) { return *client(i).membership; }

std::string ProcessCluster::Logs(size_t max_bytes) const {
  std::string out;
  for (const Node& n : nodes_) {
    absl::StrAppend(&out, "----- n", n.id, " (", n.grpc_address, ", pid ", n.pid, ") ", n.log_path,
                    " -----\n", Tail(ReadFile(n.log_path), max_bytes), "\n");
  }
  return out;
}

}  // namespace ekv::integration
