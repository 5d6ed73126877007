// Running other programs from integration tests (chromium, openssl): bounded in time,
// output captured in a file.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ekv::integration {

// Runs `args` (args[0] looked up in PATH) with stdout and stderr to `out_path`, killed
// after `timeout`. Returns the exit code, or -1 (signal, timeout, could not start).
int RunProgram(const std::vector<std::string>& args, const std::string& out_path,
               std::chrono::milliseconds timeout);

// The whole file ("" when it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace ekv::integration
