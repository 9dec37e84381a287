"""``rollback`` / ``rollforward``: move jobs between the org and repo stacks without a gap.

Order, always: bring the target stack up; wait until GitHub reports all of its runners online
(with a timeout); only then retire the other stack, by scaling it to zero or destroying it. If the
target's up fails or its runners do not come online in time, nothing is retired and the other
fleet keeps serving jobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from runnerctl.errors import RunnerctlError
from runnerctl.fleet import github_view
from runnerctl.github import GitHubClient
from runnerctl.pulumi_driver import Output, PulumiStack
from runnerctl.stack import Stack

Retire = Literal["scale-to-zero", "destroy"]


@dataclass
class Step:
    name: str
    stack: str
    result: str
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "stack": self.stack,
            "result": self.result,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class RolloutReport:
    target: str
    retired: str
    retire: Retire
    steps: list[Step] = field(default_factory=list)
    online: int = 0
    expected: int = 0
    completed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "retired": self.retired,
            "retire": self.retire,
            "completed": self.completed,
            "online": self.online,
            "expected": self.expected,
            "steps": [step.as_json() for step in self.steps],
        }


class RolloutFailed(RunnerctlError):
    """A step failed; ``report`` holds the steps that ran."""

    def __init__(self, message: str, report: RolloutReport, exit_code: int) -> None:
        super().__init__(message, exit_code)
        self.report = report


def wait_online(
    github: GitHubClient,
    target: Stack,
    *,
    timeout: float,
    poll_interval: float,
    progress: Callable[[int, int], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll GitHub until the target's expected runners are online; returns how many are."""
    expected = target.settings.total_runners()
    deadline = clock() + timeout
    while True:
        view = github_view(github, target.settings, with_group=False)
        online = sum(1 for runner in view.runners if runner.online)
        progress(online, expected)
        if online >= expected:
            return online
        if clock() >= deadline:
            return online
        sleep(min(poll_interval, max(0.0, deadline - clock())))


def run_rollout(
    *,
    target: Stack,
    other: Stack,
    retire: Retire,
    github: GitHubClient,
    timeout: float,
    poll_interval: float,
    on_output: Output,
    progress: Callable[[int, int], None],
    open_stack: Callable[[Stack], PulumiStack] | None = None,
) -> RolloutReport:
    opener = open_stack or (lambda stack: PulumiStack(stack.project_dir, stack.name))
    report = RolloutReport(
        target.name, other.name, retire, expected=target.settings.total_runners()
    )

    started = time.monotonic()
    try:
        opener(target).up(on_output)
    except RunnerctlError as error:
        report.steps.append(Step("up", target.name, "failed", time.monotonic() - started))
        raise RolloutFailed(
            f"{error}; nothing was retired, stack '{other.name}' still serves jobs",
            report,
            error.exit_code,
        ) from None
    report.steps.append(Step("up", target.name, "done", time.monotonic() - started))

    started = time.monotonic()
    report.online = wait_online(
        github, target, timeout=timeout, poll_interval=poll_interval, progress=progress
    )
    waited = time.monotonic() - started
    if report.online < report.expected:
        report.steps.append(Step("wait-online", target.name, "timed out", waited))
        raise RolloutFailed(
            f"only {report.online} of {report.expected} runners of stack '{target.name}' came "
            f"online within {timeout:g}s; nothing was retired, stack '{other.name}' still serves "
            f"jobs (check `runnerctl status --stack {target.name}`)",
            report,
            1,
        )
    report.steps.append(Step("wait-online", target.name, "done", waited))

    started = time.monotonic()
    try:
        retiring = opener(other)
        if retire == "destroy":
            retiring.destroy(on_output)
        else:
            retiring.scale_to_zero(other.settings, on_output)
    except RunnerctlError as error:
        report.steps.append(Step(retire, other.name, "failed", time.monotonic() - started))
        raise RolloutFailed(
            f"{error}; stack '{target.name}' is up, retire '{other.name}' by hand",
            report,
            error.exit_code,
        ) from None
    report.steps.append(Step(retire, other.name, "done", time.monotonic() - started))
    report.completed = True
    return report
