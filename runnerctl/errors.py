"""Errors runnerctl turns into one line on stderr and an exit code, never a traceback.

Exit codes (shared by every command):
  0  healthy / done
  1  unhealthy, or an operation did not complete (the output says what)
  2  bad input: usage, unknown stack, stack configuration, missing credential
  3  could not ask: GitHub, Docker or Pulumi unreachable or refusing
"""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
EXIT_UNHEALTHY: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNAVAILABLE: Final = 3


class RunnerctlError(Exception):
    """A failure with a message meant for the operator and the exit code it maps to."""

    exit_code: int = EXIT_UNAVAILABLE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(RunnerctlError):
    """The operator's input is wrong: a stack, a flag, the configuration or the credential."""

    exit_code = EXIT_USAGE


class GitHubError(RunnerctlError):
    """GitHub refused or kept failing; ``status`` is the last HTTP status (0 when unreachable)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class DockerError(RunnerctlError):
    """The Docker host cannot be reached or refused a request."""


class PulumiError(RunnerctlError):
    """Pulumi is missing, or one of its commands failed."""
