"""One stack as runnerctl sees it: its files, its credential, its validated settings.

The credential is never taken from the command line. Order: ``--credential-file PATH``, then the
``RUNNERCTL_CREDENTIAL_FILE`` environment variable (a path, not the secret), then Pulumi's own
config (``pulumi config get githubCredential``) through the Automation API. Every failure is an
``InputError`` (exit 2) or a ``PulumiError`` (exit 3) with one line naming the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from components.config import ConfigError, FleetSettings, load_settings
from components.stack_files import StackFileError, read_stack_config
from runnerctl.errors import InputError, PulumiError

CREDENTIAL_ENV: Final = "RUNNERCTL_CREDENTIAL_FILE"
CREDENTIAL_KEY: Final = "githubCredential"
_HOW: Final = (
    f"pass --credential-file PATH or set {CREDENTIAL_ENV}=PATH (a file holding the token or the "
    "App's private key)"
)


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: the working directory) holding
    Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise InputError(
        f"no Pulumi.yaml in {here} or above; run runnerctl in the project or pass --project-dir"
    )


def read_credential_file(path: Path, origin: str) -> str:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise InputError(f"{origin} {path} does not exist; {_HOW}") from None
    except IsADirectoryError:
        raise InputError(f"{origin} {path} is a directory, not a credential file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not readable text"
        raise InputError(f"{origin} {path} cannot be read ({reason})") from None
    if not text:
        raise InputError(f"{origin} {path} is empty; {_HOW}")
    return text


def credential_from_pulumi(project_dir: Path, stack: str) -> str:
    """``pulumi config get githubCredential --stack <stack>``; the value travels on a pipe only."""
    try:
        from pulumi.automation import CommandError, LocalWorkspace
    except ImportError:  # pragma: no cover - pulumi is a pinned dependency
        raise PulumiError(f"the pulumi Python SDK is not installed; {_HOW}") from None
    try:
        workspace = LocalWorkspace(work_dir=str(project_dir))
        value = workspace.get_config(stack, CREDENTIAL_KEY).value
    except FileNotFoundError:
        raise InputError(f"no credential: the pulumi CLI is not installed, so {_HOW}") from None
    except CommandError as error:
        detail = (error.args[0] if error.args else "").strip().splitlines()
        last = detail[-1] if detail else "failed"
        raise InputError(
            f"pulumi config get {CREDENTIAL_KEY} --stack {stack} failed ({last[:160]}); {_HOW}"
        ) from None
    if not value.strip():
        raise InputError(f"stack '{stack}' has an empty {CREDENTIAL_KEY}; {_HOW}")
    return value.strip()


def resolve_credential(project_dir: Path, stack: str, credential_file: Path | None) -> str:
    if credential_file is not None:
        return read_credential_file(credential_file, "--credential-file")
    from_env = os.environ.get(CREDENTIAL_ENV, "").strip()
    if from_env:
        return read_credential_file(Path(from_env), CREDENTIAL_ENV)
    return credential_from_pulumi(project_dir, stack)


@dataclass(frozen=True)
class Stack:
    """A stack's validated settings plus the credential that goes with them."""

    project_dir: Path
    settings: FleetSettings

    @property
    def name(self) -> str:
        return self.settings.stack

    @property
    def credential(self) -> str:
        return self.settings.github_credential.get_secret_value()


def load_stack(project_dir: Path, stack: str, credential_file: Path | None) -> Stack:
    """Read, complete with the credential and validate one stack; InputError on any problem."""
    try:
        raw = read_stack_config(project_dir, stack)
    except StackFileError as error:
        raise InputError(str(error)) from None
    credential = resolve_credential(project_dir, stack, credential_file)
    raw["runner-fleet:githubCredential"] = credential
    try:
        settings = load_settings(stack, raw)
    except ConfigError as error:
        problems = "; ".join(str(problem) for problem in error.problems)
        raise InputError(f"stack '{stack}': {problems}") from None
    return Stack(project_dir, settings)
