"""Typed stack configuration: read once at the edge, validated whole, frozen.

``load_settings`` turns the raw Pulumi config of one stack (every key under the ``runner-fleet``
namespace, strings as the engine hands them over) into a frozen ``FleetSettings``. It checks every
key before any resource is declared and, when anything is wrong, raises one ``ConfigError`` that
names each offending stack key with the fix, so a user corrects everything in one round.

Components never read ``pulumi.Config()``; ``__main__.py`` and the operators' tool both call
``load_settings`` (the tool on the stack file, the program on the engine's config).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

PROJECT: Final = "runner-fleet"
DEFAULT_RUNNER_VERSION: Final = "2.334.0"
OFFICIAL_RUNNER_IMAGE: Final = "ghcr.io/actions/actions-runner"
#: Most runner containers one stack may declare (org: runnerCount; repo: the sum over repositories).
MAX_RUNNERS: Final = 200
MAX_LABELS: Final = 100
MAX_LABEL_LENGTH: Final = 100
#: The prefix plus "-<repository>-<n>-<8 hex>" must stay a valid runner and container name.
MAX_PREFIX_LENGTH: Final = 32
DEFAULT_GROUP_NAMES: Final = frozenset({"default"})
ENGINES: Final = ("docker", "swarm", "kubernetes")
#: Swarm service names are DNS labels.
MAX_SERVICE_NAME_LENGTH: Final = 63
#: actions-runner-controller's charts (gha-runner-scale-set and its controller), released together.
DEFAULT_ARC_CHART_VERSION: Final = "0.14.2"

_PREFIX_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_REPO_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
_SIZE_RE = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]?)i?b?$", re.IGNORECASE)
_LABEL_RE = re.compile(r"^[A-Za-z0-9._:-]+$")
_CPUS_RE = re.compile(r"^\d+(?:\.\d{1,3})?$")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_WORKFLOW_RE = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+/\.github/workflows/[^@\s]+\.ya?ml@\S+$")
_DOCKER_HOST_RE = re.compile(r"^(unix|ssh|tcp)://\S+$")
_CONSTRAINT_RE = re.compile(r"^[A-Za-z0-9._-]+(?:\.[A-Za-z0-9._-]+)*\s*(==|!=)\s*\S+$")
_K8S_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class FleetSettings(BaseModel):
    """One stack's validated settings. Field aliases are the stack-file keys."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    stack: str = Field(description="The Pulumi stack name (not a config key).")
    mode: Literal["org", "repo"] = Field(
        description="'org': organization runners in a dedicated runner group; 'repo': "
        "repository runners, the fallback."
    )
    organization: str = Field(description="The GitHub organization login, e.g. 'virtuoso902'.")
    github_credential: SecretStr = Field(
        alias="githubCredential",
        description="Secret. A token, or the GitHub App's private key (PEM) when githubAppId is "
        "set. Set it with `pulumi config set --secret githubCredential < file`.",
    )
    github_app_id: int = Field(
        0, alias="githubAppId", description="GitHub App id; 0 means githubCredential is a token."
    )
    github_app_installation_id: int = Field(
        0,
        alias="githubAppInstallationId",
        description="The App's installation id in the organization (with githubAppId).",
    )
    github_api_url: str = Field(
        "https://api.github.com",
        alias="githubApiUrl",
        description="REST API base URL; 'https://<host>/api/v3' for GitHub Enterprise Server.",
    )
    runner_group: str = Field(
        "",
        alias="runnerGroup",
        description="org mode: name of the dedicated runner group the stack creates and owns.",
    )
    allowed_repositories: tuple[str, ...] = Field(
        (),
        alias="allowedRepositories",
        description="org mode: the repositories (name or org/name) allowed to use the group.",
    )
    repository_ids: Mapping[str, int] = Field(
        default_factory=dict,
        alias="repositoryIds",
        description="org mode, optional: pinned repository ids by name; when every allowed "
        "repository is pinned no lookup call is made.",
    )
    allows_public_repositories: bool = Field(
        False,
        alias="allowsPublicRepositories",
        description="org mode: let public repositories use the group. Off: a fork's pull request "
        "could run code on your hosts.",
    )
    selected_workflows: tuple[str, ...] = Field(
        (),
        alias="selectedWorkflows",
        description="org mode, optional: restrict the group to these workflows "
        "('org/repo/.github/workflows/ci.yml@refs/heads/main').",
    )
    repositories: tuple[str, ...] = Field(
        (),
        alias="repositories",
        description="repo mode: the repositories that each get their own runners.",
    )
    repository_runner_counts: Mapping[str, int] = Field(
        default_factory=dict,
        alias="repositoryRunnerCounts",
        description="repo mode, optional: runner count per repository, overriding runnerCount.",
    )
    runner_count: int = Field(
        2,
        alias="runnerCount",
        description=f"Runner containers (org mode), or per repository (repo mode); 0 scales the "
        f"fleet to zero. At most {MAX_RUNNERS} per stack.",
    )
    labels: tuple[str, ...] = Field(
        ("self-hosted", "Linux", "X64"),
        alias="labels",
        description="Runner labels jobs select with runs-on.",
    )
    name_prefix: str = Field(
        "",
        alias="namePrefix",
        description="Prefix of container and runner names; default 'gha-<stack>'. Lowercase "
        f"letters, digits and '-', at most {MAX_PREFIX_LENGTH} characters.",
    )
    ephemeral: bool = Field(True, description="One job per runner registration (recommended).")
    registration: Literal["jit", "token"] = Field(
        "jit",
        description="'jit': just-in-time config, one API call per job; 'token': registration "
        "token and config.sh, for servers without JIT.",
    )
    runner_version: str = Field(
        DEFAULT_RUNNER_VERSION,
        alias="runnerVersion",
        description="actions/runner version the image is built from.",
    )
    image: str = Field(
        "",
        description="A prebuilt runner image reference; empty builds docker/ on the Docker host.",
    )
    base_image: str = Field(
        "",
        alias="baseImage",
        description="Base of the built image; default the official runner image at runnerVersion.",
    )
    memory_mb: int = Field(
        4096, alias="memory", description="Memory limit per runner, e.g. '4g' or '512m'."
    )
    cpus: str = Field("2", description="CPU limit per runner, e.g. '2' or '0.5'.")
    pids_limit: int = Field(
        1024,
        alias="pidsLimit",
        description="Most processes per runner (enforced as the runner user's nproc limit).",
    )
    work_dir_size_mb: int = Field(
        8192,
        alias="workDirSize",
        description="Size of the tmpfs work directory, e.g. '8g' (counts against memory).",
    )
    tmp_size_mb: int = Field(1024, alias="tmpSize", description="Size of the tmpfs /tmp.")
    log_max_size: str = Field(
        "10m", alias="logMaxSize", description="Rotate a container's log at this size."
    )
    log_max_files: int = Field(3, alias="logMaxFiles", description="Rotated log files kept.")
    docker_host: str = Field(
        "",
        alias="dockerHost",
        description="Docker host: empty for the local socket, or 'ssh://user@host', "
        "'tcp://host:2376'.",
    )
    docker_access: Literal["none", "socket"] = Field(
        "none",
        alias="dockerAccess",
        description="'socket' mounts the host's Docker socket into runners (jobs then control "
        "the host); needs allowHostDockerAccess.",
    )
    privileged: bool = Field(
        False, description="Run runners privileged; needs allowHostDockerAccess."
    )
    allow_host_docker_access: bool = Field(
        False,
        alias="allowHostDockerAccess",
        description="The explicit opt-in for dockerAccess 'socket' or privileged runners.",
    )
    job_sudo: bool = Field(
        False,
        alias="jobSudo",
        description="Give jobs passwordless sudo inside their container (drops no-new-privileges).",
    )
    engine: Literal["docker", "swarm", "kubernetes"] = Field(
        "docker",
        description="Where runners run: 'docker' (containers on one Docker host), 'swarm' (a "
        "Swarm service, a new container per job) or 'kubernetes' (actions-runner-controller).",
    )
    swarm_placement_constraints: tuple[str, ...] = Field(
        ("node.platform.os==linux",),
        alias="swarmPlacementConstraints",
        description="swarm: which nodes may run runners, e.g. 'node.labels.runners==true' or "
        "'node.role==worker' (the default also allows managers, so a one-node swarm works).",
    )
    kubernetes_namespace: str = Field(
        "",
        alias="kubernetesNamespace",
        description="kubernetes: namespace of the runner scale sets and the credential Secret; "
        "default '<namePrefix>-runners', so the org and repo stacks can share a cluster.",
    )
    kubernetes_controller_namespace: str = Field(
        "",
        alias="kubernetesControllerNamespace",
        description="kubernetes: namespace of this stack's actions-runner-controller, which "
        "watches only kubernetesNamespace; default '<namePrefix>-arc'.",
    )
    arc_chart_version: str = Field(
        DEFAULT_ARC_CHART_VERSION,
        alias="arcChartVersion",
        description="kubernetes: pinned version of the gha-runner-scale-set(-controller) charts.",
    )
    kubernetes_container_mode: Literal["none", "dind", "kubernetes-novolume"] = Field(
        "none",
        alias="kubernetesContainerMode",
        description="kubernetes: 'none' (no container jobs), 'dind' (a privileged Docker-in-"
        "Docker sidecar; needs allowHostDockerAccess) or 'kubernetes-novolume' (job containers "
        "as pods).",
    )
    kubernetes_min_runners: int = Field(
        0,
        alias="kubernetesMinRunners",
        description="kubernetes: idle runners kept warm per scale set; runnerCount is the maximum.",
    )

    @property
    def prefix(self) -> str:
        """The effective name prefix."""
        return self.name_prefix or f"gha-{self.stack}"

    @property
    def uses_app(self) -> bool:
        return self.github_app_id > 0

    @property
    def repository_names(self) -> tuple[str, ...]:
        """Bare repository names of the allowlist (org) or of the fleets (repo)."""
        names = self.allowed_repositories if self.mode == "org" else self.repositories
        return tuple(_bare_name(name) for name in names)

    @property
    def runner_base_image(self) -> str:
        return self.base_image or f"{OFFICIAL_RUNNER_IMAGE}:{self.runner_version}"

    @property
    def runner_namespace(self) -> str:
        """kubernetes: the effective namespace of the scale sets."""
        return self.kubernetes_namespace or f"{self.prefix}-runners"

    @property
    def controller_namespace(self) -> str:
        """kubernetes: the effective namespace of the controller."""
        return self.kubernetes_controller_namespace or f"{self.prefix}-arc"

    def runners_per_repository(self) -> dict[str, int]:
        """repo mode: runner count for each repository, in config order."""
        return {
            name: self.repository_runner_counts.get(name, self.runner_count)
            for name in self.repository_names
        }

    def total_runners(self) -> int:
        if self.mode == "org":
            return self.runner_count
        return sum(self.runners_per_repository().values())


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one stack key, and how to fix it."""

    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{PROJECT}:{self.key}: {self.message}. Fix: {self.fix}"


class ConfigError(Exception):
    """Every problem in a stack's configuration, reported together."""

    def __init__(self, stack: str, problems: Sequence[Problem]) -> None:
        self.stack = stack
        self.problems = tuple(problems)
        lines = [f"stack '{stack}' has {len(self.problems)} configuration problem(s):"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


# Keys by the kind of value the engine hands over as a string.
_LIST_KEYS: Final = frozenset(
    {
        "allowedRepositories",
        "selectedWorkflows",
        "repositories",
        "labels",
        "swarmPlacementConstraints",
    }
)
_MAP_KEYS: Final = frozenset({"repositoryIds", "repositoryRunnerCounts"})
_INT_KEYS: Final = frozenset(
    {
        "githubAppId",
        "githubAppInstallationId",
        "runnerCount",
        "pidsLimit",
        "logMaxFiles",
        "kubernetesMinRunners",
    }
)
_BOOL_KEYS: Final = frozenset(
    {"allowsPublicRepositories", "ephemeral", "privileged", "allowHostDockerAccess", "jobSudo"}
)
_SIZE_KEYS: Final = frozenset({"memory", "workDirSize", "tmpSize"})
_ORG_ONLY: Final = (
    "runnerGroup",
    "allowedRepositories",
    "repositoryIds",
    "allowsPublicRepositories",
    "selectedWorkflows",
)
_REPO_ONLY: Final = ("repositories", "repositoryRunnerCounts")
#: Keys that only mean something under one engine, by engine.
_ENGINE_ONLY: Final = {
    "swarm": ("swarmPlacementConstraints",),
    "kubernetes": (
        "kubernetesNamespace",
        "kubernetesControllerNamespace",
        "arcChartVersion",
        "kubernetesContainerMode",
        "kubernetesMinRunners",
    ),
}
SECRET_KEYS: Final = frozenset({"githubCredential"})


def config_keys() -> dict[str, str]:
    """Every stack key this project reads, with its description (for docs and checks)."""
    keys: dict[str, str] = {}
    for name, field in FleetSettings.model_fields.items():
        if name == "stack":
            continue
        keys[field.alias or name] = field.description or ""
    return keys


def swarm_service_name(prefix: str, repository: str | None) -> str:
    """The Swarm service of one fleet: '<prefix>' (org) or '<prefix>-<repository>' (repo).

    Service names are DNS labels, so characters other than letters and digits become '-'.
    """
    if not repository:
        return prefix
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9]+', '-', repository).strip('-')}"


