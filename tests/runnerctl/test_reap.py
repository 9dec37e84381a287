"""``runnerctl reap``: dry run by default, deletes only offline idle leftovers, never a busy runner.

The busy runner is a real stand-in runner mid-job at the fake GitHub (registered with a JIT config
under a name of this stack, running a job that sleeps) whose container is gone.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import standin_runner
from tests.runnerctl.conftest import ORG, TOKEN, Project
from tests.runnerctl.docker_fleet import FleetContainers

pytestmark = pytest.mark.docker


def names(project: Project) -> set[str]:
    return {runner.name for runner in project.fake.runners}


@pytest.fixture
def standin_mid_job(project: Project, tmp_path: Path) -> Iterator[str]:
    """A stand-in runner of this stack's org fleet, busy with a job; yields its name."""
    stack = project.write_org_stack()
    name = f"{project.prefix(stack)}-5-feedf00d"
    group = project.add_group()
    answer = httpx.post(
        f"{project.fake.url}/orgs/{ORG}/actions/runners/generate-jitconfig",
        json={"name": name, "runner_group_id": group, "labels": ["self-hosted", "reap-test"]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 201, f"expected a JIT config, got {answer.text}"
    root = standin_runner.install(tmp_path / "runner")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "RUNNER_ALLOW_RUNASROOT": "1",
        "STANDIN_POLL_SECONDS": "1",
    }
    process = subprocess.Popen(
        [str(root / "run.sh"), "--jitconfig", answer.json()["encoded_jit_config"]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        project.fake.queue_job(f"{ORG}/coach", ["self-hosted", "reap-test"], "sleep 120")
        busy = project.fake.wait_until(
            lambda: any(r.name == name and r.busy for r in project.fake.runners_by_id.values()),
            timeout=60,
        )
        assert busy, "expected the stand-in runner to take the job within 60 s"
        yield name
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_dry_run_lists_leftovers_and_deletes_nothing(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack()
    prefix = project.prefix(stack)
    project.add_group()
    project.add_runner(f"{prefix}-0-00000001", online=False)  # leftover: no container
    before = names(project)

    result = project.run("reap", "--stack", stack, "--json")

    assert result.code == 0, f"expected the dry run to exit 0\n{result}"
    data = result.json()
    assert data["dry_run"] is True and data["would_delete"] == [f"{prefix}-0-00000001"], (
        f"expected the leftover listed as would-delete, got {data}"
    )
    assert data["deleted"] == [], f"expected nothing deleted in a dry run: {data}"
    assert names(project) == before, "expected the dry run to leave GitHub untouched"
    assert project.fake.count("DELETE", "/actions/runners/") == 0, "expected no DELETE call"


def test_yes_deletes_only_offline_idle_runners_of_this_stack_without_live_container(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack()
    prefix = project.prefix(stack)
    project.add_group()
    fleet_containers.add(f"{prefix}-0", stack)
    fleet_containers.add(f"{prefix}-1", stack, running=False)
    project.add_runner(f"{prefix}-0-0000000a", online=False)  # container live: kept
    project.add_runner(f"{prefix}-1-0000000b", online=False)  # container exited: deleted
    project.add_runner(f"{prefix}-9-0000000c", online=False)  # no container: deleted
    project.add_runner(f"{prefix}-8-0000000d", online=True)  # online: kept
    project.add_runner(f"{prefix}-7-0000000e", online=False, busy=True)  # busy: kept
    project.add_runner("other-fleet-1-0000000f", online=False)  # not this stack's: untouched

    result = project.run("reap", "--stack", stack, "--yes", "--json")

    assert result.code == 0, f"expected reap --yes to exit 0\n{result}"
    data = result.json()
    assert sorted(data["deleted"]) == [f"{prefix}-1-0000000b", f"{prefix}-9-0000000c"], (
        f"expected exactly the two leftovers deleted, got {data}"
    )
    kept = {item["runner"]: item["reason"] for item in data["kept"]}
    assert kept[f"{prefix}-7-0000000e"].startswith("busy"), f"expected busy kept: {kept}"
    assert f"{prefix}-0-0000000a" in kept and f"{prefix}-8-0000000d" in kept, f"kept: {kept}"
    remaining = names(project)
    assert {f"{prefix}-7-0000000e", "other-fleet-1-0000000f"} <= remaining, (
        f"expected the busy and the foreign runner to remain, got {remaining}"
    )
    assert f"{prefix}-9-0000000c" not in remaining, "expected the leftover deleted at GitHub"


def test_a_stand_in_runner_mid_job_is_never_deleted(
    project: Project, fleet_containers: FleetContainers, standin_mid_job: str
) -> None:
    stack = project.org_stack
    # Simulate GitHub losing the runner's session mid-job: offline, still busy, no container.
    with project.fake.lock:
        runner = next(r for r in project.fake.runners_by_id.values() if r.name == standin_mid_job)
        runner.status = "offline"

    result = project.run("reap", "--stack", stack, "--yes", "--json")

    assert result.code == 0, f"expected reap to exit 0\n{result}"
    kept = {item["runner"]: item["reason"] for item in result.json()["kept"]}
    assert kept.get(standin_mid_job, "").startswith("busy"), (
        f"expected the runner mid-job kept as busy, got {result.json()}"
    )
    assert standin_mid_job in names(project), "expected the busy runner still registered"
    assert project.fake.count("DELETE", "/actions/runners/") == 0, "expected no DELETE call"


def test_runner_that_turns_busy_before_the_delete_is_kept(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack()
    prefix = project.prefix(stack)
    project.add_group()
    project.add_runner(f"{prefix}-3-00000003", online=False)
    project.fake.inject(
        r"/actions/runners/\d+$",
        "DELETE",
        [(422, {}, {"message": "Bad request - Runner is still running a job"})],
    )

    result = project.run("reap", "--stack", stack, "--yes", "--json")

    assert result.code == 0, f"expected a refused delete to be reported, not fail\n{result}"
    data = result.json()
    assert data["deleted"] == [] and data["kept"][0]["reason"].startswith("busy"), (
        f"expected the 422 reported as kept busy, got {data}"
    )


def test_github_failure_on_delete_exits_1_and_names_the_runner(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack()
    prefix = project.prefix(stack)
    project.add_group()
    project.add_runner(f"{prefix}-3-00000004", online=False)
    project.fake.inject(r"/actions/runners/\d+$", "DELETE", [(403, {}, {"message": "Forbidden"})])

    result = project.run("reap", "--stack", stack, "--yes")

    assert result.code == 1, f"expected exit 1 when a delete fails\n{result}"
    assert f"failed {prefix}-3-00000004" in result.stdout, f"expected the runner named\n{result}"
