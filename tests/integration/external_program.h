// Running other programs from integration tests (chromium, openssl, SDK clients, redis-cli):
// bounded in time with output captured in a file, or through the shell.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ekv::integration {

// Runs `args` (args[0] looked up in PATH) with stdout and stderr to `out_path`, killed
// after `timeout`. Returns the exit code, or -1 (signal, timeout, could not start).
int RunProgram(const std::vector<std::string>& args, const std::string& out_path,
               std::chrono::milliseconds timeout);

// Runs a shell command line (`sh -c`); its stdout and stderr together. `exit_status`, when
// given, receives the exit code, or -1 if the shell was killed by a signal.
std::string RunShell(const std::string& command_line, int* exit_status = nullptr);

// The whole file ("" when it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace ekv::integration
