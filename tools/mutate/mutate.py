#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Mutation check: do the unit tests notice a one-line change to the code they test?

Applies each mutant of a list (default: mutants.txt next to this script) to a scratch copy of
the repository, rebuilds the unit-test binaries of the mutated layer in one build directory kept
there (so only the mutated file recompiles), runs them, and reports each mutant as killed (a
test failed, crashed or timed out), survived (every test passed: a gap, or an equivalent
mutant), or build-error (not counted). The working tree is never modified.

usage: mutate.py [--mutants FILE] [--only REGEX] [--preset release] [--work DIR] [--list]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))

# Unit-test binaries that cover each layer (tests/unit/<layer>/CMakeLists.txt).
LAYER_TESTS = {
    "src/http/": ["tests/unit/http/ns_http_tests", "tests/unit/http/ns_http_no_alloc_tests"],
    "src/ws/": ["tests/unit/ws/ns_ws_tests"],
    "src/tls/": ["tests/unit/tls/ns_tls_tests"],
    "src/io/": ["tests/unit/io/ns_io_tests"],
}


@dataclass
class Mutant:
    ident: str  # "<list line number>"
    path: str  # repository-relative
    occurrence: int  # 1-based: which occurrence of `old` in the file
    old: str
    new: str


def parse_mutants(path):
    """One mutant a line: `FILE[#N] :: OLD ==> NEW` (OLD: text within one line of FILE,
    its Nth occurrence, default the only one). Blank lines and `#` comments are skipped."""
    out = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                where, rest = line.split(" :: ", 1)
                old, new = rest.split(" ==> ")
            except ValueError:
                sys.exit(f"{path}:{no}: expected `FILE[#N] :: OLD ==> NEW`")
            where = where.strip()
            occurrence = 0
            if "#" in where:
                where, n = where.split("#", 1)
                occurrence = int(n)
            out.append(Mutant(str(no), where, occurrence, old.strip(), new.strip()))
    return out


def apply(text, m):
    """The mutated text and the 1-based line changed; raises ValueError if OLD is ambiguous."""
    starts = [i.start() for i in re.finditer(re.escape(m.old), text)]
    if not starts:
        raise ValueError(f"`{m.old}` not found in {m.path}")
    if m.occurrence == 0 and len(starts) > 1:
        raise ValueError(f"`{m.old}` occurs {len(starts)} times in {m.path}: add #N")
    k = (m.occurrence or 1) - 1
    if k >= len(starts):
        raise ValueError(f"`{m.old}` occurs only {len(starts)} times in {m.path}")
    at = starts[k]
    if "\n" in m.old or "\n" in m.new:
        raise ValueError("a mutant changes one line")
    mutated = text[:at] + m.new + text[at + len(m.old):]
    return mutated, text.count("\n", 0, at) + 1


def tests_for(path):
    for prefix, bins in LAYER_TESTS.items():
        if path.startswith(prefix):
            return bins
    sys.exit(f"no unit tests known for {path} (extend LAYER_TESTS)")


def run(cmd, cwd, timeout=None, env=None):
    return subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True,
                          errors="replace")


