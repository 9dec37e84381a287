"""The swarm engine on a real single-node swarm, against the fake GitHub.

Each test deploys exactly the Service the RunnerService component declares (tests/swarm/
swarm_harness.py: host networking is the only difference) from docker/Dockerfile built on the
registry-free test base, with the credential as a Swarm secret. Names are unique per test, and
every service and secret made here is removed again; the engine leaves swarm mode afterwards
if the tests put it there.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from components.runner_fleet import ContainerLimits, RunnerEnvironment
from tests.fakes.fake_github import FakeGitHub, Runner
from tests.swarm.swarm_harness import (
    CREDENTIAL_PLACEHOLDER,
    SwarmFleet,
    credential_from,
    declared_service,
    poll,
    swarm_manager,
)

pytestmark = pytest.mark.docker

ORG = "acme"
REPO = f"{ORG}/allowed"
LABELS = ("self-hosted", "Linux", "X64", "swarm")
#: Small limits so several runners fit the test machine; the shape is the component's.
TEST_LIMITS = ContainerLimits(memory_mb=512, cpus="0.5", work_dir_size_mb=256, tmp_size_mb=64)


@pytest.fixture(scope="module")
def swarm(docker_client: Any) -> Iterator[Any]:
    with swarm_manager(docker_client):
        yield docker_client


class World:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        fake.add_org(ORG)
        fake.add_repo(ORG, "allowed")
        self.group = fake.add_runner_group(
            ORG, "fleet", visibility="selected", selected_repositories=[REPO]
        )
        self.token = "ghp_" + secrets.token_hex(18)
        fake.add_token(self.token, scopes=["admin:org"])


Deploy = Callable[[int], SwarmFleet]


@pytest.fixture
def world(fake_github: FakeGitHub) -> World:
    return World(fake_github)


@pytest.fixture
def deploy(swarm: Any, runner_image: str, world: World) -> Iterator[Deploy]:
    made: list[SwarmFleet] = []

    def create(replicas: int) -> SwarmFleet:
        environment = RunnerEnvironment(
            mode="org",
            organization=ORG,
            labels=LABELS,
            api_url=world.fake.url,
            auth="token",
            runner_group_id=world.group.id,
            runner_group_name=world.group.name,
        )
        declared = declared_service(
            environment,
            name_prefix=f"swarmtest-{secrets.token_hex(3)}",
            replicas=replicas,
            limits=TEST_LIMITS,
        )
        assert credential_from(declared) == CREDENTIAL_PLACEHOLDER, (
            "expected the component's Swarm secret to carry the credential it was given"
        )
        fleet = SwarmFleet(swarm, declared, runner_image, world.token)
        made.append(fleet)
        return fleet

    yield create
    for fleet in made:
        fleet.remove()


def online(world: World, fleet: SwarmFleet) -> list[Runner]:
    return [
        r
        for r in world.fake.runners
        if r.name.startswith(fleet.name + "-") and r.status == "online"
    ]


def wait_online(world: World, fleet: SwarmFleet, count: int, timeout: float = 60.0) -> None:
    if not poll(lambda: len(online(world, fleet)) == count, timeout):
        raise AssertionError(
            f"expected {count} runners of {fleet.name} online within {timeout}s, found "
            f"{[(r.name, r.status) for r in world.fake.runners]}\n{fleet.logs()}"
        )


def test_replicas_come_online_as_runners_in_the_group(world: World, deploy: Deploy) -> None:
    fleet = deploy(3)
    wait_online(world, fleet, 3)
    runners = online(world, fleet)
    assert all(r.group_id == world.group.id for r in runners), (
        f"expected every runner in group {world.group.id}, got {[r.group_id for r in runners]}"
    )
    assert all(sorted(label.name for label in r.labels) == sorted(LABELS) for r in runners), (
        f"expected every runner to carry exactly {sorted(LABELS)}"
    )
    prefixes = {r.name.rsplit("-", 1)[0] for r in runners}
    assert len(prefixes) == 3, (
        f"expected each task slot to register under its own name prefix, got {sorted(prefixes)}"
    )


def test_each_job_gets_a_brand_new_container(world: World, deploy: Deploy) -> None:
    fleet = deploy(1)
    wait_online(world, fleet, 1)
    first_container = fleet.running_containers()
    litter = (
        'echo litter > leftover-in-workspace; echo litter > "$HOME/leftover-in-home"; '
        "echo litter > /tmp/leftover-in-tmp; echo litter > /var/tmp/leftover-in-var-tmp; "
        "echo litter > /home/runner/externals-leftover 2>/dev/null; true"
    )
    first = world.fake.queue_job(REPO, list(LABELS), litter)
    world.fake.wait_for_job(first, timeout=60)
    assert poll(
        lambda: (
            bool(fleet.running_containers())
            and fleet.running_containers() != first_container
            and len(online(world, fleet)) == 1
        ),
        60,
    ), f"expected a new task to replace the finished one\n{fleet.logs()}"
    second_container = fleet.running_containers()
    assert set(first_container.values()).isdisjoint(second_container.values()), (
        f"expected a different container after the job: before {first_container}, "
        f"after {second_container}"
    )
    probe = (
        'for f in "$GITHUB_WORKSPACE/leftover-in-workspace" "$HOME/leftover-in-home" '
        "/tmp/leftover-in-tmp /var/tmp/leftover-in-var-tmp /home/runner/externals-leftover; do "
        'if [ -e "$f" ]; then echo "LEFT $f"; fi; done; echo probe-done'
    )
    second = world.fake.queue_job(REPO, list(LABELS), probe)
    world.fake.wait_for_job(second, timeout=60)
    output = second.output or ""
    assert "probe-done" in output and "LEFT " not in output, (
        f"expected the next job to find none of the previous job's files:\n{output}"
    )
    assert first.runner_name != second.runner_name, (
        f"expected a new runner registration per job, both were {first.runner_name}"
    )


def test_scaling_the_replicas_changes_the_runner_count(world: World, deploy: Deploy) -> None:
    fleet = deploy(1)
    wait_online(world, fleet, 1)
    fleet.scale(3)
    wait_online(world, fleet, 3)
    fleet.scale(1)
    wait_online(world, fleet, 1)
    assert poll(lambda: len(fleet.running_containers()) == 1, 30), (
        f"expected one running task after scaling down, got {fleet.running_containers()}"
    )


def test_the_job_cannot_read_the_credential(world: World, deploy: Deploy) -> None:
    fleet = deploy(1)
    wait_online(world, fleet, 1)
    script = (
        "set +e; env; cat /proc/1/environ 2>&1 || echo proc1-denied; "
        "cat /run/fleet/credential 2>&1 || echo credential-denied; "
        "ls /run/secrets 2>&1; "
        "if sudo -n true 2>&1; then echo sudo-allowed; else echo sudo-denied; fi"
    )
    job = world.fake.queue_job(REPO, list(LABELS), script)
    world.fake.wait_for_job(job, timeout=60)
    output = job.output or ""
    for marker in ("credential-denied", "sudo-denied"):
        assert marker in output, f"expected the job's output to show {marker}:\n{output}"
    assert world.token not in output, "expected no trace of the token in the job's output"
    spec = fleet.service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert not any(world.token in entry for entry in spec.get("Env", [])), (
        "expected the token in no environment variable of the service"
    )
    mounted = spec["Secrets"][0]["File"]
    assert (mounted["UID"], mounted["GID"], mounted["Mode"]) == ("0", "0", 0o400), (
        f"expected the credential mounted root-only (0, 0, 0400), got {mounted}"
    )