def scale_set_name(prefix: str, repository: str | None) -> str:
    """The runner scale set (and Helm release) of one fleet: a lowercase DNS label."""
    return swarm_service_name(prefix, repository).lower()


def _bare_name(repository: str) -> str:
    return repository.split("/", 1)[1] if "/" in repository else repository


def _decode(key: str, raw: Any, problems: list[Problem]) -> Any:
    """Turn the engine's string form of one value into Python data, or record why not."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    try:
        if key in _LIST_KEYS:
            value = json.loads(text) if text else []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return value
        if key in _MAP_KEYS:
            value = json.loads(text) if text else {}
            if not isinstance(value, dict):
                raise ValueError
            return value
        if key in _INT_KEYS:
            if not re.fullmatch(r"-?\d+", text):
                raise ValueError
            return int(text)
        if key in _BOOL_KEYS:
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
    except ValueError:
        kind = (
            "a list of strings"
            if key in _LIST_KEYS
            else "a map"
            if key in _MAP_KEYS
            else "a whole number"
            if key in _INT_KEYS
            else "true or false"
        )
        problems.append(Problem(key, f"must be {kind}, got {raw!r}", f"set {key} to {kind}"))
        return None
    return text


def parse_size_mb(text: str) -> int | None:
    """'4g' -> 4096, '512m' -> 512, '1.5g' -> 1536; None when malformed."""
    match = _SIZE_RE.match(text.strip())
    if not match:
        return None
    number = float(match["number"])
    factor = {"": 1 / (1024 * 1024), "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    megabytes = int(number * factor[match["unit"].lower()])
    return megabytes if megabytes > 0 else None


def _check_label(label: str) -> str | None:
    if not label.strip():
        return "is empty"
    if "," in label:
        return f"'{label}' contains a comma"
    if len(label) > MAX_LABEL_LENGTH:
        return f"'{label[:20]}...' is longer than {MAX_LABEL_LENGTH} characters"
    if not _LABEL_RE.match(label):
        # The image's entrypoint refuses other characters; refusing them here keeps a bad label
        # from reaching the host as a container that exits 64 in a loop.
        return f"'{label}' has characters other than letters, digits, '.', '_', ':' and '-'"
    return None


def _check_repository(organization: str, entry: str) -> str | None:
    owner, _, name = entry.rpartition("/")
    if owner and organization and owner.lower() != organization.lower():
        return f"'{entry}' belongs to '{owner}', not to the organization '{organization}'"
    if owner and not _OWNER_RE.match(owner):
        return f"'{entry}' has an invalid owner"
    if not _REPO_NAME_RE.match(name) or name in (".", ".."):
        return f"'{entry}' is not a valid repository name (letters, digits, '.', '_', '-')"
    return None


def _validate(values: dict[str, Any], stack: str, problems: list[Problem]) -> None:
    """Every rule that spans keys or goes beyond a type; appends to problems."""
    mode = values.get("mode")
    organization = values.get("organization") or ""

    if mode not in ("org", "repo"):
        problems.append(
            Problem("mode", f"must be 'org' or 'repo', got {mode!r}", "pulumi config set mode org")
        )
    if not organization:
        problems.append(
            Problem(
                "organization",
                "is required" + (" in org mode" if mode == "org" else ""),
                "pulumi config set organization <your-org>",
            )
        )
    elif not _OWNER_RE.match(organization):
        problems.append(
            Problem("organization", f"'{organization}' is not a valid login", "use the org's login")
        )

    credential = values.get("githubCredential")
    if not credential:
        problems.append(
            Problem(
                "githubCredential",
                "is required",
                "pulumi config set --secret githubCredential < token-or-app-key.pem",
            )
        )
    app_id = values.get("githubAppId") or 0
    installation_id = values.get("githubAppInstallationId") or 0
    if isinstance(app_id, int) and isinstance(installation_id, int):
        if app_id < 0 or installation_id < 0:
            problems.append(
                Problem("githubAppId", "App ids cannot be negative", "use the ids GitHub shows")
            )
        elif (app_id > 0) != (installation_id > 0):
            problems.append(
                Problem(
                    "githubAppInstallationId" if app_id else "githubAppId",
                    "githubAppId and githubAppInstallationId go together",
                    "set both (GitHub App) or neither (token)",
                )
            )
        elif app_id and isinstance(credential, str) and "PRIVATE KEY" not in credential:
            problems.append(
                Problem(
                    "githubCredential",
                    "must be the App's private key (PEM) when githubAppId is set",
                    "pulumi config set --secret githubCredential < app-private-key.pem",
                )
            )

    api_url = values.get("githubApiUrl", "https://api.github.com")
    if isinstance(api_url, str) and not re.match(r"^https?://[^\s/]+(/\S*)?$", api_url):
        problems.append(
            Problem(
                "githubApiUrl",
                f"'{api_url}' is not an http(s) URL",
                "https://api.github.com or https://<host>/api/v3",
            )
        )

    # Keys that belong to the other mode are mistakes, not noise.
    if mode == "repo":
        for key in _ORG_ONLY:
            if values.get(key):
                problems.append(
                    Problem(
                        key,
                        "is an org-mode key but mode is 'repo'",
                        f"remove it (pulumi config rm {key} --stack {stack})",
                    )
                )
    if mode == "org":
        for key in _REPO_ONLY:
            if values.get(key):
                problems.append(
                    Problem(
                        key,
                        "is a repo-mode key but mode is 'org'",
                        "list the repositories under allowedRepositories instead",
                    )
                )

    if mode == "org":
        group = values.get("runnerGroup") or ""
        if not group:
            problems.append(
                Problem(
                    "runnerGroup",
                    "is required in org mode",
                    "name a dedicated group: pulumi config set runnerGroup org-runners",
                )
            )
        elif group.strip().lower() in DEFAULT_GROUP_NAMES:
            problems.append(
                Problem(
                    "runnerGroup",
                    "must not be the organization's Default group, which every repository can use",
                    "name a dedicated group, e.g. org-runners",
                )
            )
        elif len(group) > 100:
            problems.append(
                Problem("runnerGroup", "is longer than 100 characters", "use a shorter name")
            )
    repo_key = "allowedRepositories" if mode == "org" else "repositories"
    entries = values.get(repo_key) or []
    if mode in ("org", "repo") and isinstance(entries, list):
        if not entries:
            problems.append(
                Problem(
                    repo_key,
                    "is empty",
                    f"list at least one repository: pulumi config set --path '{repo_key}[0]' coach",
                )
            )
        seen: dict[str, str] = {}
        for entry in entries:
            reason = _check_repository(organization, entry)
            if reason:
                problems.append(Problem(repo_key, reason, "use 'name' or '<organization>/name'"))
                continue
            bare = _bare_name(entry).lower()
            if bare in seen:
                problems.append(
                    Problem(
                        repo_key,
                        f"'{entry}' repeats '{seen[bare]}'",
                        "list each repository once",
                    )
                )
            seen.setdefault(bare, entry)
        known = {_bare_name(entry).lower() for entry in entries}
        for key in ("repositoryIds", "repositoryRunnerCounts"):
            mapping = values.get(key) or {}
            if not isinstance(mapping, dict):
                continue
            for name, number in mapping.items():
                if name.lower() not in known:
                    problems.append(
                        Problem(
                            key, f"names '{name}', which is not in {repo_key}", "add or drop it"
                        )
                    )
                if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                    problems.append(
                        Problem(key, f"'{name}' must map to a whole number >= 0", "fix the number")
                    )

    workflows = values.get("selectedWorkflows") or []
    for workflow in workflows if isinstance(workflows, list) else []:
        if not _WORKFLOW_RE.match(workflow):
            problems.append(
                Problem(
                    "selectedWorkflows",
                    f"'{workflow}' is not a workflow reference",
                    "use 'org/repo/.github/workflows/ci.yml@refs/heads/main'",
                )
            )

    count = values.get("runnerCount", 2)
    if isinstance(count, int):
        per_repo = values.get("repositoryRunnerCounts") or {}
        total = count
        if mode == "repo" and isinstance(entries, list) and isinstance(per_repo, dict):
            counts = {k.lower(): v for k, v in per_repo.items() if isinstance(v, int)}
            total = sum(counts.get(_bare_name(e).lower(), count) for e in entries)
        if count < 0:
            problems.append(
                Problem("runnerCount", f"is {count}; it cannot be negative", "use 0 or more")
            )
        elif total > MAX_RUNNERS:
            problems.append(
                Problem(
                    "runnerCount",
                    f"declares {total} runners; one stack holds at most {MAX_RUNNERS}",
                    "lower it, or split the fleet over Docker hosts (one stack each)",
                )
            )

    labels = values.get("labels")
    if isinstance(labels, list):
        if not labels:
            problems.append(Problem("labels", "is empty", "give at least 'self-hosted'"))
        if len(labels) > MAX_LABELS:
            problems.append(
                Problem(
                    "labels",
                    f"has {len(labels)} labels; GitHub allows {MAX_LABELS}",
                    "drop some labels",
                )
            )
        lowered: set[str] = set()
        for label in labels:
            reason = _check_label(label)
            if reason:
                problems.append(
                    Problem(
                        "labels",
                        f"label {reason}",
                        "labels are 1-100 letters, digits, '.', '_', ':' or '-'",
                    )
                )
            elif label.lower() in lowered:
                problems.append(
                    Problem("labels", f"'{label}' is listed twice", "list each label once")
                )
            lowered.add(label.lower())

    prefix = values.get("namePrefix") or ""
    if prefix and (len(prefix) > MAX_PREFIX_LENGTH or not _PREFIX_RE.match(prefix)):
        problems.append(
            Problem(
                "namePrefix",
                f"'{prefix}' is not a valid container and runner name prefix",
                f"use lowercase letters, digits and '-', at most {MAX_PREFIX_LENGTH} characters, "
                "starting and ending with a letter or digit",
            )
        )

    for key in sorted(_SIZE_KEYS):
        raw = values.get(key)
        if isinstance(raw, str) and parse_size_mb(raw) is None:
            problems.append(
                Problem(key, f"'{raw}' is not a size", "use a number with k, m or g, e.g. '4g'")
            )
        elif key == "memory" and isinstance(raw, str) and (parse_size_mb(raw) or 0) < 64:
            problems.append(Problem(key, f"'{raw}' is below 64m", "give a runner at least '512m'"))
    cpus = values.get("cpus")
    if isinstance(cpus, str) and (not _CPUS_RE.match(cpus) or float(cpus) <= 0):
        problems.append(
            Problem("cpus", f"'{cpus}' is not a CPU count", "use a positive number, e.g. '2'")
        )
    pids = values.get("pidsLimit")
    if isinstance(pids, int) and not 64 <= pids <= 65536:
        problems.append(Problem("pidsLimit", f"is {pids}", "use a number from 64 to 65536"))
    log_size = values.get("logMaxSize")
    if isinstance(log_size, str) and not re.fullmatch(r"\d+[kmg]", log_size):
        problems.append(Problem("logMaxSize", f"'{log_size}' is not a log size", "use e.g. '10m'"))
    log_files = values.get("logMaxFiles")
    if isinstance(log_files, int) and not 1 <= log_files <= 100:
        problems.append(Problem("logMaxFiles", f"is {log_files}", "use 1 to 100"))

    version = values.get("runnerVersion")
    if isinstance(version, str) and not _VERSION_RE.match(version):
        problems.append(
            Problem("runnerVersion", f"'{version}' is not a version", "use e.g. '2.334.0'")
        )
    docker_host = values.get("dockerHost") or ""
    if docker_host and not _DOCKER_HOST_RE.match(docker_host):
        problems.append(
            Problem(
                "dockerHost",
                f"'{docker_host}' is not a Docker host",
                "use unix:///var/run/docker.sock, ssh://user@host or tcp://host:2376",
            )
        )
    for key, allowed in (("registration", ("jit", "token")), ("dockerAccess", ("none", "socket"))):
        raw = values.get(key)
        if raw is not None and raw not in allowed:
            problems.append(
                Problem(key, f"is {raw!r}", f"use one of {', '.join(repr(a) for a in allowed)}")
            )
    if values.get("registration") == "jit" and values.get("ephemeral") is False:
        problems.append(
            Problem(
                "ephemeral",
                "just-in-time runners are always ephemeral",
                "keep ephemeral true, or set registration to 'token'",
            )
        )

    opted_in = values.get("allowHostDockerAccess") is True
    if values.get("dockerAccess") == "socket" and not opted_in:
        problems.append(
            Problem(
                "dockerAccess",
                "'socket' gives every job root on the Docker host, but allowHostDockerAccess "
                "is not set",
                "set allowHostDockerAccess to true if you accept that, or keep dockerAccess 'none'",
            )
        )
    if values.get("privileged") is True and not opted_in:
        problems.append(
            Problem(
                "privileged",
                "privileged runners can escape to the host, but allowHostDockerAccess is not set",
                "set allowHostDockerAccess to true if you accept that, or drop privileged",
            )
        )


def _explicitly_set(values: dict[str, Any], key: str) -> bool:
    """Whether a key holds something other than its declared default."""
    if values.get(key) is None:
        return False
    for name, field in FleetSettings.model_fields.items():
        if (field.alias or name) == key:
            default = field.default
            value = values[key]
            return (list(value) if isinstance(value, list) else value) != (
                list(default) if isinstance(default, tuple) else default
            )
    return False


def _validate_engine(values: dict[str, Any], stack: str, problems: list[Problem]) -> None:
    """The fleet engine, its own keys, and what each engine cannot do; appends to problems."""
    engine = values.get("engine", "docker")
    if engine not in ENGINES:
        problems.append(
            Problem(
                "engine",
                f"is {engine!r}",
                f"use one of {', '.join(repr(e) for e in ENGINES)}, e.g. "
                "pulumi config set engine swarm",
            )
        )
        return
    for owner, keys in _ENGINE_ONLY.items():
        if owner == engine:
            continue
        for key in keys:
            if _explicitly_set(values, key):
                problems.append(
                    Problem(
                        key,
                        f"is a {owner}-engine key but engine is '{engine}'",
                        f"remove it (pulumi config rm {key} --stack {stack}) or set engine to "
                        f"'{owner}'",
                    )
                )

    if engine == "swarm":
        if values.get("privileged") is True:
            problems.append(
                Problem(
                    "privileged",
                    "Swarm services cannot run privileged containers",
                    "drop privileged, or use engine 'docker' for privileged runners",
                )
            )
        constraints = values.get("swarmPlacementConstraints")
        if isinstance(constraints, list):
            if not constraints:
                problems.append(
                    Problem(
                        "swarmPlacementConstraints",
                        "is empty, so runners could land on any node",
                        "name the runner nodes, e.g. 'node.labels.runners==true'",
                    )
                )
            for constraint in constraints:
                if not _CONSTRAINT_RE.match(constraint):
                    problems.append(
                        Problem(
                            "swarmPlacementConstraints",
                            f"'{constraint}' is not a placement constraint",
                            "use 'attribute==value' or 'attribute!=value', e.g. "
                            "'node.role==worker'",
                        )
                    )
        _validate_fleet_names(values, stack, problems, "Swarm service", swarm_service_name, 63)

    if engine == "kubernetes":
        for key in ("dockerHost", "dockerAccess", "privileged"):
            if _explicitly_set(values, key):
                problems.append(
                    Problem(
                        key,
                        "is a Docker-host setting; the kubernetes engine has no Docker host",
                        f"remove it (pulumi config rm {key} --stack {stack}); for jobs that "
                        "run containers set kubernetesContainerMode",
                    )
                )
        if values.get("registration") == "token":
            problems.append(
                Problem(
                    "registration",
                    "actions-runner-controller registers runners just in time itself",
                    "keep registration 'jit' with engine 'kubernetes'",
                )
            )
        for key in ("kubernetesNamespace", "kubernetesControllerNamespace"):
            namespace = values.get(key)
            if isinstance(namespace, str) and namespace and not _K8S_NAME_RE.match(namespace):
                problems.append(
                    Problem(
                        key,
                        f"'{namespace}' is not a Kubernetes namespace name",
                        "use lowercase letters, digits and '-', at most 63 characters",
                    )
                )
        _validate_fleet_names(values, stack, problems, "runner scale set", scale_set_name, 53)
        version = values.get("arcChartVersion")
        if isinstance(version, str) and not _VERSION_RE.match(version):
            problems.append(
                Problem(
                    "arcChartVersion",
                    f"'{version}' is not a pinned chart version",
                    f"pin an exact version, e.g. '{DEFAULT_ARC_CHART_VERSION}'",
                )
            )
        container_mode = values.get("kubernetesContainerMode")
        modes = ("none", "dind", "kubernetes-novolume")
        if container_mode is not None and container_mode not in modes:
            problems.append(
                Problem(
                    "kubernetesContainerMode",
                    f"is {container_mode!r}",
                    f"use one of {', '.join(repr(m) for m in modes)}",
                )
            )
        elif container_mode == "dind" and values.get("allowHostDockerAccess") is not True:
            problems.append(
                Problem(
                    "kubernetesContainerMode",
                    "'dind' runs a privileged Docker daemon beside every runner, but "
                    "allowHostDockerAccess is not set",
                    "set allowHostDockerAccess to true if you accept that, or use "
                    "'kubernetes-novolume'",
                )
            )
        minimum = values.get("kubernetesMinRunners")
        count = values.get("runnerCount", 2)
        if isinstance(minimum, int) and minimum < 0:
            problems.append(Problem("kubernetesMinRunners", f"is {minimum}", "use 0 or more"))
        elif isinstance(minimum, int) and isinstance(count, int) and minimum > max(count, 0):
            problems.append(
                Problem(
                    "kubernetesMinRunners",
                    f"is {minimum}, above runnerCount ({count}), the scale set's maximum",
                    "lower kubernetesMinRunners or raise runnerCount",
                )
            )


def _validate_fleet_names(
    values: dict[str, Any],
    stack: str,
    problems: list[Problem],
    kind: str,
    naming: Callable[[str, str | None], str],
    limit: int,
) -> None:
    """repo mode: every repository's service or scale set name is a distinct, short DNS label."""
    if values.get("mode") != "repo" or not isinstance(values.get("repositories"), list):
        return
    prefix = values.get("namePrefix") or f"gha-{stack}"
    seen: dict[str, str] = {}
    for entry in values["repositories"]:
        if not isinstance(entry, str):
            continue
        fleet = naming(prefix, _bare_name(entry))
        if len(fleet) > limit:
            problems.append(
                Problem(
                    "repositories",
                    f"the {kind} for '{entry}' would be named '{fleet}', longer than {limit} "
                    "characters",
                    "shorten namePrefix",
                )
            )
        elif fleet.lower() in seen:
            problems.append(
                Problem(
                    "repositories",
                    f"'{entry}' and '{seen[fleet.lower()]}' would share the {kind} '{fleet}'",
                    "give the stack one of them only, or use engine 'docker'",
                )
            )
        seen.setdefault(fleet.lower(), entry)


