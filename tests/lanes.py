"""Run the test suite in parallel lanes of short-lived pytest processes, so no process grows past a memory limit.

TensorFlow keeps part of every compiled training step until its process ends (0.25-0.5 GB each), so one long
pytest process (or one xdist worker) grows with the suite: 11 GB for the fast suite, more than 22 GB for the slow
one. Here each lane runs pytest on a batch of test ids; after each test, a process whose resident memory passes
``--recycle-gib`` stops at that test, and its lane starts a fresh process on the tests left. A test marked
``own_process`` (one that needs several GB by itself) runs alone in a process. Batches shrink as the
queue empties (guided scheduling), so both lanes finish together.

Example::

    python tests/lanes.py                      # the fast suite (what `make test` runs)
    python tests/lanes.py -m "slow and not backends" --recycle-gib 3
    python tests/lanes.py tests/fit -- -x      # arguments after -- go to every pytest process

Prints one line per process (tests, outcomes, seconds, peak RSS), the output of any process with failures, and a
summary with the slowest tests and files (a module's set-up and clean-up count in its tests' seconds); exits 1
when a test failed or errored, or when a process died before finishing its tests.
"""

import argparse
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DONE_FILE = "KERAS_SEGMENTATION_LANES_DONE"
RECYCLE_BYTES = "KERAS_SEGMENTATION_LANES_RECYCLE"


# ----------------------------------------------------------------------------- the plugin, inside each process

def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _Recorder:
    """Writes ``outcome peak_kib seconds node_id`` for each finished test (the peak resident memory so far of this
    process or of a process it started; the test's setup, call and teardown time), and stops the session once memory
    passes the limit."""

    def __init__(self, done_path, recycle_bytes):
        self.done = open(done_path, "a", buffering=1)
        self.recycle_bytes = recycle_bytes
        self.outcomes, self.seconds = {}, {}

    def pytest_runtest_logreport(self, report):
        worst = self.outcomes.get(report.nodeid, "passed")
        if report.failed:
            worst = "failed" if report.when == "call" else "error"
        elif report.skipped and worst == "passed":
            worst = "skipped"
        self.outcomes[report.nodeid] = worst
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration
        if report.when == "teardown":
            peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
            self.done.write(f"{worst} {peak} {self.seconds[report.nodeid]:.2f} {report.nodeid}\n")

    def pytest_runtest_teardown(self, item, nextitem):
        if nextitem is None:
            return
        if _resident_bytes() > self.recycle_bytes:
            item.session.shouldstop = f"lanes: resident memory past {self.recycle_bytes / 2**30:.1f} GiB"
        elif item.get_closest_marker("own_process") or nextitem.get_closest_marker("own_process"):
            item.session.shouldstop = "lanes: the next test runs in a process of its own"


def pytest_configure(config):
    """Registered by ``-p lanes`` in the processes this runner starts (inert elsewhere)."""
    if os.environ.get(DONE_FILE):
        config.pluginmanager.register(_Recorder(os.environ[DONE_FILE], int(os.environ[RECYCLE_BYTES])), "lanes-recorder")


# ----------------------------------------------------------------------------- the runner

