#include "sim/checkers/durability.h"

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/assert.h"

namespace ekv::checkers {
namespace {

struct KeyWrites {
  std::vector<const Operation*> writes;  // kOk and kUnknown writes and CASes
  bool has_acknowledged = false;
  // Invocation time of the last acknowledged write to start: every acknowledged write that
  // completed strictly before it is superseded.
  uint64_t latest_acknowledged_invoke_time = 0;
};

bool IsSuperseded(const Operation& write, const KeyWrites& key_writes) {
  return write.outcome == Operation::Outcome::kOk &&
         write.complete_time < key_writes.latest_acknowledged_invoke_time;
}

std::string FormatValue(const std::optional<std::string>& value) {
  if (!value.has_value()) return "nil";
  return absl::StrCat("\"", absl::CEscape(*value), "\"");
}

void AppendOperations(std::string* text, const History& history, const std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) {
    absl::StrAppend(text, "\n  ", FormatOperation(history.operation(id)));
  }
}

}  // namespace

std::string DurabilityReport::ToString() const {
  if (ok()) return "durability ok";
  std::vector<std::string> paragraphs;
  for (const DurabilityViolation& violation : violations) {
    paragraphs.push_back(violation.explanation);
  }
  return absl::StrCat(violations.size(), " durability violation(s):\n",
                      absl::StrJoin(paragraphs, "\n"));
}

DurabilityReport CheckDurability(const History& history, const FinalValues& final_values) {
  // Ordered by key so violations come out in a deterministic order.
  std::map<std::string, KeyWrites> writes_by_key;
  for (const Operation& operation : history.operations()) {
    if (operation.kind == Operation::Kind::kRead) continue;
    if (operation.outcome == Operation::Outcome::kFailed) continue;
    KeyWrites& key_writes = writes_by_key[operation.key];
    key_writes.writes.push_back(&operation);
    if (operation.outcome == Operation::Outcome::kOk) {
      key_writes.has_acknowledged = true;
      key_writes.latest_acknowledged_invoke_time =
          std::max(key_writes.latest_acknowledged_invoke_time, operation.invoke_time);
    }
  }
  std::set<std::string> keys;
  for (const auto& [key, unused] : writes_by_key) keys.insert(key);
  for (const auto& [key, unused] : final_values) keys.insert(key);

  const KeyWrites no_writes;
  DurabilityReport report;
  for (const std::string& key : keys) {
    auto writes_it = writes_by_key.find(key);
    const KeyWrites& key_writes = writes_it == writes_by_key.end() ? no_writes : writes_it->second;

    std::vector<uint64_t> latest_acknowledged;
    for (const Operation* write : key_writes.writes) {
      if (write->outcome == Operation::Outcome::kOk && !IsSuperseded(*write, key_writes)) {
        latest_acknowledged.push_back(write->id);
      }
    }
    std::sort(latest_acknowledged.begin(), latest_acknowledged.end());

    auto final_it = final_values.find(key);
    if (final_it == final_values.end()) {
      // Nothing was promised for a key with only unknown-outcome writes.
      if (!key_writes.has_acknowledged) continue;
      DurabilityViolation violation;
      violation.key = key;
      violation.final_read_missing = true;
      violation.latest_acknowledged_write_ids = latest_acknowledged;
      violation.explanation =
          absl::StrCat("key \"", absl::CEscape(key),
                       "\" has acknowledged writes but no final read; the final read must "
                       "cover every written key. Latest acknowledged writes:");
      AppendOperations(&violation.explanation, history, latest_acknowledged);
      report.violations.push_back(std::move(violation));
      continue;
    }
    const std::optional<std::string>& final_value = final_it->second;

    bool explained = !key_writes.has_acknowledged && !final_value.has_value();
    std::vector<uint64_t> superseded_writers;  // superseded writes of the final value
    for (const Operation* write : key_writes.writes) {
      if (write->value != final_value) continue;
      if (IsSuperseded(*write, key_writes)) {
        superseded_writers.push_back(write->id);
      } else {
        explained = true;
      }
    }
    if (explained) continue;

    EKV_ASSERT(!latest_acknowledged.empty() || final_value.has_value(),
               "an absent key with no acknowledged write is always explained");
    DurabilityViolation violation;
    violation.key = key;
    violation.final_value = final_value;
    violation.latest_acknowledged_write_ids = latest_acknowledged;
    std::string& text = violation.explanation;
    absl::StrAppend(&text, "key \"", absl::CEscape(key), "\" final value ",
                    FormatValue(final_value));
    if (!superseded_writers.empty()) {
      std::sort(superseded_writers.begin(), superseded_writers.end());
      absl::StrAppend(&text, " was written only by acknowledged writes that later acknowledged ",
                      "writes superseded (a lost write):");
      AppendOperations(&text, history, superseded_writers);
    } else if (!final_value.has_value()) {
      absl::StrAppend(&text, " means the key is absent, yet no surviving write deleted it ",
                      "(a lost write).");
    } else {
      absl::StrAppend(&text, " was never written to this key by any ok or unknown write.");
    }
    if (latest_acknowledged.empty()) {
      absl::StrAppend(&text, "\nThe key had no acknowledged write, so it should be absent or ",
                      "hold an unknown-outcome write's value.");
    } else {
      absl::StrAppend(&text,
                      "\nExpected the value of one of these latest acknowledged writes (or of a "
                      "concurrent unknown-outcome write):");
      AppendOperations(&text, history, latest_acknowledged);
    }
    report.violations.push_back(std::move(violation));
  }
  return report;
}

}  // namespace ekv::checkers
