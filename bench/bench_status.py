"""Benchmark: ``runnerctl status``'s GitHub side for 100 runners in an org holding 10,000.

Seeds the fake GitHub (in process, 127.0.0.1) with one organization of ``--org-runners`` runners:
``--fleet`` of them are this stack's (named as its containers register them, in its runner group),
the rest belong to other fleets in the Default group. Then runs what ``status`` runs against
GitHub (``runnerctl.fleet.github_view``) plus the join with the Docker side (``build_report``,
fed the fleet's containers as Docker would list them), and reports GitHub API calls (from the
fake's call log) and wall time. For comparison it also lists the whole organization the naive
way. Target: calls grow with pages of 100 of the fleet, never one per runner; under 2 s.

    python bench/bench_status.py [--org-runners 10000] [--fleet 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.config import FleetSettings, load_settings  # noqa: E402
from runnerctl.fleet import Container, github_view  # noqa: E402
from runnerctl.github import GitHubClient  # noqa: E402
from runnerctl.status import build_report  # noqa: E402
from tests.fakes.fake_github import FakeGitHub  # noqa: E402

ORG = "bench-org"
TOKEN = "ghp_bench_token_000000000000000000000"
REPOS = ("coach", "mcp", "personal", "ghActions")


def seed(fake: FakeGitHub, org_runners: int, fleet: int) -> FleetSettings:
    fake.add_org(ORG)
    for name in REPOS:
        fake.add_repo(ORG, name, private=True)
    fake.add_token(TOKEN, scopes=["admin:org", "repo"])
    group = fake.add_runner_group(
        ORG,
        "bench-runners",
        visibility="selected",
        selected_repositories=[f"{ORG}/{name}" for name in REPOS],
    )
    fake.add_runners(org=ORG, count=org_runners - fleet, name_prefix="other-fleet", online=True)
    settings = load_settings(
        "org",
        {
            "mode": "org",
            "organization": ORG,
            "githubCredential": TOKEN,
            "githubApiUrl": fake.url,
            "runnerGroup": "bench-runners",
            "allowedRepositories": '["coach", "mcp", "personal", "ghActions"]',
            "runnerCount": str(fleet),
        },
    )
    scope = fake.scope_of(org=ORG)
    for index in range(fleet):
        runner, _ = fake.create_runner(
            scope, f"{settings.prefix}-{index}-{index:08x}", group.id, ["self-hosted"], True
        )
        runner.status = "online"
    return settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--org-runners", type=int, default=10_000)
    parser.add_argument("--fleet", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with FakeGitHub(rate_limit=1_000_000) as fake:
        settings = seed(fake, args.org_runners, args.fleet)
        started = datetime.now(UTC) - timedelta(minutes=30)
        containers = [
            Container(f"{settings.prefix}-{i}", "running", 0, started, "fleet-runner:dev")
            for i in range(args.fleet)
        ]
        times, calls, rows = [], 0, 0
        for _ in range(args.repeat):
            fake.clear_calls()
            begin = time.perf_counter()
            with GitHubClient(settings.github_api_url, TOKEN) as github:
                view = github_view(github, settings)
            report = build_report(settings, view, containers, offline_after_minutes=10)
            times.append(time.perf_counter() - begin)
            calls, rows = len(fake.calls), len(report.rows)

        fake.clear_calls()
        begin = time.perf_counter()
        with GitHubClient(settings.github_api_url, TOKEN) as github:
            listed = sum(1 for _ in github.paginate(f"/orgs/{ORG}/actions/runners", "runners"))
        naive_time, naive_calls = time.perf_counter() - begin, len(fake.calls)

    print(f"org runners: {args.org_runners}, fleet: {args.fleet}, rows: {rows}")
    print(
        f"runnerctl status (GitHub side + join): {calls} API calls, "
        f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})"
    )
    print(
        f"naive org-wide listing: {naive_calls} API calls for {listed} runners, {naive_time:.3f} s"
    )
    return 0 if rows == args.fleet else 1


if __name__ == "__main__":
    sys.exit(main())
