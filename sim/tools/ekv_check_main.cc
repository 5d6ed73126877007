// ekv-check: runs the simulator's checkers on a history recorded elsewhere (the jepsen/
// harness's real-cluster runs). Format: sim/tools/history_text.h.
//
//   ekv-check --model register|bank|append HISTORY_FILE
//
// Prints the verdict and exits 0 (valid), 1 (invalid, or the search was inconclusive:
// never a pass) or 2 (bad usage or malformed input).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"

#include "sim/checkers/bank.h"
#include "sim/checkers/linearizability.h"
#include "sim/checkers/list_append.h"
#include "sim/tools/history_text.h"

namespace {

constexpr int kValid = 0;
constexpr int kInvalid = 1;
constexpr int kBadInput = 2;

int Usage() {
  std::cerr << "usage: ekv-check --model register|bank|append HISTORY_FILE\n"
               "Checks a recorded history with the simulator's checkers (format: "
               "sim/tools/history_text.h).\nExit status: 0 valid, 1 invalid or inconclusive, "
               "2 bad input.\n";
  return kBadInput;
}

int BadInput(const absl::Status& status) {
  std::cerr << "ekv-check: bad history: " << status.message() << "\n";
  return kBadInput;
}

int CheckRegister(const std::string& text) {
  absl::StatusOr<ekv::checkers::History> history = ekv::checkers::ParseRegisterHistory(text);
  if (!history.ok()) return BadInput(history.status());
  const ekv::checkers::LinearizabilityResult result = ekv::checkers::CheckLinearizable(*history);
  std::cout << "register: " << history->size() << " operations, verdict "
            << ekv::checkers::VerdictName(result.verdict) << " (" << result.total_steps
            << " search steps)\n";
  if (result.verdict == ekv::checkers::LinearizabilityResult::Verdict::kOk) return kValid;
  std::cout << result.explanation << "\n";
  return kInvalid;
}

int CheckBank(const std::string& text) {
  absl::StatusOr<ekv::checkers::BankHistory> history = ekv::checkers::ParseBankHistory(text);
  if (!history.ok()) return BadInput(history.status());
  absl::StatusOr<ekv::checkers::BankReport> report =
      ekv::checkers::CheckBank(history->accounts, history->total, history->reads);
  if (!report.ok()) return BadInput(report.status());
  std::cout << report->ToString() << "\n";
  return report->ok() ? kValid : kInvalid;
}

int CheckAppend(const std::string& text) {
  absl::StatusOr<ekv::checkers::TxnHistory> history = ekv::checkers::ParseAppendHistory(text);
  if (!history.ok()) return BadInput(history.status());
  const ekv::checkers::ListAppendResult result = ekv::checkers::CheckListAppend(*history);
  std::cout << result.explanation << "\n";
  return result.ok() ? kValid : kInvalid;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::string(argv[1]) != "--model") return Usage();
  const std::string model = argv[2];
  std::ifstream file(argv[3], std::ios::binary);
  if (!file) {
    std::cerr << "ekv-check: cannot read " << argv[3] << "\n";
    return kBadInput;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (model == "register") return CheckRegister(buffer.str());
  if (model == "bank") return CheckBank(buffer.str());
  if (model == "append") return CheckAppend(buffer.str());
  std::cerr << "ekv-check: unknown model '" << model << "'\n";
  return Usage();
}
