#include "tests/raft/datadriven.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ekv::testing {
namespace {

bool g_rewrite = false;

TestCommand ParseCommand(const std::string& line, int line_number) {
  TestCommand cmd;
  cmd.line = line;
  cmd.line_number = line_number;
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.empty()) return cmd;
  cmd.name = words[0];
  for (size_t i = 1; i < words.size(); ++i) {
    const size_t eq = words[i].find('=');
    if (eq == std::string::npos) {
      cmd.positional.push_back(words[i]);
    } else {
      cmd.named[words[i].substr(0, eq)] = words[i].substr(eq + 1);
    }
  }
  return cmd;
}

}  // namespace

bool RewriteRequested() {
  const char* env = std::getenv("EKV_REWRITE_GOLDEN");
  return g_rewrite || (env != nullptr && std::string(env) == "1");
}
void SetRewriteRequested(bool rewrite) { g_rewrite = rewrite; }

std::string TestCommand::Get(const std::string& key, const std::string& fallback) const {
  auto it = named.find(key);
  return it == named.end() ? fallback : it->second;
}

uint64_t TestCommand::GetUint(const std::string& key, uint64_t fallback) const {
  auto it = named.find(key);
  if (it == named.end()) return fallback;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    throw std::runtime_error(absl::StrCat("line ", line_number, ": ", key, " is not a number"));
  }
  return value;
}

bool TestCommand::GetBool(const std::string& key, bool fallback) const {
  auto it = named.find(key);
  if (it == named.end()) return fallback;
  return it->second == "true" || it->second == "1";
}

std::vector<uint64_t> TestCommand::GetList(const std::string& key) const {
  std::vector<uint64_t> out;
  auto it = named.find(key);
  if (it == named.end()) return out;
  absl::string_view text = it->second;
  absl::ConsumePrefix(&text, "(");
  absl::ConsumeSuffix(&text, ")");
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(part, &value)) {
      throw std::runtime_error(absl::StrCat("line ", line_number, ": bad list ", it->second));
    }
    out.push_back(value);
  }
  return out;
}

std::vector<uint64_t> TestCommand::PositionalUints() const {
  std::vector<uint64_t> out;
  for (const std::string& word : positional) {
    uint64_t value = 0;
    if (absl::SimpleAtoi(word, &value)) out.push_back(value);
  }
  return out;
}

std::string RunDataDrivenFile(const std::string& path, bool rewrite,
                              const std::function<std::string(const TestCommand&)>& handler) {
  std::ifstream in(path);
  if (!in) return absl::StrCat("cannot open ", path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  std::string failures;
  std::ostringstream rewritten;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      rewritten << line << "\n";
      ++i;
      continue;
    }
    const int command_line = static_cast<int>(i) + 1;
    TestCommand cmd = ParseCommand(line, command_line);
    rewritten << line << "\n";
    ++i;
    if (i >= lines.size() || lines[i] != "----") {
      return absl::StrCat(path, ":", command_line, ": expected ---- after command");
    }
    rewritten << "----\n";
    ++i;
    std::string expected;
    while (i < lines.size() && !lines[i].empty()) {
      absl::StrAppend(&expected, lines[i], "\n");
      ++i;
    }
    std::string actual;
    try {
      actual = handler(cmd);
    } catch (const std::exception& e) {
      actual = absl::StrCat("error: ", e.what(), "\n");
    }
    // Outputs never contain blank lines: they would end the block.
    std::string normalized;
    for (absl::string_view out_line : absl::StrSplit(actual, '\n', absl::SkipEmpty())) {
      absl::StrAppend(&normalized, out_line, "\n");
    }
    if (normalized.empty()) normalized = "ok\n";
    rewritten << normalized;
    if (normalized != expected && failures.size() < 20000) {
      absl::StrAppend(&failures, path, ":", command_line, ": ", cmd.line, "\n--- expected\n",
                      expected, "--- actual\n", normalized, "\n");
    }
  }
  if (rewrite) {
    std::ofstream out(path);
    out << rewritten.str();
    return "";
  }
  return failures;
}

}  // namespace ekv::testing