def load_settings(
    stack: str, raw_config: Mapping[str, Any], secret_keys: Collection[str] | None = None
) -> FleetSettings:
    """Validate one stack's config (keys with or without the project namespace).

    ``secret_keys`` are the keys the engine marks secret; when given, a credential that is not one
    of them is refused, so it can never sit in plain text in a stack file.
    """
    problems: list[Problem] = []
    known = config_keys()
    values: dict[str, Any] = {}
    secret_names = {key.split(":", 1)[-1] for key in secret_keys or ()}
    for full_key, raw in raw_config.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace and namespace != PROJECT:
            continue  # provider settings such as docker:host belong to their providers
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            fix = f"did you mean '{close[0]}'?" if close else "remove it (see README's key table)"
            problems.append(Problem(key, "is not a key this program reads", fix))
            continue
        values[key] = _decode(key, raw, problems)

    if values.get("githubCredential") and secret_keys is not None:
        if not SECRET_KEYS <= secret_names:
            problems.append(
                Problem(
                    "githubCredential",
                    "is stored in plain text",
                    "pulumi config set --secret githubCredential < file",
                )
            )
    _validate(values, stack, problems)
    _validate_engine(values, stack, problems)
    if problems:
        raise ConfigError(stack, problems)

    data = {key: value for key, value in values.items() if value is not None}
    for key in _SIZE_KEYS:
        if key in data:
            data[key] = parse_size_mb(data[key])
    for key in ("allowedRepositories", "repositories", "swarmPlacementConstraints"):
        if key in data:
            data[key] = tuple(data[key])
    for key in ("repositoryIds", "repositoryRunnerCounts"):
        if key in data:
            data[key] = {_bare_name(k): v for k, v in data[key].items()}
    return FleetSettings.model_validate({"stack": stack, **data})
