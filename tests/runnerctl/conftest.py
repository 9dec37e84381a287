"""Fixtures for runnerctl's tests: a throwaway project whose stacks point at the fake GitHub.

Each test gets its own project directory with the real Pulumi.yaml and freshly written stack
files under unique stack names, so Docker containers labelled with one test's stack never show up
in another's (or in a real fleet on the same host). ``Project.run`` invokes the command line in
process and returns its exit code, stdout and stderr separately.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runnerctl.cli import app
from tests.fakes.fake_github import FakeGitHub, Runner
from tests.runnerctl.docker_fleet import fleet_containers  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[2]
ORG = "acme"
REPOSITORIES = ("coach", "mcp")
TOKEN = "ghp_runnerctl_tests_admin_token_000000"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Project:
    root: Path
    fake: FakeGitHub
    credential_file: Path
    suffix: str = field(default_factory=lambda: secrets.token_hex(3))

    @property
    def org_stack(self) -> str:
        return f"org{self.suffix}"

    @property
    def repo_stack(self) -> str:
        return f"repo{self.suffix}"

    def prefix(self, stack: str) -> str:
        return f"gha-{stack}"

    def write_stack(self, stack: str, **config: Any) -> str:
        values = {f"runner-fleet:{key}": value for key, value in config.items()}
        (self.root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": values}))
        return stack

    def write_org_stack(self, **overrides: Any) -> str:
        config: dict[str, Any] = {
            "mode": "org",
            "organization": ORG,
            "githubApiUrl": self.fake.url,
            "runnerGroup": "fleet-runners",
            "allowedRepositories": list(REPOSITORIES),
            "runnerCount": 2,
            "runnerVersion": "2.329.0",
        }
        config.update(overrides)
        return self.write_stack(self.org_stack, **config)

    def write_repo_stack(self, **overrides: Any) -> str:
        config: dict[str, Any] = {
            "mode": "repo",
            "organization": ORG,
            "githubApiUrl": self.fake.url,
            "repositories": list(REPOSITORIES),
            "runnerCount": 1,
            "runnerVersion": "2.329.0",
        }
        config.update(overrides)
        return self.write_stack(self.repo_stack, **config)

    def run(self, *args: str, credential: bool = True, input: str | None = None) -> Result:
        argv = [*args, "--project-dir", str(self.root)]
        if credential:
            argv += ["--credential-file", str(self.credential_file)]
        outcome = CliRunner().invoke(app, argv, input=input)
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            raise AssertionError(
                f"expected runnerctl to exit cleanly, it raised {outcome.exception!r}\n"
                f"{outcome.stderr}"
            ) from outcome.exception
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    def add_runner(
        self,
        name: str,
        *,
        online: bool = True,
        busy: bool = False,
        group_id: int | None = None,
        repository: str | None = None,
    ) -> Runner:
        """A runner registered under an exact name (as a fleet container names them)."""
        fake = self.fake
        if repository is None:
            scope = fake.scope_of(org=ORG)
            group = group_id if group_id is not None else self.group_id()
        else:
            scope = fake.scope_of(repository=f"{ORG}/{repository}")
            group = 1
        runner, _credential = fake.create_runner(scope, name, group, ["self-hosted"], True)
        with fake.lock:
            runner.status = "online" if online else "offline"
            if busy:
                runner.busy = True
                runner.jobs_taken = 1
        return runner

    def group_id(self) -> int:
        with self.fake.lock:
            for group in self.fake.org(ORG).groups.values():
                if group.name == "fleet-runners":
                    return group.id
        return 1

    def add_group(self, repositories: tuple[str, ...] = REPOSITORIES, **options: Any) -> int:
        group = self.fake.add_runner_group(
            ORG,
            "fleet-runners",
            visibility=options.pop("visibility", "selected"),
            selected_repositories=[f"{ORG}/{name}" for name in repositories],
            **options,
        )
        return group.id


@pytest.fixture
def project(tmp_path: Path, fake_github: FakeGitHub) -> Iterator[Project]:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copyfile(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text("FROM scratch\n")
    fake_github.add_org(ORG)
    for name in REPOSITORIES:
        fake_github.add_repo(ORG, name, private=True)
    fake_github.add_token(TOKEN, scopes=["admin:org", "repo"])
    credential = tmp_path / "credential"
    credential.write_text(TOKEN + "\n")
    credential.chmod(0o600)
    yield Project(root, fake_github, credential)


@pytest.fixture
def no_pulumi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH on which no `pulumi` executable exists, and no credential variable."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("RUNNERCTL_CREDENTIAL_FILE", raising=False)
