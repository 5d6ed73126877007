#include "sim/tools/history_text.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ekv::checkers {
namespace {

constexpr absl::string_view kAbsent = "%nil";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A line's fields, or none for a blank or comment line.
std::vector<absl::string_view> Fields(absl::string_view line) {
  if (line.empty() || line.front() == '#') return {};
  return absl::StrSplit(line, ' ', absl::SkipEmpty());
}

absl::Status LineError(size_t line_number, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", what));
}

absl::StatusOr<uint64_t> ParseUint(absl::string_view field, absl::string_view name) {
  uint64_t value = 0;
  if (!absl::SimpleAtoi(field, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " '", field, "' is not an unsigned integer"));
  }
  return value;
}

absl::StatusOr<std::optional<std::string>> ParseValue(absl::string_view field) {
  if (field == kAbsent) return std::optional<std::string>();
  absl::StatusOr<std::string> decoded = PercentDecode(field);
  if (!decoded.ok()) return decoded.status();
  return std::optional<std::string>(*std::move(decoded));
}

// The fields every register and append line starts with.
struct Header {
  uint64_t id = 0;
  uint64_t client = 0;
  uint64_t invoke_time = 0;
  uint64_t complete_time = 0;
  enum class Outcome { kOk, kFail, kInfo } outcome = Outcome::kInfo;
};

absl::StatusOr<Header> ParseHeader(const std::vector<absl::string_view>& fields) {
  if (fields.size() < 5) {
    return absl::InvalidArgumentError("expected <id> <client> <invoke> <complete|-> <outcome> ...");
  }
  Header header;
  absl::StatusOr<uint64_t> id = ParseUint(fields[0], "id");
  if (!id.ok()) return id.status();
  absl::StatusOr<uint64_t> client = ParseUint(fields[1], "client");
  if (!client.ok()) return client.status();
  absl::StatusOr<uint64_t> invoke = ParseUint(fields[2], "invoke time");
  if (!invoke.ok()) return invoke.status();
  header.id = *id;
  header.client = *client;
  header.invoke_time = *invoke;
  if (fields[3] == "-") {
    header.complete_time = Operation::kNotCompleted;
  } else {
    absl::StatusOr<uint64_t> complete = ParseUint(fields[3], "completion time");
    if (!complete.ok()) return complete.status();
    header.complete_time = *complete;
    if (header.complete_time < header.invoke_time) {
      return absl::InvalidArgumentError("completion time before invocation time");
    }
  }
  if (fields[4] == "ok") {
    header.outcome = Header::Outcome::kOk;
  } else if (fields[4] == "fail") {
    header.outcome = Header::Outcome::kFail;
  } else if (fields[4] == "info") {
    header.outcome = Header::Outcome::kInfo;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("outcome '", fields[4], "' is not ok, fail or info"));
  }
  if (header.outcome != Header::Outcome::kInfo &&
      header.complete_time == Operation::kNotCompleted) {
    return absl::InvalidArgumentError("an ok or fail operation needs a completion time");
  }
  return header;
}

