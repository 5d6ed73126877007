#include "sim/checkers/list_append.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/assert.h"

namespace ekv::checkers {
namespace {

using AnomalyKind = ListAppendAnomaly::Kind;

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr uint8_t kWw = static_cast<uint8_t>(DependencyKind::kWw);
constexpr uint8_t kWr = static_cast<uint8_t>(DependencyKind::kWr);
constexpr uint8_t kRw = static_cast<uint8_t>(DependencyKind::kRw);
constexpr uint8_t kRt = static_cast<uint8_t>(DependencyKind::kRt);
constexpr uint8_t kAllKinds = kWw | kWr | kRw | kRt;

// ---------------------------------------------------------------------------------------
// Anomaly bookkeeping: everything is counted, the first few of each kind are explained.

class AnomalyLog {
 public:
  explicit AnomalyLog(size_t max_reported_per_kind) : limit_(max_reported_per_kind) {}

  // Counts one anomaly of `kind`; true if the caller should build and Report it.
  bool Count(AnomalyKind kind) { return counts_[kind]++ < limit_; }
  void Report(ListAppendAnomaly anomaly) { reported_[anomaly.kind].push_back(std::move(anomaly)); }

  bool empty() const { return counts_.empty(); }
  const std::map<AnomalyKind, uint64_t>& counts() const { return counts_; }
  std::map<AnomalyKind, std::vector<ListAppendAnomaly>>& reported() { return reported_; }

 private:
  size_t limit_;
  std::map<AnomalyKind, uint64_t> counts_;
  std::map<AnomalyKind, std::vector<ListAppendAnomaly>> reported_;
};

ListAppendAnomaly MakeAnomaly(AnomalyKind kind, absl::string_view key,
                              std::vector<uint64_t> transaction_ids, std::string explanation) {
  ListAppendAnomaly anomaly;
  anomaly.kind = kind;
  anomaly.key = std::string(key);
  anomaly.transaction_ids = std::move(transaction_ids);
  anomaly.explanation = std::move(explanation);
  return anomaly;
}

std::string FormatList(const std::vector<int64_t>& list) {
  return absl::StrCat("[", absl::StrJoin(list, " "), "]");
}

// ---------------------------------------------------------------------------------------
// The history, indexed by key.

struct OpRef {
  uint32_t txn = 0;  // index into history.transactions()
  uint32_t op = 0;   // index into that transaction's ops
};

struct KeyIndex {
  std::string name;
  absl::flat_hash_map<int64_t, OpRef> appender;  // value -> its append; lookup only
  std::vector<OpRef> appends;                    // in history order, grouped by transaction
  std::vector<OpRef> reads;                      // committed reads, in history order
  // Duplicate elements or incompatible orders: no version order, so no edges or G1b.
  bool unordered = false;
  // The longest read: the known version order. Only meaningful when !unordered.
  const std::vector<int64_t>* order = nullptr;
  OpRef longest;
  absl::flat_hash_map<int64_t, uint32_t> position;  // value -> index in *order; lookup only
  // The included transaction that appended order[p], or kNone (garbage, aborted).
  std::vector<uint32_t> writer_at;
  // Included appends missing from the order, in history order: all come after it.
  std::vector<OpRef> unobserved;
  std::vector<uint32_t> unobserved_writers;  // sorted, unique
};

class Indexed {
 public:
  explicit Indexed(const TxnHistory& history) : history_(history) {
    const std::vector<Transaction>& transactions = history.transactions();
    EKV_ASSERT(transactions.size() < kNone, "history too large for 32-bit indices");
    for (uint32_t t = 0; t < transactions.size(); ++t) {
      const Transaction& transaction = transactions[t];
      for (uint32_t o = 0; o < transaction.ops.size(); ++o) {
        const MicroOp& op = transaction.ops[o];
        auto [it, inserted] = key_ids_.emplace(op.key, 0);
        if (inserted) {
          it->second = keys_.size();
          keys_.emplace_back();
          keys_.back().name = op.key;
        }
        KeyIndex& key = keys_[it->second];
        if (op.kind == MicroOp::Kind::kAppend) {
          const bool unique = key.appender.emplace(op.value, OpRef{t, o}).second;
          EKV_ASSERT(unique, "TxnHistory guarantees unique append values per key");
          key.appends.push_back(OpRef{t, o});
        } else if (op.read_result.has_value()) {
          key.reads.push_back(OpRef{t, o});
        }
      }
    }
  }

  const TxnHistory& history() const { return history_; }
  const Transaction& txn(uint32_t t) const { return history_.transactions()[t]; }
  const MicroOp& op(OpRef ref) const { return txn(ref.txn).ops[ref.op]; }
  const std::vector<int64_t>& read_list(OpRef ref) const { return *op(ref).read_result; }
  uint32_t key_id(const std::string& key) const { return key_ids_.at(key); }
  std::vector<KeyIndex>& keys() { return keys_; }
  const std::vector<KeyIndex>& keys() const { return keys_; }

  const OpRef* Appender(uint32_t key, int64_t value) const {
    auto it = keys_[key].appender.find(value);
    return it == keys_[key].appender.end() ? nullptr : &it->second;
  }

