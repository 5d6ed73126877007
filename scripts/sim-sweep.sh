#!/usr/bin/env bash
# Long simulator sweeps, safe to leave running in the background.
#
#   scripts/sim-sweep.sh [--bin PATH] [--chunk N] [--archive DIR] A..B [ekv-sim flags...]
#   e.g. nohup scripts/sim-sweep.sh 1..100000 --faults all > sweep.log 2>&1 &
#
# Runs ekv-sim over the seed range in chunks (so progress is visible and a crash of one
# chunk loses little), and appends every failing seed with its repro command and report
# to $ARCHIVE/failures.txt (default sim-archive/, which git ignores). Exit status: 0 if
# every seed passed, 1 otherwise.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${EKV_SIM:-}"
chunk=1000
archive="${repo_root}/sim-archive"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --chunk) chunk="$2"; shift 2 ;;
    --archive) archive="$2"; shift 2 ;;
    *) break ;;
  esac
done
if [[ $# -lt 1 || ! "$1" =~ ^([0-9]+)\.\.([0-9]+)$ ]]; then
  echo "usage: $0 [--bin PATH] [--chunk N] [--archive DIR] A..B [ekv-sim flags...]" >&2
  exit 2
fi
first="${BASH_REMATCH[1]}"
last="${BASH_REMATCH[2]}"
shift
if [[ -z "${bin}" ]]; then
  for candidate in "${repo_root}"/build*/sim/ekv-sim; do
    [[ -x "${candidate}" ]] && bin="${candidate}" && break
  done
fi
if [[ -z "${bin}" || ! -x "${bin}" ]]; then
  echo "ekv-sim binary not found; build it or pass --bin" >&2
  exit 2
fi

mkdir -p "${archive}"
failures_file="${archive}/failures.txt"
failed=0
start="${first}"
while [[ "${start}" -le "${last}" ]]; do
  end=$(( start + chunk - 1 ))
  [[ "${end}" -gt "${last}" ]] && end="${last}"
  log="$(mktemp)"
  status=0
  "${bin}" --seeds "${start}..${end}" "$@" > "${log}" 2>&1 || status=$?
  grep -a '^swept' "${log}" | sed "s/^/[$(date -u +%FT%TZ)] /" || true
  if [[ "${status}" -ne 0 ]]; then
    failed=1
    {
      echo "=== $(date -u +%FT%TZ) seeds ${start}..${end} flags: $*"
      # Each failing seed's block: the VIOLATION line through its trace tail.
      awk '/^VIOLATION/{p=1} /^seed=/{p=0} p' "${log}"
    } >> "${failures_file}"
    grep -a '^  repro:' "${log}" | sed 's/^  repro: /FAIL: /' || true
  fi
  rm -f "${log}"
  start=$(( end + 1 ))
done
exit "${failed}"