absl::StatusOr<Operation> ParseRegisterLine(const std::vector<absl::string_view>& fields) {
  absl::StatusOr<Header> header = ParseHeader(fields);
  if (!header.ok()) return header.status();
  Operation operation;
  operation.id = header->id;
  operation.client = header->client;
  operation.invoke_time = header->invoke_time;
  operation.complete_time = header->complete_time;
  switch (header->outcome) {
    case Header::Outcome::kOk:
      operation.outcome = Operation::Outcome::kOk;
      break;
    case Header::Outcome::kFail:
      operation.outcome = Operation::Outcome::kFailed;
      break;
    case Header::Outcome::kInfo:
      operation.outcome = Operation::Outcome::kUnknown;
      break;
  }
  if (fields.size() < 7) return absl::InvalidArgumentError("expected <kind> <key> <value>");
  const absl::string_view kind = fields[5];
  absl::StatusOr<std::string> key = PercentDecode(fields[6]);
  if (!key.ok()) return key.status();
  operation.key = *std::move(key);
  if (kind == "read" || kind == "write") {
    if (fields.size() != 8)
      return absl::InvalidArgumentError(absl::StrCat(kind, " takes <key> <value>"));
    operation.kind = kind == "read" ? Operation::Kind::kRead : Operation::Kind::kWrite;
    absl::StatusOr<std::optional<std::string>> value = ParseValue(fields[7]);
    if (!value.ok()) return value.status();
    operation.value = *std::move(value);
    // A read that did not succeed observed nothing.
    if (operation.kind == Operation::Kind::kRead && operation.outcome != Operation::Outcome::kOk) {
      operation.value.reset();
    }
  } else if (kind == "cas") {
    if (fields.size() != 9) return absl::InvalidArgumentError("cas takes <key> <expected> <new>");
    operation.kind = Operation::Kind::kCas;
    absl::StatusOr<std::optional<std::string>> expected = ParseValue(fields[7]);
    if (!expected.ok()) return expected.status();
    absl::StatusOr<std::optional<std::string>> value = ParseValue(fields[8]);
    if (!value.ok()) return value.status();
    operation.expected = *std::move(expected);
    operation.value = *std::move(value);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("kind '", kind, "' is not read, write or cas"));
  }
  return operation;
}

