"""The installed `runnerctl` console script behaves as the README says (CI installs it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def runnerctl() -> str:
    found = shutil.which("runnerctl") or shutil.which(
        "runnerctl", path=str(Path(sys.executable).parent)
    )
    assert found, "runnerctl is not installed: run `pip install -e .` (bash .ci/run does)"
    return found


def test_help_lists_every_command() -> None:
    result = subprocess.run([runnerctl(), "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for command in ("status", "doctor", "reap", "rollback", "rollforward"):
        assert command in result.stdout, f"`runnerctl --help` does not mention {command}"


def test_unknown_stack_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [runnerctl(), "status", "--stack", "nosuchstack"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2, f"expected exit 2 for an unknown stack, got {result.returncode}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown stack 'nosuchstack'" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
