"""``runnerctl status``: GitHub's runners joined with Docker's containers, and what is wrong.

One row per runner (plus one per container that has no runner). Problems, each making the fleet
unhealthy (exit 1):

- ``offline-too-long``: a runner is offline although its container has run longer than the grace
  period (``--offline-after`` minutes), or its container is not running;
- ``no-container``: a runner of this stack whose container does not exist (``reap`` removes it);
- ``no-runner``: a container that has run longer than the grace period without a runner
  registered, or that is not running at all;
- ``missing-container``: a container the stack declares does not exist;
- ``group-missing`` / ``group-visibility`` / ``allowlist`` (org mode): the runner group is absent,
  not limited to selected repositories, or its repositories differ from allowedRepositories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.config import FleetSettings
from runnerctl.fleet import Container, GitHubRunner, GitHubView, container_of, expected_containers


@dataclass(frozen=True)
class Problem:
    kind: str
    subject: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}


@dataclass
class Row:
    runner: GitHubRunner | None
    container: Container | None
    flags: list[str] = field(default_factory=list)


@dataclass
class StatusReport:
    settings: FleetSettings
    view: GitHubView
    rows: list[Row]
    problems: list[Problem]
    now: datetime

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        settings = self.settings
        group = self.view.group
        return {
            "stack": settings.stack,
            "mode": settings.mode,
            "organization": settings.organization,
            "prefix": settings.prefix,
            "healthy": self.healthy,
            "expected_runners": settings.total_runners(),
            "online_runners": sum(1 for r in self.view.runners if r.online),
            "group": None
            if group is None
            else {
                "id": group.id,
                "name": group.name,
                "visibility": group.visibility,
                "allows_public_repositories": group.allows_public_repositories,
                "repositories": list(group.repositories),
            },
            "runners": [self._row_json(row) for row in self.rows],
            "problems": [problem.as_json() for problem in self.problems],
        }

    def _row_json(self, row: Row) -> dict[str, Any]:
        runner, container = row.runner, row.container
        uptime = container.uptime_seconds(self.now) if container else None
        return {
            "runner": runner.name if runner else None,
            "runner_id": runner.id if runner else None,
            "status": runner.status if runner else None,
            "busy": runner.busy if runner else None,
            "labels": list(runner.labels) if runner else [],
            "scope": runner.scope if runner else None,
            "group_id": runner.group_id if runner else None,
            "container": container.name if container else None,
            "state": container.state if container else None,
            "restarts": container.restarts if container else None,
            "uptime_seconds": round(uptime) if uptime is not None else None,
            "image": container.image if container else None,
            "flags": list(row.flags),
        }


def build_report(
    settings: FleetSettings,
    view: GitHubView,
    found_containers: list[Container],
    *,
    offline_after_minutes: float,
    now: datetime | None = None,
) -> StatusReport:
    now = now or datetime.now(UTC)
    grace = offline_after_minutes * 60
    by_name = {container.name: container for container in found_containers}
    problems: list[Problem] = []
    rows: list[Row] = []
    containers_with_runner: set[str] = set()

    for runner in sorted(view.runners, key=lambda r: r.name):
        container = by_name.get(container_of(settings, runner.name) or "")
        row = Row(runner, container)
        if container is None:
            row.flags.append("no-container")
            if runner.online:
                message = f"runner {runner.name} is online but no container of this stack runs it"
            elif runner.busy:
                message = f"runner {runner.name} is offline and busy with no container"
            else:
                message = (
                    f"runner {runner.name} is offline with no container; "
                    "`runnerctl reap` removes it"
                )
            problems.append(Problem("no-container", runner.name, message))
        else:
            containers_with_runner.add(container.name)
            uptime = container.uptime_seconds(now)
            if not runner.online and (uptime is None or uptime > grace):
                row.flags.append("offline-too-long")
                why = (
                    f"its container has run {uptime / 60:.0f} min"
                    if uptime is not None
                    else f"its container is {container.state}"
                )
                problems.append(
                    Problem(
                        "offline-too-long",
                        runner.name,
                        f"runner {runner.name} is offline and {why} "
                        f"(grace {offline_after_minutes:g} min)",
                    )
                )
        rows.append(row)

    for container in found_containers:
        if container.name in containers_with_runner:
            continue
        row = Row(None, container, ["no-runner"])
        uptime = container.uptime_seconds(now)
        if uptime is None or uptime > grace:
            state = (
                f"has run {uptime / 60:.0f} min" if uptime is not None else f"is {container.state}"
            )
            problems.append(
                Problem(
                    "no-runner",
                    container.name,
                    f"container {container.name} {state} with no runner registered at GitHub; "
                    f"see `docker logs {container.name}`",
                )
            )
        else:
            row.flags.append("starting")
        rows.append(row)

    for name in expected_containers(settings):
        if name not in by_name:
            problems.append(
                Problem(
                    "missing-container",
                    name,
                    f"container {name} is declared by stack '{settings.stack}' but does not "
                    "exist; run `pulumi up`",
                )
            )

    if settings.mode == "org":
        problems += _group_problems(settings, view)
    return StatusReport(settings, view, rows, problems, now)


def _group_problems(settings: FleetSettings, view: GitHubView) -> list[Problem]:
    group = view.group
    if group is None:
        return [
            Problem(
                "group-missing",
                settings.runner_group,
                f"runner group '{settings.runner_group}' does not exist in "
                f"{settings.organization}; run `pulumi up`",
            )
        ]
    problems = []
    if group.visibility != "selected":
        problems.append(
            Problem(
                "group-visibility",
                group.name,
                f"runner group '{group.name}' has visibility '{group.visibility}', so repositories "
                "outside the allowlist can use it; run `pulumi up` to restore 'selected'",
            )
        )
    wanted = {name.lower() for name in settings.repository_names}
    actual = {name.lower() for name in group.repositories}
    missing, extra = sorted(wanted - actual), sorted(actual - wanted)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"not in allowedRepositories: {', '.join(extra)}")
        problems.append(
            Problem(
                "allowlist",
                group.name,
                f"runner group '{group.name}' allowlist differs from the stack "
                f"({'; '.join(parts)}); run `pulumi up`",
            )
        )
    return problems