absl::StatusOr<BankRead> ParseBankRead(const std::vector<absl::string_view>& fields) {
  if (fields.size() < 5) {
    return absl::InvalidArgumentError("expected read <id> <client> <invoke> <complete> ...");
  }
  BankRead read;
  absl::StatusOr<uint64_t> id = ParseUint(fields[1], "id");
  if (!id.ok()) return id.status();
  absl::StatusOr<uint64_t> client = ParseUint(fields[2], "client");
  if (!client.ok()) return client.status();
  absl::StatusOr<uint64_t> invoke = ParseUint(fields[3], "invoke time");
  if (!invoke.ok()) return invoke.status();
  absl::StatusOr<uint64_t> complete = ParseUint(fields[4], "completion time");
  if (!complete.ok()) return complete.status();
  read.id = *id;
  read.client = *client;
  read.invoke_time = *invoke;
  read.complete_time = *complete;
  for (size_t i = 5; i < fields.size(); ++i) {
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(fields[i], absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> account = PercentDecode(parts.first);
    if (!account.ok()) return account.status();
    int64_t balance = 0;
    if (!absl::SimpleAtoi(parts.second, &balance)) {
      return absl::InvalidArgumentError(
          absl::StrCat("balance '", fields[i], "' is not <account>=<integer>"));
    }
    if (!read.balances.emplace(*account, balance).second) {
      return absl::InvalidArgumentError(absl::StrCat("account '", *account, "' read twice"));
    }
  }
  return read;
}

absl::StatusOr<MicroOp> ParseMicroOp(absl::string_view field, bool committed) {
  const std::vector<absl::string_view> parts = absl::StrSplit(field, absl::MaxSplits(':', 2));
  if (parts.size() != 3 || (parts[0] != "a" && parts[0] != "r")) {
    return absl::InvalidArgumentError(
        absl::StrCat("micro-op '", field, "' is not a:<key>:<int> or r:<key>:<list>"));
  }
  absl::StatusOr<std::string> key = PercentDecode(parts[1]);
  if (!key.ok()) return key.status();
  if (parts[0] == "a") {
    int64_t value = 0;
    if (!absl::SimpleAtoi(parts[2], &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("append value in '", field, "' is not an integer"));
    }
    return MicroOp::Append(*key, value);
  }
  if (parts[2] == "?") {
    if (committed) {
      return absl::InvalidArgumentError(
          absl::StrCat("ok transaction has an unknown read '", field, "'"));
    }
    return MicroOp::Read(*key);
  }
  std::vector<int64_t> list;
  for (absl::string_view element : absl::StrSplit(parts[2], ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(element, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("read list in '", field, "' holds a non-integer"));
    }
    list.push_back(value);
  }
  // Only a committed transaction's reads promise anything (txn_history.h).
  if (!committed) return MicroOp::Read(*key);
  return MicroOp::Read(*key, std::move(list));
}

absl::StatusOr<Transaction> ParseAppendLine(const std::vector<absl::string_view>& fields) {
  absl::StatusOr<Header> header = ParseHeader(fields);
  if (!header.ok()) return header.status();
  Transaction transaction;
  transaction.id = header->id;
  transaction.client = header->client;
  transaction.invoke_time = header->invoke_time;
  transaction.complete_time = header->complete_time;
  switch (header->outcome) {
    case Header::Outcome::kOk:
      transaction.outcome = Transaction::Outcome::kCommitted;
      break;
    case Header::Outcome::kFail:
      transaction.outcome = Transaction::Outcome::kAborted;
      break;
    case Header::Outcome::kInfo:
      transaction.outcome = Transaction::Outcome::kUnknown;
      break;
  }
  if (fields.size() < 6)
    return absl::InvalidArgumentError("a transaction needs at least one micro-op");
  for (size_t i = 5; i < fields.size(); ++i) {
    absl::StatusOr<MicroOp> op =
        ParseMicroOp(fields[i], transaction.outcome == Transaction::Outcome::kCommitted);
    if (!op.ok()) return op.status();
    transaction.ops.push_back(*std::move(op));
  }
  return transaction;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(absl::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out.push_back(field[i]);
      continue;
    }
    if (i + 2 >= field.size()) {
      return absl::InvalidArgumentError(absl::StrCat("truncated escape in '", field, "'"));
    }
    const int high = HexDigit(field[i + 1]);
    const int low = HexDigit(field[i + 2]);
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad escape in '", field, "'"));
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

absl::StatusOr<History> ParseRegisterHistory(absl::string_view text) {
  std::vector<Operation> operations;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const std::vector<absl::string_view> fields = Fields(line);
    if (fields.empty()) continue;
    absl::StatusOr<Operation> operation = ParseRegisterLine(fields);
    if (!operation.ok()) return LineError(line_number, operation.status().message());
    operations.push_back(*std::move(operation));
  }
  return History::FromOperations(std::move(operations));
}

absl::StatusOr<BankHistory> ParseBankHistory(absl::string_view text) {
  BankHistory history;
  bool have_accounts = false;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const std::vector<absl::string_view> fields = Fields(line);
    if (fields.empty()) continue;
    if (fields[0] == "accounts") {
      if (have_accounts) return LineError(line_number, "a second accounts line");
      if (fields.size() < 3)
        return LineError(line_number, "expected accounts <total> <account>...");
      if (!absl::SimpleAtoi(fields[1], &history.total)) {
        return LineError(line_number, "total is not an integer");
      }
      for (size_t i = 2; i < fields.size(); ++i) {
        absl::StatusOr<std::string> account = PercentDecode(fields[i]);
        if (!account.ok()) return LineError(line_number, account.status().message());
        history.accounts.push_back(*std::move(account));
      }
      have_accounts = true;
    } else if (fields[0] == "read") {
      if (!have_accounts) return LineError(line_number, "a read before the accounts line");
      absl::StatusOr<BankRead> read = ParseBankRead(fields);
      if (!read.ok()) return LineError(line_number, read.status().message());
      history.reads.push_back(*std::move(read));
    } else {
      return LineError(line_number, absl::StrCat("'", fields[0], "' is not accounts or read"));
    }
  }
  if (!have_accounts) return absl::InvalidArgumentError("no accounts line");
  return history;
}

absl::StatusOr<TxnHistory> ParseAppendHistory(absl::string_view text) {
  std::vector<Transaction> transactions;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const std::vector<absl::string_view> fields = Fields(line);
    if (fields.empty()) continue;
    absl::StatusOr<Transaction> transaction = ParseAppendLine(fields);
    if (!transaction.ok()) return LineError(line_number, transaction.status().message());
    transactions.push_back(*std::move(transaction));
  }
  return TxnHistory::FromTransactions(std::move(transactions));
}

}  // namespace ekv::checkers
