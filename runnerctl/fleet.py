"""What GitHub and Docker see of one stack's fleet, and how the two join.

GitHub side: the stack's runners, found without listing the whole organization when possible. In
org mode the runners are those of the stack's runner group (``GET .../runner-groups/{id}/runners``,
pages of 100), so an organization holding 10,000 other runners costs a handful of calls; repo mode
lists each repository's runners. Only names this stack's containers register count: a runner is
``<container name>-<8 hex>`` and the container name is ``<prefix>-<n>`` or ``<prefix>-<repo>-<n>``.

Docker side: containers labelled ``runner-fleet.stack=<stack>``. Docker failures become one
``DockerError`` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.config import FleetSettings
from components.runner_fleet import LABEL_PREFIX, container_name
from runnerctl.errors import DockerError
from runnerctl.github import GitHubClient

STACK_LABEL = f"{LABEL_PREFIX}.stack"
#: Container states in which a runner is, or soon will be, registered from it.
LIVE_STATES = frozenset({"running", "restarting"})


@dataclass(frozen=True)
class GitHubRunner:
    id: int
    name: str
    status: str
    busy: bool
    labels: tuple[str, ...]
    group_id: int | None
    #: 'org' or the repository name the runner is registered to.
    scope: str

    @property
    def online(self) -> bool:
        return self.status == "online"


@dataclass(frozen=True)
class RunnerGroupView:
    id: int
    name: str
    visibility: str
    allows_public_repositories: bool
    repositories: tuple[str, ...]


@dataclass
class GitHubView:
    runners: list[GitHubRunner] = field(default_factory=list)
    group: RunnerGroupView | None = None


@dataclass(frozen=True)
class Container:
    name: str
    state: str
    restarts: int
    started_at: datetime | None
    image: str

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def uptime_seconds(self, now: datetime) -> float | None:
        if self.state != "running" or self.started_at is None:
            return None
        return max(0.0, (now - self.started_at).total_seconds())


def runner_name_pattern(settings: FleetSettings) -> re.Pattern[str]:
    """Names a container of this stack registers: '<container>-<8 hex>'."""
    prefix = re.escape(settings.prefix)
    if settings.mode == "org":
        return re.compile(rf"^(?P<container>{prefix}-\d+)-[0-9a-f]{{8}}$")
    repos = "|".join(re.escape(name) for name in settings.repository_names)
    return re.compile(rf"^(?P<container>{prefix}-(?:{repos})-\d+)-[0-9a-f]{{8}}$")


def container_of(settings: FleetSettings, runner_name: str) -> str | None:
    """The container a runner of this stack was registered from, or None for foreign names."""
    found = runner_name_pattern(settings).match(runner_name)
    return found.group("container") if found else None


def expected_containers(settings: FleetSettings) -> list[str]:
    if settings.mode == "org":
        return [container_name(settings.prefix, None, i) for i in range(settings.runner_count)]
    return [
        container_name(settings.prefix, repository, i)
        for repository, count in settings.runners_per_repository().items()
        for i in range(count)
    ]


def _runner(item: dict[str, Any], scope: str) -> GitHubRunner:
    return GitHubRunner(
        id=int(item["id"]),
        name=str(item["name"]),
        status=str(item.get("status", "offline")),
        busy=bool(item.get("busy", False)),
        labels=tuple(str(label.get("name")) for label in item.get("labels", [])),
        group_id=item.get("runner_group_id"),
        scope=scope,
    )


def find_group(github: GitHubClient, settings: FleetSettings) -> dict[str, Any] | None:
    """The stack's runner group as GitHub returns it, by name (case-insensitive), or None."""
    wanted = settings.runner_group.lower()
    for group in github.paginate(
        f"/orgs/{settings.organization}/actions/runner-groups", "runner_groups"
    ):
        if str(group.get("name", "")).lower() == wanted:
            return group
    return None


def github_view(
    github: GitHubClient, settings: FleetSettings, *, with_group: bool = True
) -> GitHubView:
    """The stack's runners at GitHub (and, in org mode, its group with the allowlist)."""
    view = GitHubView()
    org = settings.organization
    if settings.mode == "org":
        group = find_group(github, settings)
        if group is not None:
            group_path = f"/orgs/{org}/actions/runner-groups/{group['id']}"
            items = github.paginate(f"{group_path}/runners", "runners")
            if with_group:
                names = tuple(
                    str(repo["name"])
                    for repo in github.paginate(f"{group_path}/repositories", "repositories")
                )
                view.group = RunnerGroupView(
                    id=int(group["id"]),
                    name=str(group["name"]),
                    visibility=str(group.get("visibility", "")),
                    allows_public_repositories=bool(group.get("allows_public_repositories")),
                    repositories=names,
                )
        else:
            # No group yet (or renamed): the runners may still sit elsewhere in the organization.
            items = github.paginate(f"/orgs/{org}/actions/runners", "runners")
        view.runners = [
            _runner(item, "org") for item in items if container_of(settings, str(item["name"]))
        ]
        return view
    for repository in settings.repository_names:
        for item in github.paginate(f"/repos/{org}/{repository}/actions/runners", "runners"):
            if container_of(settings, str(item["name"])):
                view.runners.append(_runner(item, repository))
    return view


def runner_path(settings: FleetSettings, runner: GitHubRunner) -> str:
    if runner.scope == "org":
        return f"/orgs/{settings.organization}/actions/runners/{runner.id}"
    return f"/repos/{settings.organization}/{runner.scope}/actions/runners/{runner.id}"


# ---------------------------------------------------------------------------------- Docker
def docker_client(settings: FleetSettings) -> Any:
    """A Docker SDK client for the stack's host that has answered a ping."""
    try:
        import docker.client
    except ImportError:  # pragma: no cover - docker is a pinned dependency
        raise DockerError("the docker Python SDK is not installed") from None
    where = settings.docker_host or "the local Docker socket (DOCKER_HOST or the default)"
    try:
        if settings.docker_host:
            client = docker.client.DockerClient(
                base_url=settings.docker_host,
                use_ssh_client=settings.docker_host.startswith("ssh://"),
                timeout=20,
            )
        else:
            client = docker.client.from_env(timeout=20)
        client.ping()
    except Exception as error:  # the SDK raises many types; all mean "cannot reach"
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise DockerError(f"Docker host {where} does not answer: {reason}") from None
    return client


def _started_at(text: str | None) -> datetime | None:
    if not text or text.startswith("0001-"):
        return None
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(trimmed).astimezone(UTC)
    except ValueError:
        return None


def containers(client: Any, settings: FleetSettings) -> list[Container]:
    """The stack's containers (any state), by name."""
    try:
        found = client.containers.list(
            all=True, filters={"label": f"{STACK_LABEL}={settings.stack}"}
        )
    except Exception as error:
        raise DockerError(
            f"listing containers failed: {str(error).splitlines()[0][:160]}"
        ) from None
    result = []
    for item in found:
        attrs = item.attrs
        state = attrs.get("State", {}) or {}
        config = attrs.get("Config", {}) or {}
        result.append(
            Container(
                name=str(attrs.get("Name", item.name)).lstrip("/"),
                state=str(state.get("Status", "unknown")),
                restarts=int(attrs.get("RestartCount", 0) or 0),
                started_at=_started_at(state.get("StartedAt")),
                image=str(config.get("Image", "")),
            )
        )
    return sorted(result, key=lambda c: c.name)
