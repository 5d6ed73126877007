// A tiny data-driven test runner for golden-file scripts.
//
// A script is a sequence of blocks:
//   command arg1 key=value key=(a,b)
//   ----
//   expected output (no blank lines; the harness prints "<empty>" for none)
//   <blank line>
// Lines starting with '#' outside blocks are comments. With rewrite on, the expected
// output of every block is replaced by the actual one and the file is written back.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ekv::testing {

struct TestCommand {
  std::string name;
  std::vector<std::string> positional;
  std::map<std::string, std::string> named;
  std::string line;  // the whole command line, for messages
  int line_number = 0;

  bool Has(const std::string& key) const { return named.count(key) > 0; }
  std::string Get(const std::string& key, const std::string& fallback = "") const;
  uint64_t GetUint(const std::string& key, uint64_t fallback) const;
  bool GetBool(const std::string& key, bool fallback) const;
  // "(1,2,3)" or "1" -> {1,2,3}.
  std::vector<uint64_t> GetList(const std::string& key) const;
  std::vector<uint64_t> PositionalUints() const;
};

// Runs every block of `path` through `handler`. Returns a description of the first
// mismatches (empty when all matched). When `rewrite` is set, writes actual outputs back.
std::string RunDataDrivenFile(const std::string& path, bool rewrite,
                              const std::function<std::string(const TestCommand&)>& handler);

bool RewriteRequested();  // EKV_REWRITE_GOLDEN=1 or --rewrite on the command line
void SetRewriteRequested(bool rewrite);

}  // namespace ekv::testing
