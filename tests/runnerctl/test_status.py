"""``runnerctl status`` against the fake GitHub and real containers: rows, problems, exit codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runnerctl.conftest import Project
from tests.runnerctl.docker_fleet import FleetContainers

pytestmark = pytest.mark.docker


def kinds(result_json: dict[str, Any]) -> set[str]:
    return {problem["kind"] for problem in result_json["problems"]}


def test_healthy_org_fleet_exits_0_with_one_row_per_runner(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack()
    prefix = project.prefix(stack)
    project.add_group()
    for index in range(2):
        fleet_containers.add(f"{prefix}-{index}", stack)
        project.add_runner(f"{prefix}-{index}-0000000{index}", busy=index == 1)
    project.add_runner("someone-else-1-00000000")  # in the org, not this stack's

    result = project.run("status", "--stack", stack, "--json")

    assert result.code == 0, f"expected a healthy fleet to exit 0\n{result}"
    data = result.json()
    assert data["healthy"] is True and data["problems"] == [], f"expected no problems: {data}"
    names = [row["runner"] for row in data["runners"]]
    assert names == [f"{prefix}-0-00000000", f"{prefix}-1-00000001"], (
        f"expected exactly this stack's two runners, sorted, got {names}"
    )
    row = data["runners"][1]
    assert row["container"] == f"{prefix}-1" and row["state"] == "running", (
        f"expected the runner joined to its running container, got {row}"
    )
    assert row["busy"] is True and row["status"] == "online", f"expected busy and online: {row}"
    assert row["restarts"] == 0 and row["image"], f"expected restarts and image filled: {row}"
    assert data["group"]["visibility"] == "selected", f"expected the group shown: {data['group']}"
    assert sorted(data["group"]["repositories"]) == ["coach", "mcp"], (
        f"expected the group's allowlist, got {data['group']}"
    )
    assert data["online_runners"] == 2 and data["expected_runners"] == 2, f"counts: {data}"


def test_human_output_names_runners_and_says_healthy(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack(runnerCount=1)
    prefix = project.prefix(stack)
    project.add_group()
    fleet_containers.add(f"{prefix}-0", stack)
    project.add_runner(f"{prefix}-0-abcdef01")

    result = project.run("status", "--stack", stack)

    assert result.code == 0, f"expected exit 0\n{result}"
    assert f"{prefix}-0-abcdef01" in result.stdout, f"expected the runner in the table\n{result}"
    assert "healthy" in result.stdout, f"expected the verdict 'healthy'\n{result}"


def test_every_kind_of_problem_is_flagged_and_exits_1(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack(runnerCount=4)
    prefix = project.prefix(stack)
    project.add_group(repositories=("coach",))  # mcp missing from the allowlist
    fleet_containers.add(f"{prefix}-0", stack)  # runner offline: offline-too-long
    project.add_runner(f"{prefix}-0-0000000a", online=False)
    fleet_containers.add(f"{prefix}-1", stack)  # no runner at all
    fleet_containers.add(f"{prefix}-2", stack, running=False)  # exited, no runner
    project.add_runner(f"{prefix}-7-0000000b", online=False)  # no container
    # prefix-3 is declared (runnerCount 4) but was never created: missing-container

    result = project.run("status", "--stack", stack, "--json", "--offline-after", "0")

    assert result.code == 1, f"expected an unhealthy fleet to exit 1\n{result}"
    data = result.json()
    assert kinds(data) == {
        "offline-too-long",
        "no-runner",
        "no-container",
        "missing-container",
        "allowlist",
    }, f"expected each problem kind once over, got {data['problems']}"
    subjects = {(p["kind"], p["subject"]) for p in data["problems"]}
    assert ("missing-container", f"{prefix}-3") in subjects, f"expected -3 missing: {subjects}"
    assert ("no-runner", f"{prefix}-2") in subjects, f"expected the exited one flagged: {subjects}"
    flags = {row["container"] or row["runner"]: row["flags"] for row in data["runners"]}
    assert flags[f"{prefix}-7-0000000b"] == ["no-container"], f"row flags: {flags}"


def test_container_without_runner_inside_the_grace_period_is_only_starting(
    project: Project, fleet_containers: FleetContainers
) -> None:
    stack = project.write_org_stack(runnerCount=1)
    project.add_group()
    fleet_containers.add(f"{project.prefix(stack)}-0", stack)

    result = project.run("status", "--stack", stack, "--json", "--offline-after", "30")

    assert result.code == 0, f"expected a just-started container to be healthy\n{result}"
    assert result.json()["runners"][0]["flags"] == ["no-runner", "starting"], f"{result}"


def test_missing_group_and_repo_mode(project: Project, fleet_containers: FleetContainers) -> None:
    stack = project.write_org_stack(runnerCount=0)
    result = project.run("status", "--stack", stack, "--json")
    assert result.code == 1, f"expected a missing group to be unhealthy\n{result}"
    assert kinds(result.json()) == {"group-missing"}, f"{result}"

    repo_stack = project.write_repo_stack(repositoryRunnerCounts={"mcp": 0})
    prefix = project.prefix(repo_stack)
    fleet_containers.add(f"{prefix}-coach-0", repo_stack, mode="repo")
    project.add_runner(f"{prefix}-coach-0-12345678", repository="coach")
    result = project.run("status", "--stack", repo_stack, "--json")
    assert result.code == 0, f"expected the repo fleet healthy\n{result}"
    rows = result.json()["runners"]
    assert [(r["runner"], r["scope"]) for r in rows] == [(f"{prefix}-coach-0-12345678", "coach")], (
        f"expected the repository runner joined to its container, got {rows}"
    )


def test_unreachable_docker_host_is_one_line_exit_3(project: Project) -> None:
    stack = project.write_org_stack(dockerHost="tcp://127.0.0.1:9")
    project.add_group()
    result = project.run("status", "--stack", stack)
    assert result.code == 3, f"expected exit 3 when Docker cannot be asked\n{result}"
    assert result.stderr.count("\n") == 1 and "tcp://127.0.0.1:9" in result.stderr, (
        f"expected one line naming the Docker host\n{result}"
    )