 private:
  const TxnHistory& history_;
  std::map<std::string, uint32_t> key_ids_;
  std::vector<KeyIndex> keys_;  // in order of first appearance in the history
};

// ---------------------------------------------------------------------------------------
// Per-read and per-transaction checks that need no graph.

// The first position of each fault in one read list, or kNone.
struct ListFaults {
  uint32_t duplicate = kNone;  // a value seen earlier in the list
  uint32_t garbage = kNone;    // a value nobody appended
  uint32_t aborted = kNone;    // a value appended by an aborted transaction
};

ListFaults FindFaults(const Indexed& index, uint32_t key_id, const std::vector<int64_t>& list) {
  ListFaults faults;
  absl::flat_hash_set<int64_t> seen;
  seen.reserve(list.size());
  for (uint32_t p = 0; p < list.size(); ++p) {
    if (!seen.insert(list[p]).second && faults.duplicate == kNone) faults.duplicate = p;
    const OpRef* appender = index.Appender(key_id, list[p]);
    if (appender == nullptr) {
      if (faults.garbage == kNone) faults.garbage = p;
    } else if (index.txn(appender->txn).outcome == Transaction::Outcome::kAborted &&
               faults.aborted == kNone) {
      faults.aborted = p;
    }
  }
  return faults;
}

// Reports the faults of `faults` that lie within the read (positions < its length).
// `faults` were found in a list the read is a prefix of, or in the read itself.
void ReportFaults(const Indexed& index, uint32_t key_id, KeyIndex& key, OpRef read,
                  const ListFaults& faults, AnomalyLog& log) {
  const std::vector<int64_t>& list = index.read_list(read);
  const uint64_t reader_id = index.txn(read.txn).id;
  if (faults.duplicate < list.size()) {
    key.unordered = true;
    if (log.Count(AnomalyKind::kDuplicateElements)) {
      log.Report(MakeAnomaly(
          AnomalyKind::kDuplicateElements, key.name, {reader_id},
          absl::StrCat("T", reader_id, " read ", key.name, " ", FormatList(list), ", which holds ",
                       list[faults.duplicate], " more than once; every value is appended once")));
    }
  }
  if (faults.garbage < list.size() && log.Count(AnomalyKind::kGarbageRead)) {
    log.Report(MakeAnomaly(
        AnomalyKind::kGarbageRead, key.name, {reader_id},
        absl::StrCat("T", reader_id, " read ", key.name, " ", FormatList(list),
                     ", but no transaction appended ", list[faults.garbage], " to ", key.name)));
  }
  if (faults.aborted < list.size() && log.Count(AnomalyKind::kAbortedRead)) {
    const int64_t value = list[faults.aborted];
    const Transaction& writer = index.txn(index.Appender(key_id, value)->txn);
    log.Report(MakeAnomaly(
        AnomalyKind::kAbortedRead, key.name, {reader_id, writer.id},
        absl::StrCat("T", reader_id, " read ", key.name, " ", FormatList(list), ", observing ",
                     value, " appended by aborted T", writer.id, ":\n  ",
                     FormatTransaction(index.txn(read.txn)), "\n  ", FormatTransaction(writer))));
  }
}

// Within one transaction, each read of a key must show exactly the transaction's own
// earlier effects: equal to its previous read of the key plus its appends since, or, with
// no previous read, end with its appends so far. It must not show its own later appends.
void CheckInternal(const Indexed& index, uint32_t t, AnomalyLog& log) {
  const Transaction& transaction = index.txn(t);
  if (transaction.outcome != Transaction::Outcome::kCommitted) return;
  struct KeyState {
    const std::vector<int64_t>* last_read = nullptr;  // the previous read of the key
    std::vector<int64_t> own_appends;                 // since the last read
  };
  std::map<std::string, KeyState> states;
  for (uint32_t o = 0; o < transaction.ops.size(); ++o) {
    const MicroOp& op = transaction.ops[o];
    KeyState& state = states[op.key];
    if (op.kind == MicroOp::Kind::kAppend) {
      state.own_appends.push_back(op.value);
      continue;
    }
    const std::vector<int64_t>& list = *op.read_result;
    const std::vector<int64_t>& own = state.own_appends;
    const bool ends_with_own =
        list.size() >= own.size() && std::equal(own.begin(), own.end(), list.end() - own.size());
    std::string problem;
    if (state.last_read != nullptr) {
      const std::vector<int64_t>& last = *state.last_read;
      if (!ends_with_own || list.size() != last.size() + own.size() ||
          !std::equal(last.begin(), last.end(), list.begin())) {
        std::vector<int64_t> expected = last;
        expected.insert(expected.end(), own.begin(), own.end());
        problem = absl::StrCat("expected ", FormatList(expected),
                               " (its previous read plus its own appends since)");
      }
    } else if (!ends_with_own) {
      problem = absl::StrCat("expected a list ending in its own appends ", FormatList(own));
    }
    if (problem.empty()) {
      const uint32_t key_id = index.key_id(op.key);
      for (int64_t value : list) {
        const OpRef* appender = index.Appender(key_id, value);
        if (appender != nullptr && appender->txn == t && appender->op > o) {
          problem = absl::StrCat("it shows ", value, ", which the transaction appends later");
          break;
        }
      }
    }
    if (!problem.empty() && log.Count(AnomalyKind::kInternal)) {
      log.Report(MakeAnomaly(
          AnomalyKind::kInternal, op.key, {transaction.id},
          absl::StrCat("T", transaction.id, "'s op ", o, " read ", op.key, " ", FormatList(list),
                       "; ", problem, ":\n  ", FormatTransaction(transaction))));
    }
    state.last_read = &list;
    state.own_appends.clear();
  }
}

// Lists only grow, so every read must be a prefix of the longest read of its key. Checks
// that, and each read's contents: a read that is a prefix of the longest holds a prefix of
// its faults, so the faults are found once per key and once per non-prefix read, not once
// per read. Marks the unknown-outcome transactions whose appends some read observed.
void CheckKeyReads(const Indexed& index, uint32_t key_id, KeyIndex& key,
                   std::vector<bool>& observed, AnomalyLog& log) {
  if (key.reads.empty()) return;
  key.longest = key.reads[0];
  for (OpRef read : key.reads) {
    if (index.read_list(read).size() > index.read_list(key.longest).size()) key.longest = read;
  }
  const std::vector<int64_t>& longest = index.read_list(key.longest);
  key.order = &longest;
  auto mark_observed = [&](const std::vector<int64_t>& list) {
    for (int64_t value : list) {
      const OpRef* appender = index.Appender(key_id, value);
      if (appender != nullptr) observed[appender->txn] = true;
    }
  };
  mark_observed(longest);
  const ListFaults longest_faults = FindFaults(index, key_id, longest);
  for (OpRef read : key.reads) {
    const std::vector<int64_t>& list = index.read_list(read);
    if (std::equal(list.begin(), list.end(), longest.begin())) {
      ReportFaults(index, key_id, key, read, longest_faults, log);
      continue;
    }
    mark_observed(list);
    ReportFaults(index, key_id, key, read, FindFaults(index, key_id, list), log);
    key.unordered = true;
    if (log.Count(AnomalyKind::kIncompatibleOrder)) {
      const uint64_t reader = index.txn(read.txn).id;
      const uint64_t longest_reader = index.txn(key.longest.txn).id;
      log.Report(MakeAnomaly(
          AnomalyKind::kIncompatibleOrder, key.name, {reader, longest_reader},
          absl::StrCat("T", reader, " read ", key.name, " ", FormatList(list),
                       ", which is not a prefix of T", longest_reader, "'s read ",
                       FormatList(longest), "; lists only grow, so the reads disagree on ",
                       key.name, "'s order")));
    }
  }
}

// The key's version order is its longest read; indexes it for the graph.
void IndexVersionOrder(const Indexed& index, const std::vector<bool>& included, KeyIndex& key) {
  EKV_ASSERT(!key.unordered, "only keys with one consistent order are indexed");
  static const std::vector<int64_t> kEmpty;
  if (key.order == nullptr) key.order = &kEmpty;
  const std::vector<int64_t>& order = *key.order;
  key.writer_at.assign(order.size(), kNone);
  key.position.reserve(order.size());
  for (uint32_t p = 0; p < order.size(); ++p) {
    key.position.emplace(order[p], p);
    auto it = key.appender.find(order[p]);
    if (it != key.appender.end() && included[it->second.txn]) key.writer_at[p] = it->second.txn;
  }
  for (OpRef append : key.appends) {
    if (included[append.txn] && !key.position.contains(index.op(append).value)) {
      key.unobserved.push_back(append);
      key.unobserved_writers.push_back(append.txn);
    }
  }
  std::sort(key.unobserved_writers.begin(), key.unobserved_writers.end());
  key.unobserved_writers.erase(
      std::unique(key.unobserved_writers.begin(), key.unobserved_writers.end()),
      key.unobserved_writers.end());
}

// G1b: a read of length n saw part of another transaction's appends to the key: one of
// them at a position < n and another at a position >= n or never observed. A sweep over
// reads by length with the writers' position intervals, O((reads + writers) log).
void CheckIntermediateReads(const Indexed& index, const std::vector<bool>& included,
                            const KeyIndex& key, AnomalyLog& log) {
  const uint32_t size = key.order->size();
  struct Interval {
    uint32_t first;  // position of the writer's first observed append
    uint32_t last;   // the writer straddles every read length n with first < n <= last
    uint32_t txn;
  };
  std::vector<Interval> intervals;
  for (size_t i = 0; i < key.appends.size();) {
    const uint32_t txn = key.appends[i].txn;
    uint32_t first = kNone;
    uint32_t last = 0;
    for (; i < key.appends.size() && key.appends[i].txn == txn; ++i) {
      auto it = key.position.find(index.op(key.appends[i]).value);
      const uint32_t position = it == key.position.end() ? size : it->second;
      if (it != key.position.end()) first = std::min(first, position);
      last = std::max(last, position);
    }
    if (included[txn] && first != kNone && last > first) intervals.push_back({first, last, txn});
  }
  if (intervals.empty()) return;
  std::sort(intervals.begin(), intervals.end(), [](const Interval& a, const Interval& b) {
    return std::tie(a.first, a.txn) < std::tie(b.first, b.txn);
  });
  std::vector<OpRef> reads = key.reads;
  std::stable_sort(reads.begin(), reads.end(), [&](OpRef a, OpRef b) {
    return index.read_list(a).size() < index.read_list(b).size();
  });
  std::set<std::pair<uint32_t, uint32_t>> active;  // (last, txn) of intervals with first < n
  size_t next_interval = 0;
  for (OpRef read : reads) {
    const uint32_t n = index.read_list(read).size();
    while (next_interval < intervals.size() && intervals[next_interval].first < n) {
      active.emplace(intervals[next_interval].last, intervals[next_interval].txn);
      ++next_interval;
    }
    while (!active.empty() && active.begin()->first < n) active.erase(active.begin());
    for (auto [last, txn] : active) {
      if (txn == read.txn) continue;
      if (log.Count(AnomalyKind::kIntermediateRead)) {
        const Transaction& writer = index.txn(txn);
        const Transaction& reader = index.txn(read.txn);
        log.Report(MakeAnomaly(
            AnomalyKind::kIntermediateRead, key.name, {reader.id, writer.id},
            absl::StrCat("T", reader.id, " read ", key.name, " ", FormatList(index.read_list(read)),
                         ", which shows some but not all of T", writer.id, "'s appends to ",
                         key.name, ":\n  ", FormatTransaction(reader), "\n  ",
                         FormatTransaction(writer))));
      }
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// The dependency graph. Nodes [0, n) are transactions (by history index); later nodes are
// virtual: a per-key frontier F (reader -rw-> F -rw-> every never-observed appender) and
// a chain of completion-time nodes C (T -rt-> C(T) -rt-> C(next) ... -rt-> later T').
// Every path through virtual nodes between two transactions stands for one real edge of
// the same kind, and no cycle runs through virtual nodes alone.

struct Edge {
  uint32_t to = 0;
  uint8_t kind = 0;
  bool has_from_value = false;
  bool has_to_value = false;
  uint32_t key = kNone;
  int64_t from_value = 0;
  int64_t to_value = 0;
};

enum class NodeType : uint8_t { kTransaction, kFrontier, kTime };

struct Graph {
  std::vector<std::vector<Edge>> out;
  std::vector<NodeType> type;
  uint32_t transactions = 0;

  explicit Graph(uint32_t transaction_count)
      : out(transaction_count),
        type(transaction_count, NodeType::kTransaction),
        transactions(transaction_count) {}

  uint32_t AddNode(NodeType node_type) {
    out.emplace_back();
    type.push_back(node_type);
    return out.size() - 1;
  }
  void Add(uint32_t from, Edge edge) {
    EKV_ASSERT(from != edge.to, "the dependency graph has no self-loops");
    out[from].push_back(edge);
  }
  bool real(uint32_t node) const { return node < transactions; }

  // One edge per (to, kind): duplicates add nothing to cycle search.
  uint64_t Dedupe() {
    uint64_t total = 0;
    for (std::vector<Edge>& edges : out) {
      std::stable_sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
        return std::tie(a.to, a.kind) < std::tie(b.to, b.kind);
      });
      edges.erase(std::unique(edges.begin(), edges.end(),
                              [](const Edge& a, const Edge& b) {
                                return a.to == b.to && a.kind == b.kind;
                              }),
                  edges.end());
      total += edges.size();
    }
    return total;
  }
};

Edge MakeEdge(uint32_t to, uint8_t kind, uint32_t key, std::optional<int64_t> from_value,
              std::optional<int64_t> to_value) {
  Edge edge;
  edge.to = to;
  edge.kind = kind;
  edge.has_from_value = from_value.has_value();
  edge.has_to_value = to_value.has_value();
  edge.key = key;
  edge.from_value = from_value.value_or(0);
  edge.to_value = to_value.value_or(0);
  return edge;
}

void AddKeyEdges(const Indexed& index, uint32_t key_id, const KeyIndex& key, Graph& graph) {
  const std::vector<int64_t>& order = *key.order;
  const uint32_t size = order.size();
  // ww along the version order, skipping excluded writers.
  uint32_t previous = kNone;  // position of the last included append
  for (uint32_t p = 0; p < size; ++p) {
    if (key.writer_at[p] == kNone) continue;
    if (previous != kNone && key.writer_at[previous] != key.writer_at[p]) {
      graph.Add(key.writer_at[previous],
                MakeEdge(key.writer_at[p], kWw, key_id, order[previous], order[p]));
    }
    previous = p;
  }
  for (OpRef append : key.unobserved) {
    if (previous != kNone && key.writer_at[previous] != append.txn) {
      graph.Add(key.writer_at[previous],
                MakeEdge(append.txn, kWw, key_id, order[previous], index.op(append).value));
    }
  }
  uint32_t frontier = kNone;
  if (!key.unobserved.empty()) {
    frontier = graph.AddNode(NodeType::kFrontier);
    for (OpRef append : key.unobserved) {
      graph.Add(frontier, MakeEdge(append.txn, kRw, key_id, std::nullopt, index.op(append).value));
    }
  }
  // next_included[p]: the first position >= p with an included writer (size if none);
  // previous_included[p]: the last position < p with one (kNone if none).
  std::vector<uint32_t> next_included(size + 1, size);
  for (uint32_t p = size; p-- > 0;) {
    next_included[p] = key.writer_at[p] != kNone ? p : next_included[p + 1];
  }
  std::vector<uint32_t> previous_included(size + 1, kNone);
  for (uint32_t p = 1; p <= size; ++p) {
    previous_included[p] = key.writer_at[p - 1] != kNone ? p - 1 : previous_included[p - 1];
  }
  for (OpRef read : key.reads) {
    const uint32_t reader = read.txn;
    const std::vector<int64_t>& list = index.read_list(read);
    const uint32_t n = list.size();
    const std::optional<int64_t> last_seen =
        n == 0 ? std::nullopt : std::optional<int64_t>(list.back());
    // wr: from the writer of the last element seen that is not the reader's own. Each
    // skip passes one of the reader's own appends, so this is bounded by those.
    for (uint32_t q = previous_included[n]; q != kNone; q = previous_included[q]) {
      if (key.writer_at[q] == reader) continue;
      graph.Add(key.writer_at[q], MakeEdge(reader, kWr, key_id, std::nullopt, order[q]));
      break;
    }
    // rw: to the writer of the first element after the list that is not the reader's.
    uint32_t q = next_included[n];
    while (q < size && key.writer_at[q] == reader) q = next_included[q + 1];
    if (q < size) {
      graph.Add(reader, MakeEdge(key.writer_at[q], kRw, key_id, last_seen, order[q]));
    } else if (frontier != kNone) {
      if (std::binary_search(key.unobserved_writers.begin(), key.unobserved_writers.end(),
                             reader)) {
        // The shared frontier would lead back to the reader itself: direct edges instead.
        for (OpRef append : key.unobserved) {
          if (append.txn == reader) continue;
          graph.Add(reader, MakeEdge(append.txn, kRw, key_id, last_seen, index.op(append).value));
        }
      } else {
        graph.Add(reader, MakeEdge(frontier, kRw, key_id, last_seen, std::nullopt));
      }
    }
  }
}

// Transitive reduction of "completed before invoked": each completed committed transaction
// feeds a chain of time nodes in completion order, and each transaction is fed by the last
// time node that completed strictly before its invocation.
void AddRealtimeEdges(const Indexed& index, const std::vector<bool>& included, Graph& graph) {
  std::vector<uint32_t> finished;
  for (uint32_t t = 0; t < graph.transactions; ++t) {
    const Transaction& transaction = index.txn(t);
    // An unknown outcome may have committed after the client gave up: no outgoing rt.
    if (included[t] && transaction.outcome == Transaction::Outcome::kCommitted) {
      finished.push_back(t);
    }
  }
  if (finished.empty()) return;
  std::sort(finished.begin(), finished.end(), [&](uint32_t a, uint32_t b) {
    return std::tie(index.txn(a).complete_time, a) < std::tie(index.txn(b).complete_time, b);
  });
  std::vector<uint32_t> chain;
  std::vector<uint64_t> chain_times;
  for (uint32_t t : finished) {
    const uint32_t node = graph.AddNode(NodeType::kTime);
    if (!chain.empty())
      graph.Add(chain.back(), MakeEdge(node, kRt, kNone, std::nullopt, std::nullopt));
    graph.Add(t, MakeEdge(node, kRt, kNone, std::nullopt, std::nullopt));
    chain.push_back(node);
    chain_times.push_back(index.txn(t).complete_time);
  }
  for (uint32_t t = 0; t < graph.transactions; ++t) {
    if (!included[t]) continue;
    const auto end =
        std::lower_bound(chain_times.begin(), chain_times.end(), index.txn(t).invoke_time);
    if (end == chain_times.begin()) continue;
    graph.Add(chain[end - chain_times.begin() - 1],
              MakeEdge(t, kRt, kNone, std::nullopt, std::nullopt));
  }
}

// Iterative Tarjan over the edges whose kind is in `mask`. Returns each node's component
// id; components of a single node are -1 (there are no self-loops, so they are acyclic).
std::vector<int32_t> StronglyConnected(const Graph& graph, uint8_t mask) {
  const uint32_t nodes = graph.out.size();
  std::vector<uint32_t> order(nodes, kNone);
  std::vector<uint32_t> low(nodes, 0);
  std::vector<bool> on_stack(nodes, false);
  std::vector<uint32_t> stack;
  std::vector<int32_t> component(nodes, -1);
  std::vector<std::pair<uint32_t, uint32_t>> frames;  // (node, next edge index)
  uint32_t counter = 0;
  int32_t components = 0;
  for (uint32_t root = 0; root < nodes; ++root) {
    if (order[root] != kNone) continue;
    frames.emplace_back(root, 0);
    order[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      auto& [node, next_edge] = frames.back();
      const std::vector<Edge>& edges = graph.out[node];
      bool descended = false;
      while (next_edge < edges.size()) {
        const Edge& edge = edges[next_edge++];
        if ((edge.kind & mask) == 0) continue;
        if (order[edge.to] == kNone) {
          order[edge.to] = low[edge.to] = counter++;
          stack.push_back(edge.to);
          on_stack[edge.to] = true;
          frames.emplace_back(edge.to, 0);
          descended = true;
          break;
        }
        if (on_stack[edge.to]) low[node] = std::min(low[node], order[edge.to]);
      }
      if (descended) continue;
      const uint32_t finished = node;
      frames.pop_back();
      if (!frames.empty())
        low[frames.back().first] = std::min(low[frames.back().first], low[finished]);
      if (low[finished] != order[finished]) continue;
      std::vector<uint32_t> members;
      uint32_t member;
      do {
        member = stack.back();
        stack.pop_back();
        on_stack[member] = false;
        members.push_back(member);
      } while (member != finished);
      if (members.size() > 1) {
        for (uint32_t m : members) component[m] = components;
        ++components;
      }
    }
  }
  return component;
}

struct Step {
  uint32_t from = 0;
  const Edge* edge = nullptr;
};

// 0-1 BFS: the shortest path, counting only edges into transactions, from any of
// `sources` to `target` over edges in `mask` among nodes with scope[node] == scope_id.
// `target` may be a source (then the path is a cycle through it). Returns the steps, or
// nothing if there is no such path or the step budget ran out.
class PathFinder {
 public:
  explicit PathFinder(const Graph& graph)
      : graph_(graph),
        epoch_of_(graph.out.size(), 0),
        distance_(graph.out.size(), 0),
        parent_(graph.out.size()) {}

  std::vector<Step> Find(const std::vector<uint32_t>& sources, uint32_t target, uint8_t mask,
                         const std::vector<int32_t>& scope, int32_t scope_id, uint64_t* steps,
                         uint64_t max_steps) {
    ++epoch_;
    std::deque<uint32_t> queue;
    for (uint32_t source : sources) {
      if (epoch_of_[source] == epoch_) continue;
      epoch_of_[source] = epoch_;
      distance_[source] = 0;
      parent_[source] = Step{kNone, nullptr};
      queue.push_back(source);
    }
    while (!queue.empty()) {
      const uint32_t node = queue.front();
      queue.pop_front();
      for (const Edge& edge : graph_.out[node]) {
        if ((edge.kind & mask) == 0 || scope[edge.to] != scope_id) continue;
        if (++*steps > max_steps) return {};
        if (edge.to == target) return Trace(node, Step{node, &edge});
        const uint32_t cost = graph_.real(edge.to) ? 1 : 0;
        const uint32_t distance = distance_[node] + cost;
        if (epoch_of_[edge.to] == epoch_ && distance_[edge.to] <= distance) continue;
        epoch_of_[edge.to] = epoch_;
        distance_[edge.to] = distance;
        parent_[edge.to] = Step{node, &edge};
        if (cost == 0) {
          queue.push_front(edge.to);
        } else {
          queue.push_back(edge.to);
        }
      }
    }
    return {};
  }

 private:
  std::vector<Step> Trace(uint32_t last, Step closing) {
    std::vector<Step> path = {closing};
    for (uint32_t node = last; parent_[node].from != kNone; node = parent_[node].from) {
      path.push_back(parent_[node]);
      EKV_ASSERT(path.size() <= graph_.out.size() + 1, "a BFS parent chain has no loops");
    }
    std::reverse(path.begin(), path.end());
    return path;
  }

  const Graph& graph_;
  uint32_t epoch_ = 0;
  std::vector<uint32_t> epoch_of_;
  std::vector<uint32_t> distance_;
  std::vector<Step> parent_;
};

// Turns a cycle of graph steps into transaction-to-transaction edges, merging each run
// through virtual nodes into the one edge it stands for.
std::vector<DependencyEdge> Collapse(const Indexed& index, const Graph& graph,
                                     std::vector<Step> steps) {
  // Rotate so the cycle starts at a transaction.
  auto first_real = std::find_if(steps.begin(), steps.end(),
                                 [&](const Step& step) { return graph.real(step.from); });
  EKV_ASSERT(first_real != steps.end(), "every cycle passes through a transaction");
  std::rotate(steps.begin(), first_real, steps.end());
  std::vector<DependencyEdge> edges;
  for (size_t i = 0; i < steps.size();) {
    const uint32_t from = steps[i].from;
    const Edge& first = *steps[i].edge;
    size_t j = i;
    while (!graph.real(steps[j].edge->to)) ++j;
    const Edge& last = *steps[j].edge;
    const uint32_t to = last.to;
    EKV_ASSERT(graph.real(to) && from != to, "a merged edge joins two transactions");
    const Transaction& a = index.txn(from);
    const Transaction& b = index.txn(to);
    DependencyEdge edge;
    edge.from_id = a.id;
    edge.to_id = b.id;
    edge.kind = static_cast<DependencyKind>(first.kind);
    edge.key = first.key == kNone ? "" : index.keys()[first.key].name;
    const std::string ta = absl::StrCat("T", a.id);
    const std::string tb = absl::StrCat("T", b.id);
    switch (edge.kind) {
      case DependencyKind::kWw:
        edge.reason = absl::StrCat(ta, " appended ", first.from_value, " to ", edge.key, " before ",
                                   tb, " appended ", last.to_value);
        break;
      case DependencyKind::kWr:
        edge.reason = absl::StrCat(tb, "'s read of ", edge.key, " observed ", ta, "'s append of ",
                                   last.to_value);
        break;
      case DependencyKind::kRw:
        edge.reason =
            absl::StrCat(ta, "'s read of ", edge.key,
                         first.has_from_value ? absl::StrCat(" (ending at ", first.from_value, ")")
                                              : std::string(" (empty)"),
                         " did not observe ", tb, "'s append of ", last.to_value,
                         graph.real(first.to) ? "" : ", which no read ever observed");
        break;
      case DependencyKind::kRt:
        edge.reason = absl::StrCat(ta, " completed at ", a.complete_time, " before ", tb,
                                   " was invoked at ", b.invoke_time);
        break;
    }
    edges.push_back(std::move(edge));
    i = j + 1;
  }
  return edges;
}

AnomalyKind Classify(const std::vector<DependencyEdge>& cycle) {
  size_t rw = 0;
  bool wr = false;
  bool rt = false;
  for (const DependencyEdge& edge : cycle) {
    rw += edge.kind == DependencyKind::kRw;
    wr |= edge.kind == DependencyKind::kWr;
    rt |= edge.kind == DependencyKind::kRt;
  }
  if (rw == 0 && !wr) return rt ? AnomalyKind::kG0Realtime : AnomalyKind::kG0;
  if (rw == 0) return rt ? AnomalyKind::kG1cRealtime : AnomalyKind::kG1c;
  if (rw == 1) return rt ? AnomalyKind::kGSingleRealtime : AnomalyKind::kGSingle;
  return rt ? AnomalyKind::kG2ItemRealtime : AnomalyKind::kG2Item;
}

class CycleSearch {
 public:
  CycleSearch(const Indexed& index, const Graph& graph, const ListAppendOptions& options,
              AnomalyLog& log)
      : index_(index),
        graph_(graph),
        options_(options),
        log_(log),
        finder_(graph),
        full_(StronglyConnected(graph, kAllKinds)) {}

  void Run(bool strict) {
    for (bool realtime : {false, true}) {
      if (realtime && !strict) break;
      const uint8_t extra = realtime ? kRt : 0;
      SearchMask(kWw | extra);
      SearchMask(kWw | kWr | extra);
      SearchSingle(kWw | kWr | extra);
      SearchMask(kWw | kWr | kRw | extra);
    }
  }

  uint64_t steps() const { return steps_; }
  bool exhausted() const { return exhausted_; }

 private:
  // One cycle per SCC of the `mask` subgraph whose full-graph SCC has none reported yet.
  void SearchMask(uint8_t mask) {
    const std::vector<int32_t> component = StronglyConnected(graph_, mask);
    for (uint32_t t = 0; t < graph_.transactions; ++t) {
      if (component[t] < 0 || reported_.contains(full_[t])) continue;
      uint64_t unbudgeted_steps = 0;
      std::vector<Step> steps =
          finder_.Find({t}, t, mask, component, component[t], &unbudgeted_steps,
                       std::numeric_limits<uint64_t>::max());
      EKV_ASSERT(!steps.empty(), "a node of a cyclic SCC lies on a cycle");
      Report(std::move(steps), full_[t]);
    }
  }

  // G-single: a cycle with exactly one rw edge a -rw-> b, closed by a path b ~> a over
  // `base` edges. Candidates whose b is earliest relative to a are tried first: the path
  // back has to run against time, which ww/wr/rt edges rarely do.
  void SearchSingle(uint8_t base) {
    struct Candidate {
      int64_t skew;
      uint32_t from;
      const Edge* edge;
    };
    std::vector<Candidate> candidates;
    for (uint32_t a = 0; a < graph_.transactions; ++a) {
      if (full_[a] < 0 || reported_.contains(full_[a])) continue;
      for (const Edge& edge : graph_.out[a]) {
        if (edge.kind != kRw || full_[edge.to] != full_[a]) continue;
        const int64_t skew = graph_.real(edge.to)
                                 ? static_cast<int64_t>(index_.txn(edge.to).invoke_time) -
                                       static_cast<int64_t>(index_.txn(a).invoke_time)
                                 : std::numeric_limits<int64_t>::max();
        candidates.push_back({skew, a, &edge});
      }
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& x, const Candidate& y) { return x.skew < y.skew; });
    for (const Candidate& candidate : candidates) {
      const uint32_t a = candidate.from;
      if (reported_.contains(full_[a])) continue;
      std::vector<uint32_t> sources;
      if (graph_.real(candidate.edge->to)) {
        sources.push_back(candidate.edge->to);
      } else {
        for (const Edge& next : graph_.out[candidate.edge->to]) {
          if (next.to != a && full_[next.to] == full_[a]) sources.push_back(next.to);
        }
      }
      std::vector<Step> path =
          finder_.Find(sources, a, base, full_, full_[a], &steps_, options_.max_search_steps);
      if (steps_ > options_.max_search_steps) {
        exhausted_ = true;
        return;
      }
      if (path.empty()) continue;
      std::vector<Step> cycle = {Step{a, candidate.edge}};
      if (!graph_.real(candidate.edge->to)) {
        for (const Edge& next : graph_.out[candidate.edge->to]) {
          if (next.to == path.front().from) {
            cycle.push_back(Step{candidate.edge->to, &next});
            break;
          }
        }
      }
      cycle.insert(cycle.end(), path.begin(), path.end());
      Report(std::move(cycle), full_[a]);
    }
  }

  void Report(std::vector<Step> steps, int32_t full_component) {
    reported_.insert(full_component);
    std::vector<DependencyEdge> cycle = Collapse(index_, graph_, std::move(steps));
    const AnomalyKind kind = Classify(cycle);
    if (!log_.Count(kind)) return;
    ListAppendAnomaly anomaly;
    anomaly.kind = kind;
    size_t rw = 0;
    for (const DependencyEdge& edge : cycle) {
      anomaly.transaction_ids.push_back(edge.from_id);
      rw += edge.kind == DependencyKind::kRw;
    }
    std::string& text = anomaly.explanation;
    absl::StrAppend(&text, "a cycle of ", cycle.size(), " transactions (", rw, " rw edges):");
    for (const DependencyEdge& edge : cycle) {
      absl::StrAppend(&text, "\n  ", FormatTransaction(index_.history().transaction(edge.from_id)));
    }
    for (const DependencyEdge& edge : cycle) {
      absl::StrAppend(&text, "\n  T", edge.from_id, " -", DependencyKindName(edge.kind),
                      edge.key.empty() ? "" : absl::StrCat("(", edge.key, ")"), "-> T", edge.to_id,
                      ": ", edge.reason);
    }
    anomaly.cycle = std::move(cycle);
    log_.Report(std::move(anomaly));
  }

  const Indexed& index_;
  const Graph& graph_;
  const ListAppendOptions& options_;
  AnomalyLog& log_;
  PathFinder finder_;
  const std::vector<int32_t> full_;
  std::set<int32_t> reported_;  // full-graph SCCs with a cycle reported
  uint64_t steps_ = 0;
  bool exhausted_ = false;
};

}  // namespace

absl::string_view DependencyKindName(DependencyKind kind) {
  switch (kind) {
    case DependencyKind::kWw:
      return "ww";
    case DependencyKind::kWr:
      return "wr";
    case DependencyKind::kRw:
      return "rw";
    case DependencyKind::kRt:
      return "rt";
  }
  EKV_UNREACHABLE("unknown DependencyKind ", static_cast<int>(kind));
}

absl::string_view AnomalyKindName(ListAppendAnomaly::Kind kind) {
  switch (kind) {
    case AnomalyKind::kG0:
      return "G0";
    case AnomalyKind::kG1c:
      return "G1c";
    case AnomalyKind::kGSingle:
      return "G-single";
    case AnomalyKind::kG2Item:
      return "G2-item";
    case AnomalyKind::kG0Realtime:
      return "G0-realtime";
    case AnomalyKind::kG1cRealtime:
      return "G1c-realtime";
    case AnomalyKind::kGSingleRealtime:
      return "G-single-realtime";
    case AnomalyKind::kG2ItemRealtime:
      return "G2-item-realtime";
    case AnomalyKind::kAbortedRead:
      return "G1a";
    case AnomalyKind::kIntermediateRead:
      return "G1b";
    case AnomalyKind::kGarbageRead:
      return "garbage-read";
    case AnomalyKind::kDuplicateElements:
      return "duplicate-elements";
    case AnomalyKind::kIncompatibleOrder:
      return "incompatible-order";
    case AnomalyKind::kInternal:
      return "internal";
  }
  EKV_UNREACHABLE("unknown ListAppendAnomaly::Kind ", static_cast<int>(kind));
}

bool ListAppendResult::Has(ListAppendAnomaly::Kind kind) const {
  return std::any_of(anomaly_counts.begin(), anomaly_counts.end(),
                     [kind](const auto& entry) { return entry.first == kind; });
}

ListAppendResult CheckListAppend(const TxnHistory& history, const ListAppendOptions& options) {
  Indexed index(history);
  AnomalyLog log(options.max_reported_per_kind);
  ListAppendResult result;
  const uint32_t transaction_count = history.transactions().size();

  // 1-3. Per-read and per-transaction checks and version orders; which transactions
  // count: committed ones, and unknown ones some committed read observed.
  for (uint32_t t = 0; t < transaction_count; ++t) CheckInternal(index, t, log);
  std::vector<bool> observed(transaction_count, false);
  for (uint32_t k = 0; k < index.keys().size(); ++k) {
    CheckKeyReads(index, k, index.keys()[k], observed, log);
  }
  std::vector<bool> included(transaction_count, false);
  for (uint32_t t = 0; t < transaction_count; ++t) {
    const Transaction::Outcome outcome = index.txn(t).outcome;
    included[t] = outcome == Transaction::Outcome::kCommitted ||
                  (outcome == Transaction::Outcome::kUnknown && observed[t]);
    result.transactions_included += included[t];
    result.unknown_dropped += outcome == Transaction::Outcome::kUnknown && !observed[t];
  }
  for (KeyIndex& key : index.keys()) {
    if (key.unordered) continue;
    IndexVersionOrder(index, included, key);
    CheckIntermediateReads(index, included, key, log);
  }

  // 4. The dependency graph.
  Graph graph(transaction_count);
  for (uint32_t k = 0; k < index.keys().size(); ++k) {
    if (!index.keys()[k].unordered) AddKeyEdges(index, k, index.keys()[k], graph);
  }
  if (options.strict) AddRealtimeEdges(index, included, graph);
  result.edges = graph.Dedupe();

  // 5. Cycles.
  CycleSearch search(index, graph, options, log);
  search.Run(options.strict);
  result.search_steps = search.steps();
  result.search_budget_exhausted = search.exhausted();

  // The verdict and the report.
  std::vector<std::string> summary;
  for (const auto& [kind, count] : log.counts()) {
    result.anomaly_counts.emplace_back(kind, count);
    summary.push_back(absl::StrCat(AnomalyKindName(kind), " x", count));
  }
  const std::string sizes =
      absl::StrCat(result.transactions_included, " transactions included, ", result.unknown_dropped,
                   " unobserved unknown-outcome dropped, ", result.edges, " edges",
                   options.strict ? ", strict serializability" : ", serializability");
  if (log.empty()) {
    result.explanation = absl::StrCat("list-append ok: ", sizes);
    return result;
  }
  result.verdict = ListAppendResult::Verdict::kViolation;
  result.explanation =
      absl::StrCat("list-append violation: ", absl::StrJoin(summary, ", "), " (", sizes, ")");
  for (auto& [kind, anomalies] : log.reported()) {
    for (ListAppendAnomaly& anomaly : anomalies) {
      absl::StrAppend(&result.explanation, "\n", AnomalyKindName(kind), ": ", anomaly.explanation);
      result.anomalies.push_back(std::move(anomaly));
    }
  }
  return result;
}

}  // namespace ekv::checkers
