#!/usr/bin/env bash
# A long simulator sweep of one configuration over K niced processes, resumable.
#
#   scripts/sweep.sh [--jobs K] [--nice N] [--chunk C] [--bin PATH] [--dir DIR] A..B [ekv-sim flags...]
#   scripts/sweep.sh --report DIR [A..B]
#   e.g. scripts/sweep.sh --jobs 1 1..10000 --workload bank --splits --faults all
#
# The range is cut into chunks of C seeds (default 100) aligned to multiples of C, so a
# later, larger range of the same configuration reuses every finished chunk. K workers
# (default 1) run `nice -n N` (default 19) ekv-sim over one chunk each, writing
# DIR/chunks/FIRST-LAST.log; a chunk counts as done only once its log is complete, so
# killing the sweep loses at most the chunks in flight and running the same command again
# resumes. A seed that kills ekv-sim (an assertion, a signal) is recorded as a failure
# and the chunk goes on from the next seed.
#
# DIR (default sim-archive/sweeps/<flags>, which git ignores) holds the binary the sweep
# started with (DIR/ekv-sim: a resume runs the same code even after a rebuild; another
# --bin is refused), the flags, one summary line per seed (DIR/seeds.txt, by seed) and, at
# the end, DIR/totals.txt: seeds run, failures with the command that reproduces each,
# thin seeds (fewer acknowledged operations than --min_acked, reported, not passed), and
# the sums of the depth counters (ops acked/failed/unknown, elections, crashes,
# snapshots sent, splits, lock resolutions, simulated seconds, events).
# Exit status: 0 clean, 1 a seed failed, 3 none failed but some were thin, 4 none failed
# but some seeds of A..B were not run (a chunk interrupted by SIGINT/SIGKILL/SIGTERM from
# outside is left unfinished, not blamed on a seed), 2 usage.
set -euo pipefail

usage() {
  sed -n '4,5p' "$0" | sed 's/^#   /usage: /' >&2
  exit 2
}

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
jobs=1
niceness=19
chunk=100
bin=""
dir=""
report_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --nice) niceness="$2"; shift 2 ;;
    --chunk) chunk="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --report) report_only=1; dir="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
[[ "${jobs}" =~ ^[1-9][0-9]*$ && "${chunk}" =~ ^[1-9][0-9]*$ && "${niceness}" =~ ^-?[0-9]+$ ]] ||
  usage