def collect(marker, paths, pytest_args):
    """Test ids pytest selects for ``-m marker`` under ``paths``, in collection order."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", marker, *pytest_args, *paths]
    listing = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    ids = [line for line in listing.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    if listing.returncode not in (0, 5) or (not ids and listing.returncode != 5):
        sys.exit(f"lanes: collecting tests failed:\n{listing.stdout[-4000:]}{listing.stderr[-4000:]}")
    return ids


class Queue:
    """Test ids waiting to run; ``take`` hands out guided batches (a share of what is left, at least ``minimum``)."""

    def __init__(self, ids, lanes, minimum):
        self.ids, self.lanes, self.minimum = list(ids), lanes, minimum
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            size = max(self.minimum, len(self.ids) // (2 * self.lanes))
            batch, self.ids = self.ids[:size], self.ids[size:]
            return batch

    def give_back(self, ids):
        with self.lock:
            self.ids = list(ids) + self.ids


class Lanes:
    """Runs the queue's batches in ``lanes`` threads, each starting one pytest process at a time."""

    def __init__(self, queue, lanes, marker, recycle_gib, pytest_args, workdir):
        self.queue, self.lanes, self.marker, self.pytest_args = queue, lanes, marker, pytest_args
        self.recycle_bytes = int(recycle_gib * 2**30)
        self.workdir = pathlib.Path(workdir)
        self.outcomes, self.seconds, self.peak_bytes, self.broken = {}, {}, 0, []
        self.lock = threading.Lock()
        self.count = 0

    def run(self):
        threads = [threading.Thread(target=self._lane, args=(lane + 1,)) for lane in range(self.lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _lane(self, lane):
        while batch := self.queue.take():
            self._process(lane, batch)

    def _process(self, lane, batch):
        with self.lock:
            self.count += 1
            number = self.count
        ids_file = self.workdir / f"{number}.ids"
        done_file = self.workdir / f"{number}.done"
        ids_file.write_text("\n".join(batch) + "\n")
        environment = dict(os.environ, **{DONE_FILE: str(done_file), RECYCLE_BYTES: str(self.recycle_bytes)})
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests"), environment.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "pytest", "-q", "-p", "lanes", "-m", self.marker,
                   *self.pytest_args, f"@{ids_file}"]
        started = time.monotonic()
        with open(self.workdir / f"{number}.log", "w+") as log:
            child = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            log.seek(0)
            output = log.read()
        records = [line.split(" ", 3) for line in done_file.read_text().splitlines()] if done_file.exists() else []
        finished = {test: outcome for outcome, _, _, test in records}
        grown = [test for _, kib, _, test in records if int(kib) * 1024 > self.recycle_bytes]
        left = [test for test in batch if test not in finished]
        peak = usage.ru_maxrss * 1024
        counts = {outcome: list(finished.values()).count(outcome) for outcome in sorted(set(finished.values()))}
        with self.lock:
            self.outcomes.update(finished)
            self.seconds.update({test: float(seconds) for _, _, seconds, test in records})
            self.peak_bytes = max(self.peak_bytes, peak)
            shown = ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "nothing finished"
            print(f"lanes: [{lane}] process {number}: {len(batch)} tests: {shown}; {time.monotonic() - started:.0f} s, "
                  f"peak RSS {peak / 2**30:.2f} GiB" + (f"; {len(left)} left for a fresh process" if left else "")
                  + (f"; past {self.recycle_bytes / 2**30:.1f} GiB after {grown[0]}" if grown else ""), flush=True)
            if any(outcome in ("failed", "error") for outcome in finished.values()) or (left and not finished):
                print(output[-20000:], flush=True)
        if left and not finished:
            self.broken.append(f"process {number} finished none of its {len(batch)} tests (exit {child.returncode})")
        elif left:
            self.queue.give_back(left)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=["tests"])
    parser.add_argument("-m", dest="marker", default="not slow", help="pytest marker expression (default: not slow)")
    parser.add_argument("--lanes", type=int, default=2)
    parser.add_argument("--recycle-gib", type=float, default=3.0,
                        help="a process past this resident memory stops after its current test (default 3)")
    parser.add_argument("--min-batch", type=int, default=40, help="fewest tests per process (each start costs seconds)")
    argv = sys.argv[1:] if argv is None else list(argv)
    ours, pytest_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = parser.parse_args(ours)
    started = time.monotonic()
    ids = collect(args.marker, args.paths, pytest_args)
    print(f"lanes: {len(ids)} tests in {args.lanes} lanes (a process stops past {args.recycle_gib} GiB)", flush=True)
    with tempfile.TemporaryDirectory(prefix="lanes-") as workdir:
        lanes = Lanes(Queue(ids, args.lanes, args.min_batch), args.lanes, args.marker, args.recycle_gib,
                      pytest_args, workdir)
        lanes.run()
    totals = {}
    for outcome in lanes.outcomes.values():
        totals[outcome] = totals.get(outcome, 0) + 1
    missing = [test for test in ids if test not in lanes.outcomes]
    bad = sorted(test for test, outcome in lanes.outcomes.items() if outcome in ("failed", "error"))
    print(f"lanes: {', '.join(f'{n} {outcome}' for outcome, n in sorted(totals.items()))}"
          f"{f', {len(missing)} not run' if missing else ''} in {lanes.count} processes, "
          f"{time.monotonic() - started:.0f} s; largest process {lanes.peak_bytes / 2**30:.2f} GiB", flush=True)
    slowest = sorted(lanes.seconds.items(), key=lambda item: -item[1])[:10]
    for test, seconds in slowest:
        print(f"lanes: slowest: {seconds:5.0f} s {test}")
    by_file = {}
    for test, seconds in lanes.seconds.items():
        by_file[test.split("::")[0]] = by_file.get(test.split("::")[0], 0.0) + seconds
    for path, seconds in sorted(by_file.items(), key=lambda item: -item[1])[:15]:
        print(f"lanes: slowest file: {seconds:5.0f} s {path}")
    for line in [*lanes.broken, *(f"FAILED {test}" for test in bad), *(f"NOT RUN {test}" for test in missing[:50])]:
        print(f"lanes: {line}")
    return 1 if bad or missing or lanes.broken else 0


if __name__ == "__main__":
    sys.exit(main())