def sync(repo, src):
    """Copies tracked and untracked (not ignored) files whose content differs; unchanged files
    keep their time stamps, so the build only redoes what changed."""
    files = run(["git", "ls-files", "-co", "--exclude-standard", "-z"], repo).stdout.split("\0")
    copied = 0
    for rel in filter(None, files):
        a, b = os.path.join(repo, rel), os.path.join(src, rel)
        if not os.path.isfile(a):
            continue  # deleted in the working tree
        with open(a, "rb") as f:
            data = f.read()
        if os.path.isfile(b):
            with open(b, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        with open(b, "wb") as f:
            f.write(data)
        shutil.copymode(a, b)
        copied += 1
    return copied


class Runner:
    def __init__(self, args):
        self.src = os.path.join(args.work, "src")
        self.build = os.path.join(args.work, "build-" + args.preset)
        self.preset = args.preset
        self.jobs = args.jobs
        self.timeout = args.timeout
        self.env = dict(os.environ, NS_SOURCE_DIR=self.src, NS_BINARY_DIR=self.build,
                        GTEST_BRIEF="1")

    def configure(self):
        if os.path.isfile(os.path.join(self.build, "build.ninja")):
            return
        r = run(["cmake", "--preset", self.preset, "-B", self.build, "-G", "Ninja",
                 "-DNS_BUILD_TESTS=ON", "-DNS_BUILD_EXAMPLES=OFF", "-DNS_BUILD_BENCH=OFF"],
                self.src)
        if r.returncode != 0:
            sys.exit("configure failed:\n" + r.stdout + r.stderr)

    def build_targets(self, bins):
        targets = [os.path.basename(b) for b in bins]
        return run(["cmake", "--build", self.build, "-j", str(self.jobs), "--target", *targets],
                   self.src)

    def test(self, bins, timeout):
        """None if every binary passed, else what failed first."""
        for b in bins:
            try:
                r = run([os.path.join(self.build, b)], self.src, timeout=timeout,
                        env=dict(self.env, GTEST_FAIL_FAST="1"))
            except subprocess.TimeoutExpired:
                return f"{os.path.basename(b)}: timeout after {timeout:.0f} s"
            if r.returncode != 0:
                failed = re.findall(r"^\[  FAILED  \] (\S+)", r.stdout, re.M)
                what = failed[0] if failed else f"exit {r.returncode}"
                return f"{os.path.basename(b)}: {what}"
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", default=os.path.join(HERE, "mutants.txt"))
    ap.add_argument("--only", help="run the mutants whose FILE or line number matches")
    ap.add_argument("--preset", default="release", help="CMake configure preset (release: no "
                    "sanitizers, fast; dev: ASan + UBSan also catch silent memory errors)")
    ap.add_argument("--work", help="scratch directory (default: <repo>/build/mutate)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds per test binary (default: 5 x its clean run, at least 60)")
    ap.add_argument("--list", action="store_true", help="check and print the mutants, run none")
    args = ap.parse_args()
    repo = run(["git", "rev-parse", "--show-toplevel"], HERE).stdout.strip()
    args.work = args.work or os.path.join(repo, "build", "mutate")
    mutants = parse_mutants(args.mutants)
    if args.only:
        mutants = [m for m in mutants if re.search(args.only, f"{m.path}:{m.ident}")]
    for m in mutants:  # every mutant must apply before anything is built
        with open(os.path.join(repo, m.path), encoding="utf-8") as f:
            try:
                _, line = apply(f.read(), m)
            except ValueError as e:
                sys.exit(f"{args.mutants}:{m.ident}: {e}")
        if args.list:
            print(f"{m.ident:>4} {m.path}:{line}: {m.old}  ==>  {m.new}")
    if args.list or not mutants:
        return 0

    os.makedirs(os.path.join(args.work, "src"), exist_ok=True)
    r = Runner(args)
    print(f"scratch copy: {r.src} ({sync(repo, r.src)} files updated); build: {r.build}")
    r.configure()
    # Clean run first: the tests must pass unmutated, and their time sets the timeout.
    limits = {}
    for bins in sorted({tuple(tests_for(m.path)) for m in mutants}):
        b = r.build_targets(list(bins))
        if b.returncode != 0:
            sys.exit("clean build failed:\n" + b.stdout[-4000:] + b.stderr[-4000:])
        t0 = time.monotonic()
        failed = r.test(list(bins), None)
        took = time.monotonic() - t0
        if failed:
            sys.exit(f"the unmutated tests fail ({failed}): fix that first")
        limits[bins] = args.timeout or max(60.0, 5 * took)
        print(f"clean: {' '.join(os.path.basename(x) for x in bins)} pass in {took:.1f} s")

    results = []
    for m in mutants:
        path = os.path.join(r.src, m.path)
        with open(path, encoding="utf-8") as f:
            original = f.read()
        mutated, line = apply(original, m)
        bins = tests_for(m.path)
        t0 = time.monotonic()
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(mutated)
            b = r.build_targets(bins)
            if b.returncode != 0:
                status, detail = "build-error", (b.stdout + b.stderr).strip().splitlines()[-1]
            else:
                failed = r.test(bins, limits[tuple(bins)])
                status, detail = ("killed", failed) if failed else ("SURVIVED", "all tests pass")
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        results.append((m, line, status, detail))
        print(f"{m.ident:>4} {status:<11} {m.path}:{line}  {m.old}  ==>  {m.new}\n"
              f"     {detail}  ({time.monotonic() - t0:.0f} s)", flush=True)
    r.build_targets(sorted({b for m in mutants for b in tests_for(m.path)}))  # leave it clean

    killed = sum(1 for x in results if x[2] == "killed")
    survived = [x for x in results if x[2] == "SURVIVED"]
    errors = sum(1 for x in results if x[2] == "build-error")
    scored = killed + len(survived)
    rate = 100.0 * killed / scored if scored else 0.0
    print(f"\n{len(results)} mutants: {killed} killed, {len(survived)} survived, "
          f"{errors} build errors; kill rate {rate:.1f} % ({killed}/{scored}, preset {args.preset})")
    for m, line, _, _ in survived:
        print(f"  survived {m.ident}: {m.path}:{line}  {m.old}  ==>  {m.new}")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
