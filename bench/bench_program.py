"""Benchmark: the Pulumi program under mocks, by allowlist size and fleet size.

Each case runs in a fresh Python process (so peak memory is that case's alone) and prints wall
time of the program run, the process's peak resident memory, the provider calls made, and the
resources declared. Target: 1,000 repositories with 100 runners in under 3 s, and provider calls
constant in the allowlist size.

    python bench/bench_program.py            # the full 3 x 3 table
    python bench/bench_program.py --case 1000 100
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLISTS = (10, 100, 1000)
FLEETS = (1, 10, 100)


def run_case(repositories: int, runners: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from tests.pulumi_harness import run_program

    names = [f"repo-{i:04d}" for i in range(repositories)]
    org = {name: 10_000 + i for i, name in enumerate(names)}
    # The 200-runner cap is per stack; the benchmark stays within it.
    started = time.perf_counter()
    run = run_program(
        "org", {"allowedRepositories": names, "runnerCount": runners}, org_repositories=org
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "repositories": repositories,
        "runners": runners,
        "seconds": round(elapsed, 3),
        "peak_mb": round(peak_mb, 1),
        "provider_calls": len(run.calls),
        "resources": len(run.resources),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs=2, type=int, metavar=("REPOS", "RUNNERS"))
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case)))
        return 0
    print("| repositories | runners | wall time (s) | peak RSS (MB) | provider calls | resources |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for repositories in ALLOWLISTS:
        for runners in FLEETS:
            out = subprocess.run(
                [sys.executable, __file__, "--case", str(repositories), str(runners)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
            row = json.loads(out.strip().splitlines()[-1])
            print(
                f"| {row['repositories']} | {row['runners']} | {row['seconds']:.2f} | "
                f"{row['peak_mb']:.0f} | {row['provider_calls']} | {row['resources']} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
