"""The fake GitHub's in-memory world: organizations, repositories, credentials, runners and jobs.

Plain data only; ``FakeGitHub`` owns one lock that guards every object here, and the HTTP handlers
and the Python API both take it before reading or changing anything.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Visibility = Literal["all", "selected", "private"]
TokenKind = Literal["classic", "fine_grained", "installation", "registration", "remove"]
JobStatus = Literal["queued", "in_progress", "completed"]

#: Labels GitHub adds to config.sh runners and reports as type "read-only".
DEFAULT_LABELS: tuple[str, ...] = ("self-hosted", "Linux", "X64")
_READ_ONLY_LABELS = frozenset(
    name.lower()
    for name in ("self-hosted", "Linux", "X64", "ARM64", "ARM", "X86", "Windows", "macOS")
)


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a credential, safe to log."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def iso(epoch: float) -> str:
    """GitHub's timestamp format: ISO 8601 in UTC with a Z suffix, whole seconds."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def label_type(name: str) -> Literal["read-only", "custom"]:
    return "read-only" if name.lower() in _READ_ONLY_LABELS else "custom"


@dataclass
class Org:
    login: str
    id: int
    created_at: float
    #: Runner group id -> group; group 1 is "Default".
    groups: dict[int, RunnerGroup] = field(default_factory=dict)
    #: Repository names in creation order (lower-cased name -> Repo).
    repos: dict[str, Repo] = field(default_factory=dict)


@dataclass
class Repo:
    id: int
    owner: str
    owner_id: int
    name: str
    private: bool
    created_at: float

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def visibility(self) -> str:
        return "private" if self.private else "public"


@dataclass
class RunnerGroup:
    id: int
    org: str
    name: str
    visibility: Visibility = "all"
    default: bool = False
    allows_public_repositories: bool = False
    restricted_to_workflows: bool = False
    selected_workflows: list[str] = field(default_factory=list)
    #: Repository ids allowed when ``visibility == "selected"`` (kept otherwise, as GitHub does).
    selected_repository_ids: list[int] = field(default_factory=list)

    def allows(self, repo: Repo, workflow: str | None = None) -> bool:
        """Whether a job of ``repo`` (and ``workflow``) may run on this group's runners."""
        if repo.owner.lower() != self.org.lower():
            return False
        if not repo.private and not self.allows_public_repositories:
            return False
        if self.visibility == "selected" and repo.id not in self.selected_repository_ids:
            return False
        if self.visibility == "private" and not repo.private:
            return False
        if self.restricted_to_workflows:
            return workflow is not None and any(
                workflow == allowed or workflow.startswith(allowed.removesuffix("*"))
                for allowed in self.selected_workflows
            )
        return True


@dataclass
class Token:
    """Any bearer credential: PAT, installation, registration or remove token."""

    value_fingerprint: str
    kind: TokenKind
    login: str
    scopes: tuple[str, ...] = ()
    permissions: dict[str, str] = field(default_factory=dict)
    #: Organizations (lower-case) the token may act on; None means every one.
    orgs: frozenset[str] | None = None
    #: Repository ids the token may act on; None means every repository of its orgs.
    repository_ids: frozenset[int] | None = None
    expires_at: float | None = None
    installation_id: int | None = None
    #: For registration/remove tokens: ("org", login) or ("repo", repo id as str).
    target: tuple[str, str] | None = None

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.time()) >= self.expires_at


@dataclass
class App:
    app_id: int
    slug: str
    installation_id: int
    org: str
    permissions: dict[str, str]
    public_key_pem: bytes
    repository_selection: Literal["all", "selected"] = "all"
    repository_ids: frozenset[int] | None = None
    created_at: float = field(default_factory=time.time)


@dataclass
class Label:
    id: int
    name: str
    type: Literal["read-only", "custom"]


@dataclass
class Runner:
    id: int
    name: str
    #: ("org", login lower-case) or ("repo", str(repo id)).
    scope: tuple[str, str]
    group_id: int
    labels: list[Label]
    ephemeral: bool
    #: The runner's own credential for the /_fake/runner calls, stored only as a fingerprint.
    credential_fingerprint: str
    os: str = "Linux"
    status: Literal["online", "offline"] = "offline"
    busy: bool = False
    session_id: str | None = None
    job_id: int | None = None
    created_at: float = field(default_factory=time.time)
    #: How many jobs this runner has been handed; an ephemeral runner never gets a second.
    jobs_taken: int = 0


@dataclass
class Job:
    """A queued workflow job; tests read it to prove each job ran exactly once, and where."""

    id: int
    run_id: int
    repository: str
    repository_id: int
    labels: list[str]
    script: str
    workflow: str | None = None
    status: JobStatus = "queued"
    runner_id: int | None = None
    runner_name: str | None = None
    conclusion: str | None = None
    exit_code: int | None = None
    output: str | None = None
    queued_at: float = field(default_factory=time.time)
    started_at: float | None = None
    completed_at: float | None = None
    #: Times the job was handed to a runner; a correct system keeps this at 1.
    assignments: int = 0
    #: Result posts received; more than one means a runner reported twice.
    results: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "repository": self.repository,
            "labels": list(self.labels),
            "workflow": self.workflow,
            "status": self.status,
            "runner_id": self.runner_id,
            "runner_name": self.runner_name,
            "conclusion": self.conclusion,
            "exit_code": self.exit_code,
            "output": self.output,
            "assignments": self.assignments,
            "results": self.results,
        }
