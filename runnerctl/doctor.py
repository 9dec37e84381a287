"""``runnerctl doctor``: everything checkable before ``pulumi up``, each failure with its fix.

Checks, in order: the credential works; it holds what the mode needs (a GitHub App's installation
permissions from the access-token answer, a classic token's scopes from ``X-OAuth-Scopes``, or,
for fine-grained tokens which report neither, a harmless write probe: asking for a registration
token, which expires unused within the hour); the organization exists; each repository exists,
belongs to the organization and is private; the runner group name is free or already this
stack's; the runner version is not behind what GitHub serves; the Docker host answers and the
image is present or buildable. GitHub checks are skipped once the credential fails.

The version rule: GitHub stops accepting a runner version about 30 days after a newer one is
released, and the API gives no release dates, so one minor release behind the version GitHub
serves is a warning (perhaps still inside the window) and two or more fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from components.config import FleetSettings
from runnerctl.errors import DockerError, GitHubError
from runnerctl.fleet import container_of, docker_client, find_group
from runnerctl.github import GitHubClient

Status = Literal["pass", "warn", "fail", "skip"]
_VERSION = re.compile(r"actions-runner-linux-x64-(\d+)\.(\d+)\.(\d+)\.tar\.gz$")


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Needs:
    """What one mode needs from each kind of credential."""

    app_permissions: dict[str, str]
    scopes: tuple[str, ...]


ORG_NEEDS = Needs({"organization_self_hosted_runners": "write"}, ("admin:org", "repo"))
REPO_NEEDS = Needs({"administration": "write"}, ("repo",))


def _has_level(have: str | None, need: str) -> bool:
    return have == "write" or (have == "read" and need == "read")


class Doctor:
    def __init__(self, github: GitHubClient, settings: FleetSettings, project_dir: Path) -> None:
        self.github = github
        self.settings = settings
        self.project_dir = project_dir
        self.checks: list[Check] = []
        self._scopes: tuple[str, ...] | None = None

    def add(self, name: str, status: Status, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, status, detail, fix))

    def guarded(self, name: str, fix: str, step: Callable[[], None]) -> None:
        """Run one GitHub check; a GitHub error fails the check instead of the run."""
        try:
            step()
        except GitHubError as error:
            self.add(name, "fail", str(error), fix)

    def run(self) -> list[Check]:
        # Later GitHub checks need what earlier ones prove; a failure skips its dependants
        # instead of repeating the same cause as more failures.
        needs_runner_access = "needs runner permissions the credential lacks"
        plan: list[tuple[str, Callable[[], None], dict[str, str]]] = [
            ("permissions", self.check_permissions, {}),
            ("organization", self.check_organization, {}),
            (
                "repositories",
                self.check_repositories,
                {"organization": "the organization does not exist"},
            ),
        ]
        if self.settings.mode == "org":
            plan.append(
                (
                    "runner group",
                    self.check_group,
                    {
                        "organization": "the organization does not exist",
                        "permissions": needs_runner_access,
                    },
                )
            )
        plan.append(
            (
                "runner version",
                self.check_version,
                {
                    "organization": "the organization does not exist",
                    "permissions": needs_runner_access,
                },
            )
        )
        credential_ok = self.check_credential()
        for name, step, depends_on in plan:
            failed = {check.name for check in self.checks if check.status == "fail"}
            reasons = [why for dependency, why in depends_on.items() if dependency in failed]
            if not credential_ok:
                self.add(name, "skip", "skipped: the credential does not work")
            elif reasons:
                self.add(name, "skip", f"skipped: {reasons[0]}")
            else:
                self.guarded(name, "fix the credential's access, then re-run doctor", step)
        self.check_docker()
        return self.checks

    # ------------------------------------------------------------------ GitHub
    def check_credential(self) -> bool:
        settings = self.settings
        kind = "GitHub App private key" if settings.uses_app else "token"
        fix = (
            "give the App's current private key and check githubAppId/githubAppInstallationId"
            if settings.uses_app
            else "create a new token and store it: pulumi config set --secret githubCredential"
        )
        try:
            if settings.uses_app:
                self.github.token()
                detail = f"App {settings.github_app_id} got an installation token"
            else:
                response = self.github.request("GET", "/user")
                if "X-OAuth-Scopes" in response.headers:
                    raw = response.headers["X-OAuth-Scopes"]
                    self._scopes = tuple(s.strip() for s in raw.split(",") if s.strip())
                detail = f"the {kind} authenticates as {response.json().get('login', '?')}"
        except GitHubError as error:
            self.add("credential", "fail", f"the {kind} does not work: {error}", fix)
            return False
        self.add("credential", "pass", detail)
        return True

    def check_permissions(self) -> None:
        settings = self.settings
        needs = ORG_NEEDS if settings.mode == "org" else REPO_NEEDS
        if settings.uses_app:
            have = self.github.installation_permissions or {}
            missing = [
                f"{name}={level}"
                for name, level in needs.app_permissions.items()
                if not _has_level(have.get(name), level)
            ]
            if missing:
                self.add(
                    "permissions",
                    "fail",
                    f"the App installation lacks {', '.join(missing)}",
                    "grant them in the App's settings (Permissions), then accept the new "
                    "permissions on the organization's installation",
                )
            else:
                granted = ", ".join(f"{k}={v}" for k, v in sorted(have.items()))
                self.add("permissions", "pass", f"installation permissions: {granted}")
            return
        if self._scopes is not None:
            missing = [scope for scope in needs.scopes if scope not in self._scopes]
            if missing:
                self.add(
                    "permissions",
                    "fail",
                    f"the classic token lacks the scope(s) {', '.join(missing)} "
                    f"(has: {', '.join(self._scopes) or 'none'})",
                    f"create a token with {', '.join(needs.scopes)}",
                )
            else:
                self.add("permissions", "pass", f"classic token scopes: {', '.join(self._scopes)}")
            return
        self._probe_fine_grained()

    def _probe_fine_grained(self) -> None:
        settings = self.settings
        org = settings.organization
        if settings.mode == "org":
            paths = [f"/orgs/{org}/actions/runners/registration-token"]
        else:
            paths = [
                f"/repos/{org}/{name}/actions/runners/registration-token"
                for name in settings.repository_names
            ]
        denied = []
        for path in paths:
            answer = self.github.request("POST", path, expected=(201, 403, 404))
            if answer.status_code != 201:
                needed = answer.headers.get("X-Accepted-GitHub-Permissions", "")
                denied.append((path, needed, answer.status_code))
        if not denied:
            what = (
                "organization self-hosted runners" if settings.mode == "org" else "administration"
            )
            self.add(
                "permissions",
                "pass",
                f"fine-grained token may write {what} (probed with a registration token, unused)",
            )
            return
        needed = sorted({n for _, n, _ in denied if n}) or [
            "organization_self_hosted_runners=write"
            if settings.mode == "org"
            else "administration=write"
        ]
        where = ", ".join(path.split("/actions/")[0] for path, _, _ in denied)
        self.add(
            "permissions",
            "fail",
            f"the fine-grained token is denied on {where}; it needs {', '.join(needed)}",
            "edit the token: grant that permission and include every repository of the stack",
        )

    def check_organization(self) -> None:
        org = self.settings.organization
        answer = self.github.request("GET", f"/orgs/{org}", expected=(200, 404))
        if answer.status_code == 404:
            self.add(
                "organization",
                "fail",
                f"organization '{org}' does not exist (or the credential cannot see it)",
                "fix `organization` in the stack file, or use a credential of that organization",
            )
        else:
            self.add("organization", "pass", f"organization '{org}' exists")

    def check_repositories(self) -> None:
        settings = self.settings
        org = settings.organization
        key = "allowedRepositories" if settings.mode == "org" else "repositories"
        failures: list[str] = []
        public: list[str] = []
        for name in settings.repository_names:
            answer = self.github.request("GET", f"/repos/{org}/{name}", expected=(200, 301, 404))
            if answer.status_code == 404:
                failures.append(f"{name} does not exist (or the credential cannot see it)")
                continue
            if answer.status_code == 301:
                failures.append(f"{name} was renamed or moved")
                continue
            body: dict[str, Any] = answer.json()
            owner = str(body.get("owner", {}).get("login", ""))
            if owner.lower() != org.lower():
                failures.append(f"{name} belongs to {owner}, not {org}")
            elif not body.get("private", False):
                public.append(name)
        allows_public = settings.mode == "org" and settings.allows_public_repositories
        if public and settings.mode == "org" and not allows_public:
            failures.append(
                f"{', '.join(public)} {'is' if len(public) == 1 else 'are'} public: a fork's pull "
                "request could run code on your hosts"
            )
        count = len(settings.repository_names)
        if failures:
            self.add(
                "repositories",
                "fail",
                "; ".join(failures),
                f"fix {key} in the stack file (public ones: make them private, drop them, or set "
                "allowsPublicRepositories if you accept the risk)",
            )
        elif public:
            self.add(
                "repositories",
                "warn",
                f"all {count} exist in {org}; public: {', '.join(public)}",
                "self-hosted runners on public repositories run code from forks' pull requests",
            )
        else:
            self.add("repositories", "pass", f"all {count} exist in {org} and are private")

    def check_group(self) -> None:
        settings = self.settings
        group = find_group(self.github, settings)
        name = settings.runner_group
        if group is None:
            self.add("runner group", "pass", f"'{name}' is free; pulumi up creates it")
            return
        if group.get("default"):
            self.add(
                "runner group",
                "fail",
                f"'{name}' is the organization's default group",
                "pick a dedicated runnerGroup name",
            )
            return
        path = f"/orgs/{settings.organization}/actions/runner-groups/{group['id']}/runners"
        foreign = [
            str(runner["name"])
            for runner in self.github.paginate(path, "runners")
            if not container_of(settings, str(runner["name"]))
        ]
        problems = []
        if group.get("visibility") != "selected":
            problems.append(f"visibility is '{group.get('visibility')}', not 'selected'")
        if foreign:
            shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            problems.append(f"it holds {len(foreign)} runner(s) not of this stack ({shown})")
        if problems:
            self.add(
                "runner group",
                "fail",
                f"'{name}' exists but is not this stack's: {'; '.join(problems)}",
                "choose another runnerGroup, or import the group into the stack "
                "(pulumi import) once it is only this stack's",
            )
        else:
            self.add(
                "runner group",
                "pass",
                f"'{name}' exists (id {group['id']}, visibility selected) with only this stack's "
                "runners",
            )

    def check_version(self) -> None:
        settings = self.settings
        org = settings.organization
        if settings.mode == "org":
            path = f"/orgs/{org}/actions/runners/downloads"
        else:
            path = f"/repos/{org}/{settings.repository_names[0]}/actions/runners/downloads"
        served: tuple[int, int, int] | None = None
        for item in self.github.get(path):
            found = _VERSION.search(str(item.get("filename", "")))
            if found:
                served = (int(found[1]), int(found[2]), int(found[3]))
        configured = tuple(int(part) for part in settings.runner_version.split("."))
        if served is None:
            self.add("runner version", "warn", f"{path} lists no Linux x64 runner to compare with")
            return
        latest = ".".join(map(str, served))
        fix = f"pulumi config set runnerVersion {latest} (the image is rebuilt on the next up)"
        if configured >= served:
            note = "" if configured == served else f" (GitHub serves {latest})"
            self.add("runner version", "pass", f"runnerVersion {settings.runner_version}{note}")
        elif configured[0] == served[0] and served[1] - configured[1] <= 1:
            self.add(
                "runner version",
                "warn",
                f"runnerVersion {settings.runner_version} is behind {latest}; GitHub refuses it "
                "about 30 days after the newer release",
                fix,
            )
        else:
            self.add(
                "runner version",
                "fail",
                f"runnerVersion {settings.runner_version} is at least two releases behind "
                f"{latest}: past GitHub's deprecation window",
                fix,
            )

    # ------------------------------------------------------------------ Docker
    def check_docker(self) -> None:
        settings = self.settings
        try:
            client = docker_client(settings)
        except DockerError as error:
            self.add(
                "docker host",
                "fail",
                str(error),
                "start Docker there, or fix dockerHost (unix://, ssh://user@host, tcp://host:2376)",
            )
            self.add("image", "skip", "skipped: no Docker host")
            return
        self.add("docker host", "pass", f"{settings.docker_host or 'local Docker'} answers")
        if settings.image:
            try:
                client.images.get(settings.image)
            except Exception:
                self.add(
                    "image",
                    "fail",
                    f"image {settings.image} is not on the Docker host",
                    f"docker pull {settings.image} on that host, or clear `image` to build docker/",
                )
                return
            self.add("image", "pass", f"image {settings.image} is present")
            return
        dockerfile = self.project_dir / "docker" / "Dockerfile"
        if dockerfile.is_file():
            self.add(
                "image",
                "pass",
                f"buildable: pulumi up builds docker/ on {settings.runner_base_image}",
            )
        else:
            self.add(
                "image",
                "fail",
                "image is empty and docker/Dockerfile is missing, so nothing can be built",
                "restore docker/ from the project, or set `image` to a prebuilt runner image",
            )
