"""``runnerctl reap``: delete registrations this stack left behind, never a busy runner.

A candidate is a runner whose name this stack's containers register, that GitHub reports offline
and not busy, and whose container is not live (missing, exited or dead). Before each delete the
runner is fetched again, and kept if it has come online or taken a job since the listing; GitHub
itself refuses to delete a busy runner (422), which is reported as kept, not as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.config import FleetSettings
from runnerctl.errors import GitHubError
from runnerctl.fleet import Container, GitHubRunner, container_of, runner_path
from runnerctl.github import GitHubClient


@dataclass
class ReapReport:
    dry_run: bool
    deleted: list[str] = field(default_factory=list)
    would_delete: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self, stack: str) -> dict[str, Any]:
        return {
            "stack": stack,
            "dry_run": self.dry_run,
            "deleted": self.deleted,
            "would_delete": self.would_delete,
            "kept": [{"runner": name, "reason": reason} for name, reason in self.kept],
            "failed": [{"runner": name, "error": error} for name, error in self.failed],
        }


def _reason_to_keep(runner: GitHubRunner, container: Container | None) -> str | None:
    if runner.busy:
        return "busy: running a job"
    if runner.online:
        return "online"
    if container is not None and container.live:
        return f"its container {container.name} is {container.state}"
    return None


def reap(
    github: GitHubClient,
    settings: FleetSettings,
    runners: list[GitHubRunner],
    found_containers: list[Container],
    *,
    act: bool,
) -> ReapReport:
    by_name = {container.name: container for container in found_containers}
    report = ReapReport(dry_run=not act)
    for runner in sorted(runners, key=lambda r: r.name):
        container = by_name.get(container_of(settings, runner.name) or "")
        reason = _reason_to_keep(runner, container)
        if reason is not None:
            report.kept.append((runner.name, reason))
            continue
        if not act:
            report.would_delete.append(runner.name)
            continue
        path = runner_path(settings, runner)
        try:
            fresh = github.request("GET", path, expected=(200, 404))
            if fresh.status_code == 404:
                report.kept.append((runner.name, "already gone"))
                continue
            body = fresh.json()
            if body.get("busy"):
                report.kept.append((runner.name, "busy: took a job since the listing"))
                continue
            if body.get("status") == "online":
                report.kept.append((runner.name, "online: came back since the listing"))
                continue
            answer = github.request("DELETE", path, expected=(204, 404, 422))
        except GitHubError as error:
            report.failed.append((runner.name, str(error)))
            continue
        if answer.status_code == 422:
            report.kept.append((runner.name, "busy: GitHub refused to delete it (422)"))
        elif answer.status_code == 404:
            report.kept.append((runner.name, "already gone"))
        else:
            report.deleted.append(runner.name)
    return report
