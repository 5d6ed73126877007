#include "sim/checkers/timestamp_order.h"

#include <algorithm>
#include <cstddef>

#include "absl/strings/str_cat.h"

namespace ekv::checkers {

std::string CheckTimestampOrder(const std::vector<TimestampOp>& ops) {
  std::vector<size_t> by_invoke(ops.size());
  std::vector<size_t> by_complete(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) by_invoke[i] = by_complete[i] = i;
  std::sort(by_invoke.begin(), by_invoke.end(), [&](size_t a, size_t b) {
    return ops[a].invoke_time != ops[b].invoke_time ? ops[a].invoke_time < ops[b].invoke_time
                                                    : a < b;
  });
  std::sort(by_complete.begin(), by_complete.end(), [&](size_t a, size_t b) {
    return ops[a].complete_time != ops[b].complete_time
               ? ops[a].complete_time < ops[b].complete_time
               : a < b;
  });
  // No timestamp twice: transactions are named by their start_ts.
  std::vector<size_t> by_ts(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) by_ts[i] = i;
  std::sort(by_ts.begin(), by_ts.end(), [&](size_t a, size_t b) {
    return ops[a].ts != ops[b].ts ? ops[a].ts < ops[b].ts : a < b;
  });
  for (size_t i = 1; i < by_ts.size(); ++i) {
    const TimestampOp& a = ops[by_ts[i - 1]];
    const TimestampOp& b = ops[by_ts[i]];
    if (a.ts == b.ts) {
      return absl::StrCat("timestamp ", a.ts, " handed out twice (requests invoked at ",
                          a.invoke_time, " us and ", b.invoke_time, " us)");
    }
  }
  // Walk invocations in time order; `highest` is the largest timestamp of every request
  // that completed strictly before the current invocation.
  size_t done = 0;
  bool any = false;
  size_t highest = 0;
  for (size_t op : by_invoke) {
    while (done < by_complete.size() &&
           ops[by_complete[done]].complete_time < ops[op].invoke_time) {
      const size_t finished = by_complete[done++];
      if (!any || ops[finished].ts > ops[highest].ts) highest = finished;
      any = true;
    }
    if (any && ops[op].ts <= ops[highest].ts) {
      const TimestampOp& a = ops[highest];
      const TimestampOp& b = ops[op];
      return absl::StrCat("timestamp ", b.ts, " (invoked at ", b.invoke_time, " us, completed at ",
                          b.complete_time, " us) is not above timestamp ", a.ts,
                          " handed out earlier (invoked at ", a.invoke_time, " us, completed at ",
                          a.complete_time, " us)");
    }
  }
  return "";
}

}  // namespace ekv::checkers
