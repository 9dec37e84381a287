"""The fleet-image contract (components/contract.py) against what docker/entrypoint.sh really does.

Static checks, no Docker: the entrypoint reads exactly the documented FLEET_* variables, defaults to
the documented credential path, documents and uses exactly the documented exit codes, and never
puts a credential on a command line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.contract import CREDENTIAL_PATH, ENVIRONMENT, EXIT_CODES

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DOCKERFILE = ROOT / "docker" / "Dockerfile"


@pytest.fixture(scope="module")
def script() -> str:
    return ENTRYPOINT.read_text()


def header_lines(script: str) -> list[str]:
    """The comment block at the top of the script (after the shebang)."""
    lines = script.splitlines()[1:]
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    return header


def test_entrypoint_reads_every_documented_variable(script: str) -> None:
    read = set(re.findall(r"\$\{(FLEET_[A-Z_]+)", script))
    missing = sorted(set(ENVIRONMENT) - read)
    assert not missing, (
        f"components/contract.py documents {missing} but docker/entrypoint.sh never reads them; "
        "read them in load_settings or drop them from the contract"
    )


def test_entrypoint_mentions_no_undocumented_variable(script: str) -> None:
    mentioned = set(re.findall(r"\bFLEET_[A-Z_]+\b", script))
    undocumented = sorted(mentioned - set(ENVIRONMENT))
    assert not undocumented, (
        f"docker/entrypoint.sh uses {undocumented}, which components/contract.py does not "
        "document; add them to ENVIRONMENT or stop using them"
    )


def test_entrypoint_defaults_to_the_documented_credential_path(script: str) -> None:
    defaults = re.findall(r"\$\{FLEET_CREDENTIAL_FILE:-([^}]*)\}", script)
    assert defaults == [CREDENTIAL_PATH], (
        f"expected FLEET_CREDENTIAL_FILE to default to {CREDENTIAL_PATH} exactly once, "
        f"found defaults {defaults}"
    )


def test_entrypoint_documents_exactly_the_contract_exit_codes(script: str) -> None:
    documented: dict[int, str] = {}
    for line in header_lines(script):
        match = re.fullmatch(r"#\s+(\d+)\s{2,}(.+)", line)
        if match:
            documented[int(match.group(1))] = match.group(2).strip()
    assert documented == EXIT_CODES, (
        "the exit codes at the top of docker/entrypoint.sh must match EXIT_CODES in "
        f"components/contract.py word for word; script {documented}, contract {EXIT_CODES}"
    )


def test_entrypoint_exits_only_with_contract_codes(script: str) -> None:
    constants = {int(v) for v in re.findall(r"readonly EXIT_[A-Z_]+=(\d+)", script)}
    literal_exits = {int(v) for v in re.findall(r"\bexit (\d+)", script)}
    unknown = sorted((constants | literal_exits) - set(EXIT_CODES))
    assert not unknown, f"docker/entrypoint.sh exits with undocumented codes {unknown}"
    assert constants == set(EXIT_CODES) - {0}, (
        f"expected one EXIT_* constant per non-zero contract code {sorted(set(EXIT_CODES) - {0})}, "
        f"found {sorted(constants)}"
    )


def test_entrypoint_never_puts_a_credential_on_a_command_line(script: str) -> None:
    authorization = [line.strip() for line in script.splitlines() if "Authorization" in line]
    assert authorization == ['header = "Authorization: Bearer $bearer"'], (
        "the Authorization header may only appear in the curl config read from stdin "
        f"(never as -H in argv); found {authorization}"
    )
    assert not re.search(r"^\s*set -[a-z]*x", script, re.MULTILINE), (
        "docker/entrypoint.sh must never enable xtrace: it would print secrets"
    )
    assert "--jitconfig" not in script, (
        "the JIT config must reach the runner through ACTIONS_RUNNER_INPUT_JITCONFIG, not argv"
    )
    assert not re.search(r"--token\s+\"?\$", script), (
        "registration and remove tokens must reach config.sh through ACTIONS_RUNNER_INPUT_TOKEN"
    )


def test_dockerfile_runs_the_entrypoint_it_installs() -> None:
    dockerfile = DOCKERFILE.read_text()
    copied = re.findall(r"^COPY entrypoint\.sh (\S+)$", dockerfile, re.MULTILINE)
    entrypoints = re.findall(r'^ENTRYPOINT \["([^"]+)"\]$', dockerfile, re.MULTILINE)
    assert copied and copied == entrypoints, (
        f"the Dockerfile must COPY entrypoint.sh to the ENTRYPOINT path; copied to {copied}, "
        f"ENTRYPOINT {entrypoints}"
    )
    assert ENTRYPOINT.stat().st_mode & 0o111, "docker/entrypoint.sh must be executable"


def shell_function(script: str, name: str) -> str:
    match = re.search(rf"^{name}\(\) \{{\n(.*?)^\}}$", script, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docker/entrypoint.sh has no function {name}()"
    return match.group(1)


@pytest.mark.parametrize("name", ["supervise", "on_stop_signal"])
def test_signal_handling_never_expands_a_command_substitution(script: str, name: str) -> None:
    # Bash 5.2 can corrupt its parser when a trap fires while a $(...) is being expanded, and
    # then the stop is lost and the registration left behind. The process that holds the traps
    # must therefore never expand one.
    body = shell_function(script, name)
    assert "$(" not in body and "`" not in body, (
        f"{name}() runs in the process that takes stop signals and must not use $(...): {body}"
    )


def test_traps_are_set_only_in_the_supervisor(script: str) -> None:
    trap_lines = [line.strip() for line in script.splitlines() if re.match(r"\s*trap ", line)]
    handlers = [line for line in trap_lines if line != "trap - TERM INT"]
    assert handlers and all(
        "on_stop_signal" in line or re.fullmatch(r"trap 'EARLY_STOP=[A-Z]+' [A-Z]+", line)
        for line in handlers
    ), f"traps may only remember an early stop or call on_stop_signal: {trap_lines}"
    assert "trap 'on_stop_signal TERM' TERM" in shell_function(script, "supervise")
