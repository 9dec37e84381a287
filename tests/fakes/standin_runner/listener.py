#!/usr/bin/env python3
"""Stand-in for the actions runner's listener (``bin/Runner.Listener`` in the runner's directory).

The test base image installs this file as ``/home/runner/bin/Runner.Listener``, next to the
``config.sh`` and ``run.sh`` wrappers, so the product's entrypoint drives it exactly as it would
drive the real runner: same flags, same ``ACTIONS_RUNNER_INPUT_<NAME>`` variables, same files
(``.runner``, ``.credentials``), same exit codes and the same log phrases. Instead of GitHub's
private broker it speaks the small ``/_fake/runner/...`` protocol of ``tests/fakes/PROTOCOL.md`` to
the fake GitHub.

Commands: ``configure`` (config.sh), ``remove`` (config.sh remove), ``run`` (run.sh, the default).
Signals: SIGTERM or SIGINT while idle deletes the session and exits 0; while a job runs, the job's
process group is stopped, the job is reported ``cancelled`` and the listener exits 0.

Exit codes, as the real runner's: 0 done, 1 terminated with an error (the message says which input
or answer was wrong), 2 retryable (the server could not be reached), 5 session conflict.

Standard library only, Python 3.11: the image ships python3-minimal plus its standard library and
nothing else. Tokens are never printed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Final, NoReturn

VERSION: Final = "2.0.0-standin"

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_RETRYABLE: Final = 2
EXIT_SESSION_CONFLICT: Final = 5

ENV_PREFIX: Final = "ACTIONS_RUNNER_INPUT_"

#: Flags that take a value, per command; and flags that are switches. Names are lower case.
VALUE_ARGS: Final[dict[str, frozenset[str]]] = {
    "configure": frozenset({"url", "token", "name", "labels", "runnergroup", "work"}),
    "remove": frozenset({"token"}),
    "run": frozenset({"jitconfig"}),
}
SWITCH_ARGS: Final[dict[str, frozenset[str]]] = {
    "configure": frozenset(
        {"unattended", "replace", "ephemeral", "disableupdate", "no-default-labels", "help"}
    ),
    "remove": frozenset({"unattended", "help"}),
    "run": frozenset({"help", "once"}),
}

DEFAULT_RUNNER_GROUP: Final = "Default"
DEFAULT_WORK_FOLDER: Final = "_work"
OUTPUT_LIMIT_BYTES: Final = 64 * 1024

#: Tunables for tests and benchmarks; none of them is part of the real runner's contract.
POLL_SECONDS_ENV: Final = "STANDIN_POLL_SECONDS"
CONNECT_ATTEMPTS_ENV: Final = "STANDIN_CONNECT_ATTEMPTS"
CANCEL_GRACE_ENV: Final = "STANDIN_CANCEL_GRACE_SECONDS"


class RunnerError(Exception):
    """An error that ends the listener with ``exit_code`` after printing ``message``."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ServerUnreachable(RunnerError):
    """The server did not answer (connection refused, reset, timeout): worth retrying later."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_RETRYABLE)


class StopRequested(Exception):
    """Raised from the signal handler while the listener is idle: leave the poll at once."""


# --- command line -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandLine:
    """A parsed command: its name, the valued flags and the switches that were set."""

    command: str
    values: dict[str, str] = field(default_factory=dict)
    switches: frozenset[str] = frozenset()

    def value(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def switch(self, name: str) -> bool:
        return name in self.switches


def env_name(flag: str) -> str:
    """The ``ACTIONS_RUNNER_INPUT_<NAME>`` variable that stands for ``--<flag>``."""
    return ENV_PREFIX + flag.replace("-", "_").upper()


def parse_command_line(argv: list[str], environ: dict[str, str]) -> CommandLine:
    """Parse ``[command] --flag value --switch ...`` as the real runner does.

    Flags are case-insensitive. A flag missing from argv is taken from
    ``ACTIONS_RUNNER_INPUT_<NAME>`` when that variable is set; switches read from the environment
    must be 'true' or 'false'.
    Raises RunnerError naming every unknown or malformed argument.
    """
    args = list(argv)
    command = "run"
    if args and not args[0].startswith("-"):
        command = args.pop(0).lower()
    if command not in VALUE_ARGS:
        raise RunnerError(
            f"Unknown command '{command}': use 'configure', 'remove' or 'run' "
            "(config.sh, config.sh remove, run.sh)."
        )
    valued, switches_allowed = VALUE_ARGS[command], SWITCH_ARGS[command]
    values: dict[str, str] = {}
    switches: set[str] = set()
    unknown: list[str] = []
    stray_values = 0
    index = 0
    while index < len(args):
        raw = args[index]
        index += 1
        name = raw[2:].lower() if raw.startswith("--") else ""
        if name in valued:
            if index >= len(args) or args[index].startswith("--"):
                raise RunnerError(f"Missing value for '--{name}': give it as '--{name} VALUE'.")
            values[name] = args[index]
            index += 1
        elif name in switches_allowed:
            switches.add(name)
        elif name:
            # '--token=VALUE' is not the real runner's syntax either; name it without the value.
            flag, equals, _ = name.partition("=")
            unknown.append(f"--{flag}{'=...' if equals else ''}")
        else:
            stray_values += 1  # Never echoed: it may be a token given to the wrong flag.
    if unknown or stray_values:
        found = [*unknown, *([f"{stray_values} unexpected value(s)"] if stray_values else [])]
        raise RunnerError(
            f"Unrecognized command-line input arguments for '{command}': {', '.join(found)}. "
            f"Valid: {', '.join('--' + n for n in sorted(valued | switches_allowed))}."
        )
    for name in valued:
        if name not in values and environ.get(env_name(name)):
            values[name] = environ[env_name(name)]
    for name in switches_allowed:
        text = environ.get(env_name(name))
        if name in switches or text is None or text == "":
            continue
        if text.lower() == "true":
            switches.add(name)
        elif text.lower() != "false":
            raise RunnerError(f"{env_name(name)} must be 'true' or 'false', not '{text}'.")
    return CommandLine(command, values, frozenset(switches))


def scrub_inputs_from_environment() -> None:
    """Forget every ACTIONS_RUNNER_INPUT_* variable so jobs never inherit a token or JIT config."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        del os.environ[name]


