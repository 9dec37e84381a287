"""Benchmarks of the runner image (issue 3), against the fake GitHub in real Docker.

    python -m bench.bench_runner_image [--cycles 5] [--starts 10]

(a) GitHub API calls per job cycle in org mode with App auth (just-in-time registration), from the
    fake's call log, against the registration-token flow (config.sh, then config.sh remove);
(b) start-to-ready latency: container start until the stand-in runner is online at the fake,
    median of ``--starts``, against a bare start of the same image running ``true`` and against
    the stand-in runner started directly with a ready JIT config (what the entrypoint adds);
(c) bytes docker/Dockerfile adds on top of its base image.

Containers use the settings the RunnerFleet component declares (tests/docker/fleet_settings.py).
Prints a Markdown report; exits 1 with a one-line message when Docker or the base image is missing.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.docker.fleet_settings import fleet_container
from tests.docker.runner_harness import RunnerContainer, build_runner_image, online_runner
from tests.fakes.base_image import BaseImageError, docker_client, ensure_base_image
from tests.fakes.fake_github import FakeGitHub

ORG = "bench"
REPO = f"{ORG}/app"
LABELS = ("self-hosted", "Linux", "X64")
APP_ID, INSTALLATION_ID = 31, 41
PRIVATE_PROTOCOL = "/_fake/runner/"
#: The stand-in runner's registration calls, which stand for the real runner's calls to GitHub.
REGISTRATION_CALLS = ("/_fake/runner/register", "/_fake/runner/remove")


class Bench:
    def __init__(self, client: Any, image: str, fake: FakeGitHub) -> None:
        self.client, self.image, self.fake = client, image, fake
        fake.add_org(ORG)
        fake.add_repo(ORG, "app")
        self.private_key = fake.add_app(
            APP_ID, INSTALLATION_ID, ORG, {"organization_self_hosted_runners": "write"}
        )
        self.token = "ghp_" + secrets.token_hex(18)
        fake.add_token(self.token, scopes=["admin:org"])
        self.containers: list[RunnerContainer] = []

    def container(self, auth: str = "app", registration: str = "jit") -> RunnerContainer:
        settings = fleet_container(
            self.image,
            api_url=self.fake.url,
            organization=ORG,
            auth=auth,
            name_prefix=f"bench-{secrets.token_hex(3)}",
            labels=LABELS,
            registration=registration,
            runner_group_id=1,
            runner_group_name="Default",
            app_id=APP_ID,
            app_installation_id=INSTALLATION_ID,
        )
        credential = self.private_key if auth == "app" else self.token
        made = RunnerContainer(self.client, settings, credential)
        self.containers.append(made)
        return made

    def cleanup(self) -> None:
        for made in self.containers:
            made.remove()

    # (a) ------------------------------------------------------------------------------------

    def calls_per_cycle(self, auth: str, registration: str, cycles: int) -> tuple[float, float]:
        """(REST calls, REST + runner registration calls) per job, over ``cycles`` jobs."""
        made = self.container(auth, registration)
        self.fake.clear_calls()
        for index in range(cycles):
            job = self.fake.queue_job(REPO, list(LABELS), f"echo cycle-{index}")
            made.start()
            self.fake.wait_for_job(job, timeout=60)
            code = made.wait(timeout=60)
            if code != 0:
                raise RuntimeError(f"{registration} flow: the container exited {code}")
        calls = self.fake.calls
        rest = sum(1 for call in calls if not call.path.startswith(PRIVATE_PROTOCOL))
        registration_calls = sum(1 for call in calls if call.path in REGISTRATION_CALLS)
        return rest / cycles, (rest + registration_calls) / cycles

    # (b) ------------------------------------------------------------------------------------

    def time_to_online(self, starts: int) -> list[float]:
        samples = []
        for _ in range(starts):
            made = self.container()
            started = made.start()
            # The fake notifies waiters the moment the runner's session opens.
            online_runner(self.fake, made, timeout=60)
            samples.append(time.time() - started)
            made.signal("SIGTERM")
            made.wait(timeout=30)
            made.remove()
        return samples

    def time_bare(self, starts: int) -> list[float]:
        samples = []
        for _ in range(starts):
            container = self.client.containers.create(self.image, entrypoint=["true"])
            started = time.time()
            container.start()
            container.wait(timeout=30)
            container.reload()
            finished = container.attrs["State"]["FinishedAt"]
            samples.append(_docker_time(finished) - started)
            container.remove(force=True)
        return samples

    def time_direct_runner(self, starts: int) -> list[float]:
        """The stand-in runner started straight from run.sh with a JIT config made beforehand."""
        samples = []
        for _ in range(starts):
            name = f"direct-{secrets.token_hex(4)}"
            answer = httpx.post(
                f"{self.fake.url}/orgs/{ORG}/actions/runners/generate-jitconfig",
                headers={"Authorization": f"Bearer {self.token}"},
                json={"name": name, "runner_group_id": 1, "labels": list(LABELS)},
            )
            answer.raise_for_status()
            container = self.client.containers.create(
                self.image,
                entrypoint=["/home/runner/run.sh"],
                user="runner",
                environment={"ACTIONS_RUNNER_INPUT_JITCONFIG": answer.json()["encoded_jit_config"]},
                network_mode="host",
            )
            started = time.time()
            container.start()
            self.fake.wait_until(
                lambda name=name: any(  # type: ignore[misc]
                    r.name == name and r.status == "online" for r in self.fake.runners
                ),
                60,
            )
            samples.append(time.time() - started)
            container.kill(signal="SIGTERM")
            container.wait(timeout=30)
            container.remove(force=True)
        return samples


def _docker_time(text: str) -> float:
    from datetime import datetime

    whole, _, fraction = text.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(whole + "+00:00").timestamp()
    return stamp + float("0." + (fraction or "0")[:6])


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=5, help="job cycles per flow in (a)")
    parser.add_argument("--starts", type=int, default=10, help="starts per variant in (b)")
    args = parser.parse_args(argv)
    try:
        client = docker_client()
        base = ensure_base_image()
    except BaseImageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    image = build_runner_image(client, base)
    out: Callable[[str], None] = print
    with FakeGitHub() as fake:
        bench = Bench(client, image, fake)
        try:
            jit_rest, jit_all = bench.calls_per_cycle("app", "jit", args.cycles)
            token_rest, token_all = bench.calls_per_cycle("app", "token", args.cycles)
            bare = bench.time_bare(args.starts)
            direct = bench.time_direct_runner(args.starts)
            full = bench.time_to_online(args.starts)
        finally:
            bench.cleanup()
    added = client.images.get(image).attrs["Size"] - client.images.get(base).attrs["Size"]
    ms = _median_ms
    rows = [
        ("(a) JIT + App auth: REST calls per job", f"{jit_rest:.2f}"),
        ("(a) JIT + App auth: REST + runner registration calls per job", f"{jit_all:.2f}"),
        ("(a) registration-token flow: REST calls per job", f"{token_rest:.2f}"),
        (
            "(a) registration-token flow: REST + config.sh register/remove per job",
            f"{token_all:.2f}",
        ),
        ("(b) bare start of the image running `true`, median", f"{ms(bare):.0f} ms"),
        ("(b) stand-in runner started directly with a JIT config, median", f"{ms(direct):.0f} ms"),
        ("(b) fleet container (entrypoint + runner) until online, median", f"{ms(full):.0f} ms"),
        ("(b) ratio fleet container / bare start", f"{ms(full) / ms(bare):.1f}"),
        (
            "(b) what the entrypoint adds (fleet - direct), median",
            f"{ms(full) - ms(direct):.0f} ms",
        ),
        ("(c) bytes docker/Dockerfile adds to its base", f"{added}"),
    ]
    out(f"Runner image benchmarks ({args.cycles} job cycles per flow, {args.starts} starts)\n")
    out("| measure | value |")
    out("| --- | --- |")
    for measure, value in rows:
        out(f"| {measure} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
