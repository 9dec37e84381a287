"""Pulumi through its Automation API: select a stack in the project, up, scale to zero, destroy.

The Automation API runs the ``pulumi`` CLI found on PATH (the tests put a recording stand-in
there). A missing CLI (exit 3) or a failed command (exit 1) becomes one ``PulumiError`` line;
the engine's own output is streamed to ``on_output`` (runnerctl sends it to stderr) so the
operator sees progress.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from components.config import FleetSettings
from runnerctl.errors import PulumiError

Output = Callable[[str], None]


def _last_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    meaningful = [line.strip() for line in text if line.strip() and "code:" not in line]
    return (meaningful[-1] if meaningful else type(error).__name__)[:200]


class PulumiStack:
    """One stack of the project at ``project_dir``, selected through the Automation API."""

    def __init__(self, project_dir: Path, stack: str) -> None:
        try:
            from pulumi import automation
        except ImportError:  # pragma: no cover - pulumi is a pinned dependency
            raise PulumiError("the pulumi Python SDK is not installed") from None
        self._auto = automation
        self.name = stack
        try:
            self._stack: Any = automation.select_stack(stack_name=stack, work_dir=str(project_dir))
        except FileNotFoundError:
            raise PulumiError(
                "the pulumi CLI is not installed (rollback and rollforward run `pulumi up`); "
                "install it and log in to the stack's backend"
            ) from None
        except automation.CommandError as error:
            raise PulumiError(f"pulumi stack select {stack} failed: {_last_line(error)}") from None

    def _run(self, what: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except self._auto.CommandError as error:
            raise PulumiError(
                f"pulumi {what} on stack {self.name} failed: {_last_line(error)}", exit_code=1
            ) from None

    def up(self, on_output: Output) -> None:
        self._run("up", lambda: self._stack.up(on_output=on_output))

    def destroy(self, on_output: Output) -> None:
        self._run("destroy", lambda: self._stack.destroy(on_output=on_output))

    def scale_to_zero(self, settings: FleetSettings, on_output: Output) -> None:
        """Set the stack's runner counts to 0 in its stack file, then ``up``.

        In repo mode ``repositoryRunnerCounts`` overrides ``runnerCount`` per repository, so each
        override is zeroed too."""
        values = {"runnerCount": self._auto.ConfigValue("0")}
        if settings.mode == "repo":
            for name in settings.repository_runner_counts:
                values[f"repositoryRunnerCounts.{name}"] = self._auto.ConfigValue("0")
        self._run(
            "config set",
            lambda: self._stack.set_all_config(values, path=True),
        )
        self.up(on_output)
