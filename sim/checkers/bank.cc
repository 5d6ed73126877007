#include "sim/checkers/bank.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/assert.h"

namespace ekv::checkers {
namespace {

std::string FormatBalances(const std::map<std::string, int64_t>& balances) {
  return absl::StrCat("{", absl::StrJoin(balances, ", ", absl::PairFormatter("=")), "}");
}

std::vector<BankViolation> CheckRead(const std::set<std::string>& accounts, int64_t expected_total,
                                     const BankRead& read) {
  std::vector<BankViolation> violations;
  const std::string where =
      absl::StrCat("read #", read.id, " c", read.client, " [", read.invoke_time, ",",
                   read.complete_time, "] ", FormatBalances(read.balances));
  auto add = [&](BankViolation::Kind kind, absl::string_view account, std::string what) {
    BankViolation violation;
    violation.kind = kind;
    violation.read_id = read.id;
    violation.account = std::string(account);
    violation.explanation = absl::StrCat(where, ": ", what);
    violations.push_back(std::move(violation));
  };
  // Accumulated in 128 bits: the total of int64 balances can overflow int64.
  __int128 total = 0;
  for (const auto& [account, balance] : read.balances) {
    total += balance;
    if (!accounts.contains(account)) {
      add(BankViolation::Kind::kUnexpectedAccount, account,
          absl::StrCat("account \"", account, "\" is not one of the configured accounts"));
    }
    if (balance < 0) {
      add(BankViolation::Kind::kNegativeBalance, account,
          absl::StrCat("account \"", account, "\" has negative balance ", balance));
    }
  }
  for (const std::string& account : accounts) {
    if (!read.balances.contains(account)) {
      add(BankViolation::Kind::kMissingAccount, account,
          absl::StrCat("account \"", account, "\" is missing; every read covers every account"));
    }
  }
  if (total != expected_total) {
    const bool fits = total >= std::numeric_limits<int64_t>::min() &&
                      total <= std::numeric_limits<int64_t>::max();
    add(BankViolation::Kind::kWrongTotal, "",
        absl::StrCat("balances sum to ",
                     fits ? absl::StrCat(static_cast<int64_t>(total)) : "more than int64 holds",
                     ", expected ", expected_total,
                     "; transfers conserve money, so a snapshot cannot change the total"));
  }
  return violations;
}

}  // namespace

absl::string_view BankViolationKindName(BankViolation::Kind kind) {
  switch (kind) {
    case BankViolation::Kind::kWrongTotal:
      return "wrong-total";
    case BankViolation::Kind::kNegativeBalance:
      return "negative-balance";
    case BankViolation::Kind::kMissingAccount:
      return "missing-account";
    case BankViolation::Kind::kUnexpectedAccount:
      return "unexpected-account";
  }
  EKV_UNREACHABLE("unknown BankViolation::Kind ", static_cast<int>(kind));
}

std::string BankReport::ToString() const {
  if (ok()) return absl::StrCat("bank ok: ", reads_checked, " reads");
  std::string text = absl::StrCat("bank violation: ", violating_reads, " of ", reads_checked,
                                  " reads violate; the first:");
  for (const BankViolation& violation : first_violation) {
    absl::StrAppend(&text, "\n  ", BankViolationKindName(violation.kind), ": ",
                    violation.explanation);
  }
  return text;
}

absl::StatusOr<BankReport> CheckBank(const std::vector<std::string>& accounts,
                                     int64_t expected_total, const std::vector<BankRead>& reads) {
  if (accounts.empty()) {
    return absl::InvalidArgumentError("the bank has no accounts; expected at least one");
  }
  const std::set<std::string> account_set(accounts.begin(), accounts.end());
  if (account_set.size() != accounts.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("account list [", absl::StrJoin(accounts, ", "), "] repeats an account"));
  }
  std::vector<const BankRead*> ordered;
  ordered.reserve(reads.size());
  for (const BankRead& read : reads) ordered.push_back(&read);
  std::sort(ordered.begin(), ordered.end(), [](const BankRead* a, const BankRead* b) {
    return std::tie(a->invoke_time, a->id) < std::tie(b->invoke_time, b->id);
  });
  std::set<uint64_t> ids;
  for (const BankRead& read : reads) {
    if (!ids.insert(read.id).second) {
      return absl::InvalidArgumentError(absl::StrCat("read id #", read.id, " appears twice"));
    }
  }

  BankReport report;
  for (const BankRead* read : ordered) {
    ++report.reads_checked;
    std::vector<BankViolation> violations = CheckRead(account_set, expected_total, *read);
    if (violations.empty()) continue;
    if (report.violating_reads++ == 0) report.first_violation = std::move(violations);
  }
  return report;
}

}  // namespace ekv::checkers
