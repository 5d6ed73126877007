#!/usr/bin/env python3
"""scripts/sweep.sh over a stand-in ekv-sim: a seed that kills ekv-sim (SIGABRT) is a
failure with its repro command; SIGTERM from outside (a session's end) blames no seed and
leaves its chunk for the resume; the report counts what ran and says what did not."""
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

SWEEP = sys.argv.pop(1)

# Prints one summary line per seed of --seeds A..B, as ekv-sim does; the seeds named in
# ABORT_AT die by SIGABRT (an assertion) and those in TERM_AT by SIGTERM (sent from outside)
# before their line is printed.
FAKE_SIM = r"""#!/usr/bin/env bash
range="$2"; first="${range%..*}"; last="${range#*..}"
for (( s = first; s <= last; ++s )); do
  [[ " ${ABORT_AT} " == *" $s "* ]] && kill -ABRT $$
  [[ " ${TERM_AT} " == *" $s "* ]] && kill -TERM $$
  echo "seed=$s workload=bank faults=all sim_s=1.0 events=10 ops_acked=30/40 failed=5" \
       "unknown=5 elections=2 crashes=1 snapshots=1 lock_resolutions=3 forwards=4" \
       "trace=00 verdict=ok"
done
"""


class SweepScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sim = pathlib.Path(self.tmp.name) / "ekv-sim"
        self.sim.write_text(FAKE_SIM)
        self.sim.chmod(0o755)
        self.dir = pathlib.Path(self.tmp.name) / "sweep"

    def tearDown(self):
        self.tmp.cleanup()

    def sweep(self, seeds, abort_at="", term_at=""):
        env = dict(os.environ, ABORT_AT=abort_at, TERM_AT=term_at)
        return subprocess.run(
            [SWEEP, "--jobs", "1", "--nice", "0", "--chunk", "5", "--bin", str(self.sim), "--dir",
             str(self.dir), seeds, "--workload", "bank", "--faults", "all"],
            env=env, capture_output=True, text=True, timeout=120)

    def test_clean_sweep_sums_every_seed(self):
        run = self.sweep("1..10")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("seeds 1..10, 10 run, 0 failing, 0 thin", run.stdout)
        self.assertIn("ops acked=300 issued=400", run.stdout)

    def test_a_seed_that_aborts_fails_and_the_chunk_goes_on(self):
        run = self.sweep("1..10", abort_at="3")
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("10 run, 1 failing", run.stdout)
        self.assertIn("failing seeds: 3", run.stdout)
        self.assertIn("CRASH seed=3 exit status 134", run.stdout)

    def test_a_kill_from_outside_blames_no_seed_and_the_resume_runs_the_chunk(self):
        run = self.sweep("1..10", term_at="7")
        self.assertEqual(run.returncode, 4, run.stdout + run.stderr)
        self.assertIn("chunk 5..9: interrupted (ekv-sim exit status 143)", run.stderr)
        self.assertIn("0 failing", run.stdout)
        self.assertIn("not run yet: 5 seeds of 1..10", run.stdout)
        failures = self.dir / "failures.txt"
        self.assertFalse(failures.exists() and failures.read_text(), "a seed was blamed")
        resumed = self.sweep("1..10")
        self.assertEqual(resumed.returncode, 0, resumed.stdout + resumed.stderr)
        self.assertIn("1 chunks to run", resumed.stdout)
        self.assertIn("seeds 1..10, 10 run, 0 failing, 0 thin", resumed.stdout)


if __name__ == "__main__":
    unittest.main()