# --- output -------------------------------------------------------------------------------------


def say(line: str = "") -> None:
    print(line, flush=True)


def say_at(line: str) -> None:
    """A line with the real runner's timestamp prefix, e.g. '2025-01-01 10:00:00Z: Listening...'."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    say(f"{stamp}: {line}")


def fail(error: RunnerError) -> NoReturn:
    print(f"Error: {error}", file=sys.stderr, flush=True)
    raise SystemExit(error.exit_code)


# --- HTTP to the fake ---------------------------------------------------------------------------


def server_base(url: str, what: str) -> str:
    """``scheme://host:port`` of ``url``; RunnerError naming ``what`` when it is not an http URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RunnerError(
            f"{what} must be an http(s) URL such as https://github.com/ORG, not '{url}'."
        )
    return f"{parts.scheme}://{parts.netloc}"


def request(
    method: str,
    url: str,
    *,
    bearer: str | None = None,
    body: dict[str, Any] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """One HTTP call; returns (status, decoded JSON or None). Raises ServerUnreachable."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json", "User-Agent": f"standin-runner/{VERSION}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    call = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(call, timeout=timeout) as answer:
            status, payload = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise ServerUnreachable(f"Cannot reach {method} {url}: {reason}") from None
    if not payload:
        return status, None
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, None


# --- settings files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the runner needs to run: its registration (.runner) and its token (.credentials)."""

    runner: dict[str, Any]
    token: str

    @property
    def server_url(self) -> str:
        return server_base(str(self.runner.get("serverUrl", "")), "serverUrl in the settings")

    @property
    def name(self) -> str:
        return str(self.runner.get("agentName", "runner"))

    @property
    def ephemeral(self) -> bool:
        return bool(self.runner.get("ephemeral", False))


def runner_root() -> Path:
    """The runner's directory: the parent of bin/, where .runner and .credentials live."""
    return Path(os.path.abspath(__file__)).parent.parent


def write_private(path: Path, content: dict[str, Any]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(content, handle, indent=2)


def token_of(credentials: Any, where: str) -> str:
    token = credentials.get("data", {}).get("token") if isinstance(credentials, dict) else None
    if not isinstance(token, str) or not token:
        raise RunnerError(f"{where} holds no runner token (expected data.token).")
    return token


def settings_from_files(root: Path) -> Settings:
    runner_file, credentials_file = root / ".runner", root / ".credentials"
    if not runner_file.is_file() or not credentials_file.is_file():
        raise RunnerError(
            "Not configured. Run config.sh to configure the runner (or use --jitconfig)."
        )
    try:
        runner = json.loads(runner_file.read_text())
        credentials = json.loads(credentials_file.read_text())
    except (OSError, ValueError) as error:
        raise RunnerError(f"Cannot read the runner settings in {root}: {error}") from None
    if not isinstance(runner, dict):
        raise RunnerError(f"{runner_file} is not a JSON object; run config.sh again.")
    return Settings(runner, token_of(credentials, str(credentials_file)))


def settings_from_jitconfig(blob: str) -> Settings:
    """Decode a JIT config: base64 of a JSON object whose values are base64-encoded files."""
    invalid = RunnerError(
        "--jitconfig (ACTIONS_RUNNER_INPUT_JITCONFIG) is not a valid encoded JIT configuration: "
        "pass encoded_jit_config from generate-jitconfig unchanged."
    )
    try:
        files = json.loads(base64.b64decode(blob, validate=True))
        runner = json.loads(base64.b64decode(files[".runner"]))
        credentials = json.loads(base64.b64decode(files[".credentials"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid from None
    if not isinstance(runner, dict):
        raise invalid
    return Settings(runner, token_of(credentials, "The JIT configuration's .credentials"))


# --- configure and remove -----------------------------------------------------------------------


def default_labels() -> list[str]:
    machine = platform.machine().lower()
    arch = {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64"}.get(
        machine, "X64"
    )
    return ["self-hosted", "Linux", arch]


def configure(line: CommandLine, root: Path) -> int:
    if line.switch("help"):
        say(CONFIGURE_HELP)
        return EXIT_OK
    if (root / ".runner").exists():
        raise RunnerError(
            "Cannot configure the runner because it is already configured. "
            "To reconfigure the runner, run './config.sh remove' first."
        )
    missing = [f"--{name}" for name in ("url", "token") if not line.value(name)]
    if missing:
        raise RunnerError(
            f"Missing {' and '.join(missing)}: the stand-in runner never prompts; "
            f"pass them as flags or as {', '.join(env_name(m[2:]) for m in missing)}."
        )
    url = str(line.value("url"))
    base = server_base(url, "--url")
    # Like the real runner, only the custom labels travel; the server adds the default ones
    # (self-hosted, OS, architecture) unless no_default_labels says otherwise.
    labels = [label.strip() for label in (line.value("labels") or "").split(",") if label.strip()]
    if not labels and line.switch("no-default-labels"):
        raise RunnerError(
            "--no-default-labels needs --labels: a runner must have at least one label."
        )
    name = line.value("name") or socket.gethostname()
    work = line.value("work") or DEFAULT_WORK_FOLDER
    say("# Runner Registration")
    say()
    status, answer = request(
        "POST",
        f"{base}/_fake/runner/register",
        body={
            "url": url,
            "token": line.value("token"),
            "name": name,
            "labels": labels,
            "runner_group": line.value("runnergroup") or DEFAULT_RUNNER_GROUP,
            "work": work,
            "ephemeral": line.switch("ephemeral"),
            "replace": line.switch("replace"),
            "no_default_labels": line.switch("no-default-labels"),
        },
    )
    if status == 401:
        raise RunnerError(
            "Http response code: Unauthorized: the registration token is invalid or expired."
        )
    if status == 409:
        raise RunnerError(
            f"A runner exists with the same name '{name}': pass --replace to take it over."
        )
    if status != 201 or not isinstance(answer, dict):
        raise RunnerError(f"Registration failed: the server answered {status}.")
    say("√ Connected to GitHub")
    say()
    runner = dict(answer.get(".runner") or {})
    credentials = answer.get(".credentials")
    token_of(credentials, "The registration answer's .credentials")
    if not isinstance(credentials, dict):
        raise RunnerError("The registration answer holds no .credentials object.")
    runner.setdefault("workFolder", work)
    runner["disableUpdate"] = line.switch("disableupdate")
    write_private(root / ".credentials", credentials)
    write_private(root / ".runner", runner)
    say("√ Runner successfully added")
    say("√ Runner connection is good")
    say()
    say("# Runner settings")
    say()
    say("√ Settings Saved.")
    return EXIT_OK


def remove(line: CommandLine, root: Path) -> int:
    if line.switch("help"):
        say(REMOVE_HELP)
        return EXIT_OK
    runner_file = root / ".runner"
    if not runner_file.exists():
        say("The runner is not configured; there is nothing to remove.")
        return EXIT_OK
    token = line.value("token")
    if not token:
        raise RunnerError(
            f"Missing --token: pass a remove token as '--token' or {env_name('token')}."
        )
    try:
        runner = json.loads(runner_file.read_text())
        base = server_base(str(runner["serverUrl"]), f"serverUrl in {runner_file}")
        agent_id = runner["agentId"]
    except (OSError, ValueError, KeyError, TypeError):
        raise RunnerError(
            f"{runner_file} is unreadable; delete .runner and .credentials by hand."
        ) from None
    say("# Runner removal")
    say()
    status, _ = request(
        "POST", f"{base}/_fake/runner/remove", body={"token": token, "agent_id": agent_id}
    )
    if status == 401:
        raise RunnerError(
            "Http response code: Unauthorized: the remove token is invalid or expired."
        )
    if status not in (200, 204):
        raise RunnerError(f"Removal failed: the server answered {status}.")
    say("√ Runner removed successfully")
    for name in (".credentials", ".runner"):
        (root / name).unlink(missing_ok=True)
        say(f"√ Removed {name}")
    return EXIT_OK


# --- run ----------------------------------------------------------------------------------------


def env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "")
    try:
        return float(text) if text else default
    except ValueError:
        raise RunnerError(f"{name} must be a number of seconds, not '{text}'.") from None


class Listener:
    """One session with the server: poll for jobs, run each, report it, stop cleanly on signals."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings = settings
        self.root = root
        self.base = settings.server_url
        self.poll_seconds = env_number(POLL_SECONDS_ENV, 20.0)
        self.connect_attempts = max(1, int(env_number(CONNECT_ATTEMPTS_ENV, 3)))
        self.cancel_grace = env_number(CANCEL_GRACE_ENV, 5.0)
        self.idle = False
        self.stop_requested = False
        self.job_process: subprocess.Popen[bytes] | None = None

    # Signals ------------------------------------------------------------------------------------

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_requested = True
        if self.job_process is not None:
            self.signal_job(signal.SIGTERM)
        elif self.idle:
            raise StopRequested

    def signal_job(self, signum: int) -> None:
        process = self.job_process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    # Calls --------------------------------------------------------------------------------------

    def call(self, method: str, path: str, timeout: float = 30.0, **body: Any) -> tuple[int, Any]:
        return request(
            method,
            self.base + path,
            bearer=self.settings.token,
            body=body or None,
            timeout=timeout,
        )

    def open_session(self) -> None:
        for attempt in range(1, self.connect_attempts + 1):
            try:
                status, _ = self.call("POST", "/_fake/runner/sessions")
                break
            except ServerUnreachable:
                if attempt == self.connect_attempts:
                    raise
                time.sleep(min(2.0 ** (attempt - 1), 5.0))
        if status == 401:
            raise RunnerError(
                "Failed to create a session: the runner registration was not found on the server; "
                "configure the runner again."
            )
        if status == 409:
            raise RunnerError(
                "A session for this runner already exists (another listener runs with these "
                "settings).",
                EXIT_SESSION_CONFLICT,
            )
        if status != 201:
            raise RunnerError(
                f"Failed to create a session: the server answered {status}.", EXIT_RETRYABLE
            )

    def close_session(self) -> None:
        try:
            self.call("DELETE", "/_fake/runner/sessions", timeout=10.0)
        except RunnerError:
            pass  # Best effort, as the real runner: the server drops stale sessions on its own.

    def next_job(self) -> dict[str, Any] | None:
        """Long-poll once. None when the wait ended without a job."""
        wait = self.poll_seconds
        failures = 0
        while True:
            try:
                status, answer = self.call(
                    "GET", f"/_fake/runner/jobs/next?wait={wait:g}", timeout=wait + 15.0
                )
            except ServerUnreachable:
                status, answer = 0, None
            if status == 200 and isinstance(answer, dict):
                return answer
            if status == 204:
                return None
            if status in (401, 404):
                raise RunnerError(
                    "The runner registration was deleted from the server while listening."
                )
            if status == 409:
                raise RunnerError(
                    "The server no longer knows this runner's session (another listener took it).",
                    EXIT_SESSION_CONFLICT,
                )
            failures += 1
            if failures >= self.connect_attempts:
                raise ServerUnreachable(
                    f"Polling for jobs failed {failures} times in a row "
                    f"(last status {status or 'none'})."
                )
            time.sleep(min(2.0**failures, 5.0))

    # Jobs ---------------------------------------------------------------------------------------

    def work_folder(self) -> Path:
        work = Path(str(self.settings.runner.get("workFolder") or DEFAULT_WORK_FOLDER))
        return work if work.is_absolute() else self.root / work

    def job_environment(self, job: dict[str, Any], workspace: Path, temp: Path) -> dict[str, str]:
        repository = str(job.get("repository", ""))
        owner = repository.split("/", 1)[0]
        github_url = str(self.settings.runner.get("gitHubUrl") or self.base)
        environment = dict(os.environ)
        environment.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_REPOSITORY": repository,
                "GITHUB_REPOSITORY_OWNER": owner,
                "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_RUN_ID": str(job.get("run_id", "")),
                "GITHUB_JOB": str(job.get("name") or job.get("job_id", "")),
                "GITHUB_SERVER_URL": server_base(github_url, "gitHubUrl in the settings"),
                "RUNNER_NAME": self.settings.name,
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": default_labels()[2],
                "RUNNER_ENVIRONMENT": "self-hosted",
                "RUNNER_TEMP": str(temp),
                "RUNNER_TOOL_CACHE": str(self.work_folder() / "_tool"),
                "RUNNER_WORKSPACE": str(workspace.parent),
            }
        )
        return environment

    def run_job(self, job: dict[str, Any]) -> str:
        """Run the job's script with bash in its workspace, report it, return the conclusion."""
        job_id = job.get("job_id")
        display = str(job.get("name") or f"job {job_id}")
        repository = str(job.get("repository", ""))
        repo_name = repository.rsplit("/", 1)[-1] or "workspace"
        work = self.work_folder()
        workspace = work / repo_name / repo_name
        temp = work / "_temp"
        workspace.mkdir(parents=True, exist_ok=True)
        temp.mkdir(parents=True, exist_ok=True)
        script = temp / f"{uuid.uuid4()}.sh"
        log = temp / f"{uuid.uuid4()}.log"
        script.write_text(str(job.get("script", "")))
        say_at(f"Running job: {display}")
        with log.open("w+b") as output:
            self.job_process = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=workspace,
                env=self.job_environment(job, workspace, temp),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            exit_code = self.wait_for_job()
            output.seek(max(0, output.seek(0, os.SEEK_END) - OUTPUT_LIMIT_BYTES))
            text = output.read().decode("utf-8", errors="replace")
        self.job_process = None
        for leftover in (script, log):
            leftover.unlink(missing_ok=True)
        if self.stop_requested:
            conclusion, result = "cancelled", "Canceled"
        elif exit_code == 0:
            conclusion, result = "success", "Succeeded"
        else:
            conclusion, result = "failure", "Failed"
        try:
            status, _ = self.call(
                "POST",
                f"/_fake/runner/jobs/{job_id}/result",
                conclusion=conclusion,
                exit_code=exit_code,
                output=text,
            )
        except ServerUnreachable as error:
            raise ServerUnreachable(f"Could not report the result of {display}: {error}") from None
        if status not in (200, 201, 204):
            raise RunnerError(f"The server refused the result of {display}: status {status}.")
        say_at(f"Job {display} completed with result: {result}")
        return conclusion

    def wait_for_job(self) -> int:
        """Wait for the job; once a stop is requested, escalate to SIGKILL after the grace time."""
        process = self.job_process
        if process is None:
            raise RunnerError("Internal error: no job process to wait for.")
        stopping_since: float | None = None
        while True:
            try:
                code = process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if not self.stop_requested:
                continue
            if stopping_since is None:
                stopping_since = time.monotonic()
                self.signal_job(signal.SIGTERM)
            elif time.monotonic() - stopping_since > self.cancel_grace:
                self.signal_job(signal.SIGKILL)
        # Whatever the job left running in its group goes with it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return 128 - code if code < 0 else code

    # Main loop ----------------------------------------------------------------------------------

    def serve(self) -> int:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        try:
            self.open_session()
            say("√ Connected to GitHub")
            say()
            say(f"Current runner version: '{VERSION}'")
            say_at("Listening for Jobs")
            while not self.stop_requested:
                self.idle = True
                if self.stop_requested:
                    raise StopRequested
                job = self.next_job()
                self.idle = False
                if job is None:
                    continue
                conclusion = self.run_job(job)
                if self.settings.ephemeral or conclusion == "cancelled":
                    break
        except StopRequested:
            pass
        finally:
            self.idle = False
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        if self.stop_requested:
            say("Exiting...")
        self.close_session()
        return EXIT_OK


def run(line: CommandLine, root: Path) -> int:
    if line.switch("help"):
        say(RUN_HELP)
        return EXIT_OK
    jitconfig = line.value("jitconfig")
    settings = settings_from_jitconfig(jitconfig) if jitconfig else settings_from_files(root)
    return Listener(settings, root).serve()


CONFIGURE_HELP: Final = """\
Stand-in runner: config.sh [--url URL --token TOKEN] [--name NAME] [--labels a,b]
  [--runnergroup GROUP] [--work DIR] [--ephemeral] [--unattended] [--replace]
  [--disableupdate] [--no-default-labels]
Every flag may also be given as ACTIONS_RUNNER_INPUT_<NAME> (e.g. ACTIONS_RUNNER_INPUT_TOKEN)."""
REMOVE_HELP: Final = "Stand-in runner: config.sh remove --token TOKEN"
RUN_HELP: Final = "Stand-in runner: run.sh [--jitconfig BASE64] (or ACTIONS_RUNNER_INPUT_JITCONFIG)"


def main(argv: list[str], root: Path | None = None) -> int:
    """Run one command; ``root`` (the runner's directory) defaults to the parent of bin/."""
    if any(arg.lower() == "--version" for arg in argv):
        say(VERSION)
        return EXIT_OK
    environ = dict(os.environ)
    scrub_inputs_from_environment()
    try:
        line = parse_command_line(argv, environ)
        root = root or runner_root()
        handler = {"configure": configure, "remove": remove, "run": run}[line.command]
        return handler(line, root)
    except RunnerError as error:
        fail(error)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
