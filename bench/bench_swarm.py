"""Benchmark: from a job's end to a fresh runner online again, swarm engine vs docker engine.

Runs on a real single-node swarm (made here with ``docker swarm init`` on 127.0.0.1 unless the
engine already manages one, and left again afterwards) against the fake GitHub. For each engine,
one runner takes ``--jobs`` jobs in turn; each sample is the time from the fake recording a job as
completed to the next runner of that fleet showing online. The swarm runner is the Service the
RunnerService component declares (tests/swarm/swarm_harness.py); the docker runner is the
container the RunnerFleet component declares (tests/docker/fleet_settings.py) with its declared
restart policy, so Docker restarts it. Jobs last ``--job-seconds`` (default 11 s) because Docker
backs off restarts of containers that ran for less than 10 s.

    python bench/bench_swarm.py [--jobs 10] [--job-seconds 11]

Target: swarm median within 2x of the docker median, and under 10 s.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.runner_fleet import ContainerLimits, RunnerEnvironment  # noqa: E402
from tests.docker.fleet_settings import fleet_container  # noqa: E402
from tests.docker.runner_harness import RunnerContainer, build_runner_image  # noqa: E402
from tests.fakes.base_image import docker_client, ensure_base_image  # noqa: E402
from tests.fakes.fake_github import FakeGitHub, Job  # noqa: E402
from tests.swarm.swarm_harness import (  # noqa: E402
    SwarmFleet,
    declared_service,
    poll,
    swarm_manager,
)

ORG = "acme"
REPO = f"{ORG}/allowed"
LABELS = ("self-hosted", "Linux", "X64", "bench")


def online_names(fake: FakeGitHub, prefix: str) -> set[str]:
    return {r.name for r in fake.runners if r.name.startswith(prefix) and r.status == "online"}


def cycle_samples(fake: FakeGitHub, prefix: str, jobs: int, job_seconds: int) -> list[float]:
    """Seconds from each job's completion to the next runner online."""
    samples: list[float] = []
    if not poll(lambda: bool(online_names(fake, prefix)), 90, 0.05):
        raise SystemExit(f"no runner {prefix}* came online")
    for _ in range(jobs):
        before = online_names(fake, prefix)
        job = fake.queue_job(REPO, list(LABELS), f"sleep {job_seconds}")

        def completed(queued: Job = job) -> bool:
            return queued.status == "completed"

        if not poll(completed, job_seconds + 60, 0.02):
            raise SystemExit("a job did not complete")
        ended = time.monotonic()

        def fresh(previous: set[str] = before) -> bool:
            return bool(online_names(fake, prefix) - previous)

        if not poll(fresh, 60, 0.02):
            raise SystemExit(f"no fresh runner {prefix}* after a job")
        samples.append(time.monotonic() - ended)
    return samples


def with_world(run: Callable[[FakeGitHub, int, str], list[float]]) -> list[float]:
    with FakeGitHub() as fake:
        fake.add_org(ORG)
        fake.add_repo(ORG, "allowed")
        group = fake.add_runner_group(
            ORG, "fleet", visibility="selected", selected_repositories=[REPO]
        )
        token = "ghp_" + secrets.token_hex(18)
        fake.add_token(token, scopes=["admin:org"])
        return run(fake, group.id, token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--job-seconds", type=int, default=11)
    options = parser.parse_args()
    client = docker_client()
    image = build_runner_image(client, ensure_base_image())

    def environment(fake: FakeGitHub, group_id: int) -> RunnerEnvironment:
        return RunnerEnvironment(
            mode="org",
            organization=ORG,
            labels=LABELS,
            api_url=fake.url,
            auth="token",
            runner_group_id=group_id,
            runner_group_name="fleet",
        )

    def docker_engine(fake: FakeGitHub, group_id: int, token: str) -> list[float]:
        prefix = f"benchdocker-{secrets.token_hex(3)}"
        settings = fleet_container(
            image,
            api_url=fake.url,
            organization=ORG,
            auth="token",
            name_prefix=prefix,
            labels=LABELS,
            runner_group_id=group_id,
            runner_group_name="fleet",
        )
        # The restart policy the RunnerFleet component declares (the tests switch it off).
        settings.create_kwargs["restart_policy"] = {"Name": "unless-stopped"}
        container = RunnerContainer(client, settings, token)
        try:
            container.start()
            return cycle_samples(fake, prefix, options.jobs, options.job_seconds)
        finally:
            container.remove()

    def swarm_engine(fake: FakeGitHub, group_id: int, token: str) -> list[float]:
        prefix = f"benchswarm-{secrets.token_hex(3)}"
        declared = declared_service(
            environment(fake, group_id),
            name_prefix=prefix,
            replicas=1,
            limits=ContainerLimits(memory_mb=1024, cpus="1"),
        )
        fleet = SwarmFleet(client, declared, image, token)
        try:
            return cycle_samples(fake, prefix, options.jobs, options.job_seconds)
        finally:
            fleet.remove()

    with swarm_manager(client) as made:
        docker_samples = with_world(docker_engine)
        swarm_samples = with_world(swarm_engine)
    docker_median = statistics.median(docker_samples)
    swarm_median = statistics.median(swarm_samples)
    print(f"swarm made for the run: {made}; jobs per engine: {options.jobs}")
    print("| engine | median s | min s | max s |")
    print("| --- | --- | --- | --- |")
    for name, samples in (
        ("docker (restart)", docker_samples),
        ("swarm (new task)", swarm_samples),
    ):
        print(
            f"| {name} | {statistics.median(samples):.2f} | {min(samples):.2f} | "
            f"{max(samples):.2f} |"
        )
    ratio = swarm_median / docker_median if docker_median else float("inf")
    verdict = "met" if ratio <= 2 and swarm_median < 10 else "MISSED"
    print(f"swarm / docker: {ratio:.2f}x; target (<= 2x and < 10 s): {verdict}")


if __name__ == "__main__":
    main()
