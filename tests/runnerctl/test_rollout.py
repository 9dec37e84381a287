"""``rollback`` / ``rollforward``: target up, then wait until its runners are online, then retire.

A recording stand-in ``pulumi`` (standin_pulumi.py) is on PATH; the Automation API drives it as
it would drive the real CLI. The order is read from its log, and the wait is proven from the fake
GitHub's call log: runnerctl listed the target's runners after the target's ``up`` and before
anything touched the retired stack.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.runnerctl.conftest import ORG, Project

HERE = Path(__file__).resolve().parent


class StandinPulumi:
    def __init__(self, root: Path, project: Project) -> None:
        self.log = root / "pulumi-calls.jsonl"
        self.plan_file = root / "pulumi-plan.json"
        self.plan_file.write_text("{}")
        self.project = project

    def plan(self, plan: dict[str, Any]) -> None:
        self.plan_file.write_text(json.dumps(plan))

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def commands(self) -> list[str]:
        """Each call as 'verb stack', e.g. 'up repo1a2b3c' or 'config set-all org1a2b3c'."""
        out = []
        for call in self.calls():
            words = [w for w in call["argv"] if w != "--non-interactive"]
            stack = words[words.index("--stack") + 1] if "--stack" in words else ""
            verb = " ".join(words[:2]) if words[0] in ("stack", "config") else words[0]
            if verb in ("stack output", "stack history", "version"):
                continue
            out.append(f"{verb} {stack}".strip())
        return out

    def time_of(self, command: str) -> float:
        for call, text in zip(self.calls_filtered(), self.commands(), strict=True):
            if text == command:
                return float(call["time"])
        raise AssertionError(f"expected a recorded `pulumi {command}`, got {self.commands()}")

    def calls_filtered(self) -> list[dict[str, Any]]:
        skip = {"version", "stack output", "stack history"}
        kept = []
        for call in self.calls():
            words = [w for w in call["argv"] if w != "--non-interactive"]
            verb = " ".join(words[:2]) if words[0] in ("stack", "config") else words[0]
            if verb not in skip:
                kept.append(call)
        return kept


@pytest.fixture
def pulumi(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandinPulumi:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable = bin_dir / "pulumi"
    shutil.copyfile(HERE / "standin_pulumi.py", executable)
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    standin = StandinPulumi(tmp_path, project)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("PULUMI_STANDIN_LOG", str(standin.log))
    monkeypatch.setenv("PULUMI_STANDIN_PLAN", str(standin.plan_file))
    monkeypatch.setenv("PULUMI_STANDIN_API", project.fake.url)
    monkeypatch.setenv("PULUMI_STANDIN_TOKEN_FILE", str(project.credential_file))
    return standin


def repo_runners(project: Project, stack: str) -> list[dict[str, Any]]:
    prefix = project.prefix(stack)
    return [
        {"path": f"/repos/{ORG}/{repo}/actions/runners", "name": f"{prefix}-{repo}-0-0000000{i}"}
        for i, repo in enumerate(("coach", "mcp"))
    ]


def list_times(project: Project, path_part: str) -> list[float]:
    return [
        call.timestamp
        for call in project.fake.calls
        if call.method == "GET" and path_part in call.path and call.path.endswith("/runners")
    ]


def test_rollback_ups_repo_waits_for_its_runners_then_scales_org_to_zero(
    project: Project, pulumi: StandinPulumi
) -> None:
    org, repo = project.write_org_stack(), project.write_repo_stack()
    pulumi.plan({repo: {"runners": repo_runners(project, repo)}})

    result = project.run(
        "rollback", "--stack", repo, "--retire-stack", org, "--yes", "--json",
        "--poll-interval", "0.2", "--timeout", "30",
    )  # fmt: skip

    assert result.code == 0, f"expected the rollback to succeed\n{result}"
    assert pulumi.commands() == [
        f"stack select {repo}",
        f"up {repo}",
        f"stack select {org}",
        f"config set-all {org}",
        f"up {org}",
    ], f"expected target up, then the other stack scaled to zero, got {pulumi.commands()}"
    up_target, retire = pulumi.time_of(f"up {repo}"), pulumi.time_of(f"config set-all {org}")
    waits = [t for t in list_times(project, f"/repos/{ORG}/") if up_target < t < retire]
    assert waits, "expected runnerctl to list the target's runners between its up and the retire"
    set_all = next(c for c in pulumi.calls() if "set-all" in c["argv"])
    assert "runnerCount=0" in set_all["argv"], f"expected runnerCount=0 set, got {set_all}"
    data = result.json()
    assert data["completed"] is True and data["online"] == 2, f"expected 2 online: {data}"
    assert [s["step"] for s in data["steps"]] == ["up", "wait-online", "scale-to-zero"], f"{data}"


def test_rollforward_with_destroy_retires_the_repo_stack_after_org_runners_are_online(
    project: Project, pulumi: StandinPulumi
) -> None:
    org, repo = project.write_org_stack(runnerCount=1), project.write_repo_stack()
    group = project.add_group()
    runner = {
        "path": f"/orgs/{ORG}/actions/runners",
        "name": f"{project.prefix(org)}-0-0000abcd",
        "group_id": group,
    }
    pulumi.plan({org: {"runners": [runner]}})

    result = project.run(
        "rollforward", "--stack", org, "--retire-stack", repo, "--retire", "destroy", "--yes",
        "--poll-interval", "0.2",
    )  # fmt: skip

    assert result.code == 0, f"expected the rollforward to succeed\n{result}"
    assert pulumi.commands() == [
        f"stack select {org}",
        f"up {org}",
        f"stack select {repo}",
        f"destroy {repo}",
    ], f"expected org up then repo destroyed, got {pulumi.commands()}"
    assert "destroyed" in result.stdout, f"expected a summary naming the destroy\n{result}"
    assert "Updating" in result.stderr, f"expected pulumi's output streamed to stderr\n{result}"


def test_runners_that_never_come_online_time_out_and_nothing_is_retired(
    project: Project, pulumi: StandinPulumi
) -> None:
    org, repo = project.write_org_stack(), project.write_repo_stack()
    pulumi.plan({repo: {"runners": repo_runners(project, repo)[:1]}})  # 1 of 2

    result = project.run(
        "rollback", "--stack", repo, "--retire-stack", org, "--yes", "--json",
        "--poll-interval", "0.2", "--timeout", "1",
    )  # fmt: skip

    assert result.code == 1, f"expected a timeout to exit 1\n{result}"
    assert pulumi.commands() == [f"stack select {repo}", f"up {repo}"], (
        f"expected nothing done to the other stack, got {pulumi.commands()}"
    )
    data = result.json()
    assert data["completed"] is False and data["online"] == 1, f"expected 1 of 2 online: {data}"
    assert "nothing was retired" in result.stderr, f"expected the safety said out loud\n{result}"


def test_a_failed_up_retires_nothing(project: Project, pulumi: StandinPulumi) -> None:
    org, repo = project.write_org_stack(), project.write_repo_stack()
    pulumi.plan({repo: {"fail": True}})

    result = project.run("rollback", "--stack", repo, "--retire-stack", org, "--yes")

    assert result.code == 1, f"expected a failed up to exit 1\n{result}"
    assert pulumi.commands() == [f"stack select {repo}", f"up {repo}"], f"{pulumi.commands()}"
    assert "pulumi up on stack" in result.stderr and "nothing was retired" in result.stderr, (
        f"expected one line naming the failed up and the safety\n{result}"
    )


def test_declining_the_prompt_changes_nothing(project: Project, pulumi: StandinPulumi) -> None:
    org, repo = project.write_org_stack(), project.write_repo_stack()

    result = project.run("rollback", "--stack", repo, "--retire-stack", org, input="n\n")

    assert result.code == 1, f"expected a declined prompt to exit 1\n{result}"
    assert pulumi.commands() == [], f"expected no pulumi command, got {pulumi.commands()}"
    assert "scale to zero stack" in result.stderr, f"expected the question on stderr\n{result}"


def test_wrong_mode_target_is_refused_before_pulumi_runs(
    project: Project, pulumi: StandinPulumi
) -> None:
    org, repo = project.write_org_stack(), project.write_repo_stack()

    result = project.run("rollback", "--stack", org, "--retire-stack", repo, "--yes")

    assert result.code == 2, f"expected a wrong target mode to be bad input\n{result}"
    assert "repo-mode stack" in result.stderr, f"expected the mode named\n{result}"
    assert pulumi.commands() == [], f"expected no pulumi command, got {pulumi.commands()}"


def test_missing_pulumi_cli_is_one_line_exit_3(project: Project, no_pulumi: None) -> None:
    org, repo = project.write_org_stack(), project.write_repo_stack()

    result = project.run("rollback", "--stack", repo, "--retire-stack", org, "--yes")

    assert result.code == 3, f"expected exit 3 without a pulumi CLI\n{result}"
    assert "pulumi CLI is not installed" in result.stderr, f"expected the cause named\n{result}"
    assert "Traceback" not in result.stderr, f"expected no traceback\n{result}"