# Prints the totals of DIR's finished seeds within FIRST..LAST (all when empty) and writes
# DIR/seeds.txt and DIR/totals.txt.
report() {
  local dir="$1" first="$2" last="$3"
  local flags
  flags="$(cat "${dir}/flags")"
  # Every chunk log's seed lines, one per seed, ordered by seed.
  cat "${dir}"/chunks/*.log 2>/dev/null | grep -a '^seed=' | sort -t= -k2,2n -u > "${dir}/seeds.txt" || true
  awk -v first="${first}" -v last="${last}" -v flags="${flags}" -v failures="${dir}/failures.txt" '
    function field(name,   i, kv) {
      for (i = 1; i <= NF; ++i) {
        if (index($i, name "=") == 1) { kv = substr($i, length(name) + 2); return kv }
      }
      return ""
    }
    {
      seed = substr($1, 6) + 0
      if (first != "" && (seed < first + 0 || seed > last + 0)) next
      if (seen[seed]++) next
      ++seeds
      if (min == "" || seed < min) min = seed
      if (max == "" || seed > max) max = seed
      split(field("ops_acked"), acked, "/")
      sum["acked"] += acked[1]; sum["issued"] += acked[2]
      n = split("failed unknown elections crashes snapshots lock_resolutions forwards events", names, " ")
      for (i = 1; i <= n; ++i) sum[names[i]] += field(names[i])
      sum["sim_s"] += field("sim_s")
      if (field("elections") != "") has_depth = 1
      # With --splits the line carries splits=done/tried (the bare word "splits" precedes it).
      s = field("splits")
      if (s != "") { split(s, st, "/"); sum["splits"] += st[1]; has_splits = 1 }
      verdict = field("verdict")
      if (verdict != "ok") { ++failed; bad = bad " " seed }
      if ($0 ~ /\(THIN/) { ++thin; thin_list = thin_list " " seed }
    }
    END {
      if (seeds == 0) { print "no finished seeds in " (first == "" ? "the sweep" : first ".." last); exit }
      printf "sweep %s: seeds %d..%d, %d run, %d failing, %d thin\n", flags, min, max, seeds, failed, thin
      printf "totals: ops acked=%.0f issued=%.0f", sum["acked"], sum["issued"]
      # (register seed lines carry no depth counters: only kv workloads count them.)
      if (has_depth) printf " failed=%.0f unknown=%.0f elections=%.0f crashes=%.0f snapshots_sent=%.0f", \
        sum["failed"], sum["unknown"], sum["elections"], sum["crashes"], sum["snapshots"]
      if (has_splits) printf " splits=%.0f", sum["splits"]
      if (has_depth) printf " lock_resolutions=%.0f forwards=%.0f", sum["lock_resolutions"], sum["forwards"]
      printf " events=%.0f simulated_s=%.0f\n", sum["events"], sum["sim_s"]
      printf "per seed: acked %.1f events %.0f simulated_s %.1f\n", \
        sum["acked"] / seeds, sum["events"] / seeds, sum["sim_s"] / seeds
      if (thin > 0) printf "thin seeds (too few acknowledged operations to judge):%s\n", thin_list
      if (first != "" && seeds < last - first + 1)
        printf "not run yet: %d seeds of %d..%d (interrupted chunks; a resume runs them)\n", \
          last - first + 1 - seeds, first, last
      if (failed > 0) {
        printf "failing seeds:%s\n", bad
        printf "(each with its repro command and trace tail in %s)\n", failures
      }
    }' "${dir}/seeds.txt" > "${dir}/totals.txt"
  if [[ -s "${dir}/failures.txt" ]]; then
    grep -a '^  repro:\|^CRASH' "${dir}/failures.txt" | sed 's/^  repro: /repro: /' | sort -u >> "${dir}/totals.txt" || true
  fi
  cat "${dir}/totals.txt"
  if grep -q ' [1-9][0-9]* failing' "${dir}/totals.txt"; then return 1; fi
  if grep -q ' [1-9][0-9]* thin$' "${dir}/totals.txt"; then return 3; fi
  if grep -q '^not run yet' "${dir}/totals.txt"; then return 4; fi
  return 0
}

if [[ "${report_only}" -eq 1 ]]; then
  [[ -f "${dir}/flags" ]] || { echo "${dir} holds no sweep" >&2; exit 2; }
  first="" last=""
  if [[ $# -ge 1 && "$1" =~ ^([0-9]+)\.\.([0-9]+)$ ]]; then
    first="${BASH_REMATCH[1]}" last="${BASH_REMATCH[2]}"
  fi
  status=0
  report "${dir}" "${first}" "${last}" || status=$?
  exit "${status}"
fi

if [[ $# -lt 1 || ! "$1" =~ ^([0-9]+)\.\.([0-9]+)$ ]]; then usage; fi
first="${BASH_REMATCH[1]}"
last="${BASH_REMATCH[2]}"
shift
[[ "${first}" -le "${last}" ]] || usage
for flag in "$@"; do
  case "${flag}" in
    --seed|--seed=*|--seeds|--seeds=*|--trace|--trace=*|--keep_going*)
      echo "scripts/sweep.sh sets ${flag%%=*} itself" >&2
      exit 2 ;;
  esac
done
flags="$*"

if [[ -z "${dir}" ]]; then
  slug="$(echo "${flags:-default}" | sed 's/--//g' | tr -s ' =,/' '____' | tr -cd 'A-Za-z0-9_.-' | sed 's/^_*//')"
  dir="${repo_root}/sim-archive/sweeps/${slug}"
fi
mkdir -p "${dir}/chunks"
if [[ -f "${dir}/flags" ]]; then
  if [[ "$(cat "${dir}/flags")" != "${flags}" ]]; then
    echo "${dir} is a sweep of '$(cat "${dir}/flags")', not '${flags}'" >&2
    exit 2
  fi
else
  echo "${flags}" > "${dir}/flags"
  printf '%s\n' "$@" > "${dir}/argv"
fi
if [[ ! -x "${dir}/ekv-sim" ]]; then
  if [[ -z "${bin}" ]]; then
    for candidate in "${repo_root}"/build/sim/ekv-sim "${repo_root}"/build*/sim/ekv-sim; do
      [[ -x "${candidate}" ]] && bin="${candidate}" && break
    done
  fi
  [[ -n "${bin}" && -x "${bin}" ]] || { echo "ekv-sim not found; build it or pass --bin" >&2; exit 2; }
  cp "${bin}" "${dir}/ekv-sim.tmp" && mv "${dir}/ekv-sim.tmp" "${dir}/ekv-sim"
  {
    echo "binary: ${bin} sha256 $(sha256sum "${bin}" | cut -d' ' -f1)"
    echo "commit: $(git -C "${repo_root}" rev-parse HEAD 2>/dev/null || echo unknown)$(
      git -C "${repo_root}" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "started: $(date -u +%FT%TZ)"
  } > "${dir}/binary"
elif [[ -n "${bin}" ]] && ! cmp -s "${bin}" "${dir}/ekv-sim"; then
  echo "${dir} was started with another binary ($(head -1 "${dir}/binary")); pass another --dir" >&2
  exit 2
fi

# One chunk: ekv-sim over FIRST..LAST, restarted past any seed that kills it.
run_chunk() {
  local a="$1" b="$2"
  local dir="${SWEEP_DIR}"
  local args=()
  mapfile -t args < "${dir}/argv"
  local log="${dir}/chunks/${a}-${b}.log"
  local part="${log}.part"
  [[ -f "${log}" ]] && return 0
  : > "${part}"
  local next="${a}"
  while [[ "${next}" -le "${b}" ]]; do
    local status=0
    nice -n "${SWEEP_NICE}" "${dir}/ekv-sim" --seeds "${next}..${b}" "${args[@]}" >> "${part}" 2>&1 ||
      status=$?
    if [[ "${status}" -eq 0 || "${status}" -eq 1 || "${status}" -eq 3 ]] &&
      grep -aq "^seed=${b} " "${part}"; then
      break
    fi
    # SIGINT, SIGKILL or SIGTERM came from outside (an operator, a session's end, the OOM
    # killer), not from the seed: ekv-sim's own failures exit 1, or die by SIGABRT/SIGSEGV.
    # The chunk stays unfinished, so a resume runs it again, and no seed is blamed.
    if [[ "${status}" -eq 130 || "${status}" -eq 137 || "${status}" -eq 143 ]]; then
      echo "[$(date -u +%T)] chunk ${a}..${b}: interrupted (ekv-sim exit status ${status});" \
        "a resume runs it again" >&2
      return 0
    fi
    # The process died: the seed after the last one it finished killed it.
    local done_seed dead
    done_seed="$(grep -a '^seed=' "${part}" | tail -1 | sed 's/^seed=\([0-9]*\).*/\1/')"
    if [[ -n "${done_seed}" && "${done_seed}" -ge "${next}" ]]; then
      dead=$(( done_seed + 1 ))
    else
      dead="${next}"
    fi
    [[ "${dead}" -le "${b}" ]] || break
    echo "seed=${dead} verdict=CRASH (ekv-sim exit status ${status})" >> "${part}"
    {
      echo "CRASH seed=${dead} exit status ${status}: ekv-sim --seed ${dead} ${args[*]}"
      tail -40 "${part}"
    } >> "${dir}/failures.txt"
    next=$(( dead + 1 ))
  done
  # Keep each violation's block (the VIOLATION line through its trace tail).
  if grep -aq '^VIOLATION' "${part}"; then
    {
      echo "=== seeds ${a}..${b} flags: ${args[*]}"
      awk '/^VIOLATION/{p=1} /^seed=/{p=0} p' "${part}"
    } >> "${dir}/failures.txt"
  fi
  mv "${part}" "${log}"
  local counts
  counts="$(grep -a '^seed=' "${log}" | awk '
    / verdict=ok/ { ok++ } !/ verdict=ok/ { bad++ } /\(THIN/ { thin++ }
    END { printf "%d ok, %d failing, %d thin", ok, bad, thin }')"
  echo "[$(date -u +%T)] chunk ${a}..${b}: ${counts}"
}
export -f run_chunk

rm -f "${dir}"/chunks/*.part
chunks=()
for (( start = first - first % chunk; start <= last; start += chunk )); do
  a=$(( start < first ? first : start ))
  b=$(( start + chunk - 1 > last ? last : start + chunk - 1 ))
  [[ -f "${dir}/chunks/${a}-${b}.log" ]] || chunks+=("${a} ${b}")
done
echo "sweep ${first}..${last} ${flags}: ${#chunks[@]} chunks to run on ${jobs} process(es)" \
  "at nice ${niceness}, in ${dir}"
if [[ "${#chunks[@]}" -gt 0 ]]; then
  export SWEEP_DIR="${dir}" SWEEP_NICE="${niceness}"
  printf '%s\n' "${chunks[@]}" | xargs -P "${jobs}" -L 1 bash -c 'run_chunk "$1" "$2"' run_chunk
fi
status=0
report "${dir}" "${first}" "${last}" || status=$?
exit "${status}"
