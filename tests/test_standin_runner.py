"""The stand-in runner honours the real runner's contract and the fake's protocol.

Most tests run the stand-in's own files (installed into a temporary runner directory, as the base
image holds them) on the host against a live FakeGitHub; one Docker test runs the same flow inside
the test base image. Waits are bounded only so that a broken build fails instead of hanging.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import base_image as base_image_builder
from tests.fakes import standin_runner
from tests.fakes.fake_github import FakeGitHub, Job, Runner
from tests.fakes.standin_runner import listener

ORG = "acme"
REPO = "widgets"
ADMIN_TOKEN = "ghp_standin_admin_token_for_tests_only"
WAIT = 60.0  # Upper bound on any wait, so a broken runner fails the test instead of hanging it.


# --- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as github:
        github.add_org(ORG)
        github.add_repo(ORG, REPO, private=True)
        github.add_token(ADMIN_TOKEN, scopes=["admin:org", "repo"])
        yield github


@pytest.fixture
def runner_root(tmp_path: Path) -> Path:
    return standin_runner.install(tmp_path / "runner")


def host_env(root: Path, **extra: str) -> dict[str, str]:
    """A small, explicit environment: running as root on a CI host is allowed for these tests."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "RUNNER_ALLOW_RUNASROOT": "1",
        "STANDIN_POLL_SECONDS": "1",
        **extra,
    }


def api(fake: FakeGitHub, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = httpx.request(
        method,
        fake.url + path,
        json=body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept": "application/vnd.github+json"},
    )
    assert answer.status_code == 201, f"expected 201 from {method} {path}, got {answer.text}"
    return answer.json()


def registration_token(fake: FakeGitHub) -> str:
    return str(api(fake, "POST", f"/orgs/{ORG}/actions/runners/registration-token")["token"])


def remove_token(fake: FakeGitHub) -> str:
    return str(api(fake, "POST", f"/orgs/{ORG}/actions/runners/remove-token")["token"])


def jit_config(fake: FakeGitHub, name: str, labels: list[str]) -> str:
    body = {"name": name, "runner_group_id": 1, "labels": labels, "work_folder": "_work"}
    answer = api(fake, "POST", f"/orgs/{ORG}/actions/runners/generate-jitconfig", body)
    return str(answer["encoded_jit_config"])


def run_script(root: Path, script: str, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(root / script), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=WAIT)
    return process.returncode, output


def configure(fake: FakeGitHub, root: Path, *flags: str, token: str | None = None) -> str:
    process = run_script(
        root,
        "config.sh",
        "--url",
        f"{fake.url}/{ORG}",
        "--token",
        token or registration_token(fake),
        "--unattended",
        *flags,
        env=host_env(root),
    )
    code, output = finish(process)
    assert code == 0, f"expected config.sh to exit 0, got {code}:\n{output}"
    return output


def runner_named(fake: FakeGitHub, name: str) -> Runner | None:
    return next((runner for runner in fake.runners if runner.name == name), None)


def live_members_of_group(group: int) -> list[str]:
    """Processes of process group ``group`` that are not zombies, as 'pid:command' (Linux /proc)."""
    members = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat_file.read_text()
        except OSError:
            continue  # The process ended while we looked.
        command, fields = (
            text[text.index("(") + 1 : text.rindex(")")],
            text.rsplit(")", 1)[1].split(),
        )
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            members.append(f"{stat_file.parent.name}:{command}")
    return members


def wait_for(fake: FakeGitHub, what: str, predicate: Any) -> None:
    assert fake.wait_until(predicate, timeout=WAIT), f"expected {what} within {WAIT:.0f}s"


# --- command line, in process -------------------------------------------------------------------


def test_configure_accepts_every_flag_of_the_real_runner() -> None:
    line = listener.parse_command_line(
        [
            "configure",
            "--url",
            "http://127.0.0.1:1/acme",
            "--token",
            "T",
            "--name",
            "r1",
            "--labels",
            "a,b",
            "--runnergroup",
            "builders",
            "--work",
            "w",
            "--ephemeral",
            "--unattended",
            "--replace",
            "--disableupdate",
            "--no-default-labels",
        ],
        {},
    )
    assert line.values == {
        "url": "http://127.0.0.1:1/acme",
        "token": "T",
        "name": "r1",
        "labels": "a,b",
        "runnergroup": "builders",
        "work": "w",
    }, f"expected every valued flag to be parsed, got {line.values}"
    expected = {"ephemeral", "unattended", "replace", "disableupdate", "no-default-labels"}
    assert line.switches == expected, f"expected every switch to be set, got {line.switches}"


def test_flags_are_case_insensitive_like_the_real_runner() -> None:
    line = listener.parse_command_line(["configure", "--URL", "u", "--Ephemeral"], {})
    assert line.value("url") == "u", f"expected --URL to set url, got {line.values}"
    assert line.switch("ephemeral"), "expected --Ephemeral to set ephemeral"


def test_every_flag_can_come_from_actions_runner_input_variables() -> None:
    environ = {
        "ACTIONS_RUNNER_INPUT_URL": "http://127.0.0.1:1/acme",
        "ACTIONS_RUNNER_INPUT_TOKEN": "T",
        "ACTIONS_RUNNER_INPUT_NO_DEFAULT_LABELS": "true",
        "ACTIONS_RUNNER_INPUT_EPHEMERAL": "TRUE",
        "ACTIONS_RUNNER_INPUT_REPLACE": "false",
    }
    line = listener.parse_command_line(["configure"], environ)
    assert line.value("token") == "T", "expected ACTIONS_RUNNER_INPUT_TOKEN to give --token"
    assert line.switches == {"no-default-labels", "ephemeral"}, (
        f"expected 'true' variables to set switches and 'false' ones not to, got {line.switches}"
    )


def test_command_line_wins_over_the_environment() -> None:
    line = listener.parse_command_line(
        ["configure", "--name", "from-argv"], {"ACTIONS_RUNNER_INPUT_NAME": "from-env"}
    )
    assert line.value("name") == "from-argv", f"expected argv to win, got {line.value('name')}"


def test_run_is_the_default_command_and_reads_the_jit_config_variable() -> None:
    line = listener.parse_command_line([], {"ACTIONS_RUNNER_INPUT_JITCONFIG": "blob"})
    assert (line.command, line.value("jitconfig")) == ("run", "blob"), (
        f"expected 'run' with the JIT config from the environment, got {line}"
    )


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["configure", "--colour", "red"], {}, r"Unrecognized .*--colour"),
        (["configure", "--url"], {}, r"Missing value for '--url'"),
        (["deploy"], {}, r"Unknown command 'deploy'"),
        (["remove", "--ephemeral"], {}, r"Unrecognized .*'remove'.*--ephemeral"),
        (["configure"], {"ACTIONS_RUNNER_INPUT_REPLACE": "yes"}, r"REPLACE must be 'true' or"),
    ],
)
def test_bad_command_lines_are_refused_with_a_message_naming_the_input(
    argv: list[str], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(listener.RunnerError, match=message):
        listener.parse_command_line(argv, environ)


@pytest.mark.parametrize(
    "argv", [["run", "--token", "s3cr3t-value"], ["configure", "--token=s3cr3t-value"]]
)
def test_a_misplaced_token_is_never_echoed(argv: list[str]) -> None:
    with pytest.raises(listener.RunnerError) as caught:
        listener.parse_command_line(argv, {})
    assert "s3cr3t-value" not in str(caught.value), (
        f"expected the error to leave the token out, got: {caught.value}"
    )


def test_a_jit_config_decodes_to_settings_and_token() -> None:
    def encode(content: object) -> str:
        return base64.b64encode(json.dumps(content).encode()).decode()

    blob = encode(
        {
            ".runner": encode({"agentId": 7, "agentName": "r7", "serverUrl": "http://x:1"}),
            ".credentials": encode({"scheme": "OAuthAccessToken", "data": {"token": "tok"}}),
            ".credentials_rsaparams": encode({}),
        }
    )
    settings = listener.settings_from_jitconfig(blob)
    assert (settings.name, settings.token, settings.server_url) == ("r7", "tok", "http://x:1"), (
        f"expected the runner's name, token and server from the blob, got {settings}"
    )


@pytest.mark.parametrize("blob", ["not base64!", base64.b64encode(b'{"x": 1}').decode()])
def test_a_bad_jit_config_is_refused_naming_the_input(blob: str) -> None:
    with pytest.raises(listener.RunnerError, match="ACTIONS_RUNNER_INPUT_JITCONFIG"):
        listener.settings_from_jitconfig(blob)


def test_install_lays_out_the_runner_like_the_official_image(runner_root: Path) -> None:
    for relative in ("config.sh", "run.sh", "bin/Runner.Listener"):
        mode = (runner_root / relative).stat().st_mode
        assert mode & stat.S_IXUSR, f"expected {relative} to be installed executable"


# --- against the fake, on the host --------------------------------------------------------------


def test_config_then_run_takes_one_job_and_reports_it(fake: FakeGitHub, runner_root: Path) -> None:
    token = registration_token(fake)
    output = configure(
        fake, runner_root, "--name", "host-1", "--labels", "gpu", "--ephemeral", token=token
    )
    assert "√ Settings Saved." in output, f"expected the real runner's phrasing, got:\n{output}"
    assert token not in output, "expected config.sh never to print the registration token"
    for name in (".runner", ".credentials"):
        mode = stat.S_IMODE((runner_root / name).stat().st_mode)
        assert mode == 0o600, f"expected {name} to be private (0600), got {oct(mode)}"
    registered = runner_named(fake, "host-1")
    assert registered is not None, f"expected runner host-1 in the fake, got {fake.runners}"
    labels = sorted(label.name for label in registered.labels)
    assert labels == ["Linux", "X64", "gpu", "self-hosted"], f"unexpected labels {labels}"

    job = fake.queue_job(
        f"{ORG}/{REPO}", ["self-hosted", "gpu"], 'echo "hello from $RUNNER_NAME"; env; pwd'
    )
    code, output = finish(run_script(runner_root, "run.sh", env=host_env(runner_root)))

    assert code == 0, f"expected an ephemeral run.sh to exit 0 after its job, got {code}:\n{output}"
    for phrase in (
        "√ Connected to GitHub",
        "Listening for Jobs",
        "Running job:",
        "completed with result: Succeeded",
    ):
        assert phrase in output, f"expected '{phrase}' in run.sh's output:\n{output}"
    assert job.conclusion == "success", f"expected the job to succeed, got {job.as_json()}"
    assert job.exit_code == 0, f"expected exit code 0, got {job.as_json()}"
    workspace = runner_root / "_work" / REPO / REPO
    job_output = job.output or ""
    assert "hello from host-1" in job_output, f"expected RUNNER_NAME in the output: {job_output}"
    for variable in (
        f"GITHUB_REPOSITORY={ORG}/{REPO}",
        f"GITHUB_WORKSPACE={workspace}",
        f"RUNNER_TEMP={runner_root / '_work' / '_temp'}",
        "GITHUB_ACTIONS=true",
        "RUNNER_NAME=host-1",
    ):
        assert variable in job_output, f"expected {variable} in the job's environment"
    assert job_output.rstrip().endswith(str(workspace)), (
        f"expected the job to run in {workspace}, got:\n{job_output}"
    )
    assert runner_named(fake, "host-1") is None, "expected the ephemeral runner to be removed"


def test_a_jit_runner_from_the_environment_keeps_its_config_from_the_job(
    fake: FakeGitHub, runner_root: Path
) -> None:
    blob = jit_config(fake, "jit-1", ["self-hosted", "jit"])
    job = fake.queue_job(f"{ORG}/{REPO}", ["jit"], "env")
    env = host_env(runner_root, ACTIONS_RUNNER_INPUT_JITCONFIG=blob)

    code, output = finish(run_script(runner_root, "run.sh", env=env))

    assert code == 0, f"expected run.sh to exit 0, got {code}:\n{output}"
    assert job.conclusion == "success", f"expected the job to succeed, got {job.as_json()}"
    assert "ACTIONS_RUNNER_INPUT_" not in (job.output or ""), (
        "expected the job's environment to hold no ACTIONS_RUNNER_INPUT_* variable"
    )
    assert not (runner_root / ".runner").exists(), "expected a JIT runner to write no .runner"


def test_a_failing_job_is_reported_with_its_exit_code(fake: FakeGitHub, runner_root: Path) -> None:
    blob = jit_config(fake, "jit-fail", ["self-hosted"])
    job = fake.queue_job(f"{ORG}/{REPO}", ["self-hosted"], "echo about to fail; exit 3")

    code, output = finish(
        run_script(runner_root, "run.sh", "--jitconfig", blob, env=host_env(runner_root))
    )

    assert code == 0, f"expected run.sh to exit 0 after a failed job, got {code}:\n{output}"
    assert (job.conclusion, job.exit_code) == ("failure", 3), (
        f"expected conclusion failure with exit code 3, got {job.as_json()}"
    )
    assert "completed with result: Failed" in output, f"expected 'Failed' in:\n{output}"


def test_sigterm_while_idle_closes_the_session_and_exits_0(
    fake: FakeGitHub, runner_root: Path
) -> None:
    configure(fake, runner_root, "--name", "idle-1")
    process = run_script(runner_root, "run.sh", env=host_env(runner_root))
    wait_for(
        fake,
        "runner idle-1 online",
        lambda: getattr(runner_named(fake, "idle-1"), "status", None) == "online",
    )

    process.send_signal(signal.SIGTERM)
    code, output = finish(process)

    assert code == 0, f"expected exit 0 after SIGTERM while idle, got {code}:\n{output}"
    runner = runner_named(fake, "idle-1")
    assert runner is not None and runner.status == "offline", (
        f"expected the runner to stay registered and go offline, got {runner}"
    )
    assert fake.count("DELETE", r"^/_fake/runner/sessions$", 204) == 1, (
        "expected exactly one DELETE of the session"
    )


def test_sigterm_while_busy_kills_the_job_group_and_reports_cancelled(
    fake: FakeGitHub, runner_root: Path, tmp_path: Path
) -> None:
    blob = jit_config(fake, "busy-1", ["self-hosted"])
    started = tmp_path / "job-started"
    job = fake.queue_job(
        f"{ORG}/{REPO}",
        ["self-hosted"],
        f"echo $$ > {started}.tmp; mv {started}.tmp {started}; sleep 300 & sleep 300",
    )
    process = run_script(runner_root, "run.sh", "--jitconfig", blob, env=host_env(runner_root))
    wait_for(fake, "the job to start", lambda: started.exists())
    job_group = int(started.read_text())

    process.send_signal(signal.SIGTERM)
    code, output = finish(process)

    assert code == 0, f"expected exit 0 after SIGTERM while busy, got {code}:\n{output}"
    assert job.conclusion == "cancelled", f"expected the job cancelled, got {job.as_json()}"
    assert "completed with result: Canceled" in output, f"expected 'Canceled' in:\n{output}"
    survivors = live_members_of_group(job_group)
    assert survivors == [], f"expected every process of the job's group gone, found {survivors}"


def test_an_unreachable_server_exits_2_for_a_retry(runner_root: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    def encode(content: object) -> str:
        return base64.b64encode(json.dumps(content).encode()).decode()

    blob = encode(
        {
            ".runner": encode(
                {"agentId": 1, "agentName": "r", "serverUrl": f"http://127.0.0.1:{closed_port}"}
            ),
            ".credentials": encode({"data": {"token": "tok"}}),
        }
    )
    env = host_env(runner_root, STANDIN_CONNECT_ATTEMPTS="1")
    code, output = finish(run_script(runner_root, "run.sh", "--jitconfig", blob, env=env))
    assert code == 2, f"expected exit 2 (retryable) when the server is down, got {code}:\n{output}"


def test_a_bad_registration_token_exits_1_without_echoing_it(
    fake: FakeGitHub, runner_root: Path
) -> None:
    process = run_script(
        runner_root,
        "config.sh",
        "--url",
        f"{fake.url}/{ORG}",
        "--unattended",
        env=host_env(runner_root, ACTIONS_RUNNER_INPUT_TOKEN="WRONGTOKENVALUE"),
    )
    code, output = finish(process)
    assert code == 1, f"expected exit 1 for a refused token, got {code}:\n{output}"
    assert "Unauthorized" in output, f"expected the refusal to be named, got:\n{output}"
    assert "WRONGTOKENVALUE" not in output, "expected the token never to be printed"
    assert not (runner_root / ".runner").exists(), "expected no settings after a refusal"


def test_a_taken_name_needs_replace(fake: FakeGitHub, tmp_path: Path) -> None:
    first = standin_runner.install(tmp_path / "first")
    second = standin_runner.install(tmp_path / "second")
    configure(fake, first, "--name", "same")
    process = run_script(
        second,
        "config.sh",
        "--url",
        f"{fake.url}/{ORG}",
        "--token",
        registration_token(fake),
        "--name",
        "same",
        "--unattended",
        env=host_env(second),
    )
    code, output = finish(process)
    assert code == 1, f"expected exit 1 when the name is taken, got {code}:\n{output}"
    assert "--replace" in output, f"expected the message to point at --replace, got:\n{output}"

    configure(fake, second, "--name", "same", "--replace")
    assert len([r for r in fake.runners if r.name == "same"]) == 1, (
        "expected --replace to leave exactly one runner named 'same'"
    )


def test_configuring_twice_is_refused(fake: FakeGitHub, runner_root: Path) -> None:
    configure(fake, runner_root, "--name", "twice")
    process = run_script(
        runner_root,
        "config.sh",
        "--url",
        f"{fake.url}/{ORG}",
        "--token",
        registration_token(fake),
        "--unattended",
        env=host_env(runner_root),
    )
    code, output = finish(process)
    assert code == 1, f"expected exit 1 when already configured, got {code}:\n{output}"
    assert "already configured" in output, f"expected the reason, got:\n{output}"


def test_remove_deregisters_and_deletes_the_settings(fake: FakeGitHub, runner_root: Path) -> None:
    configure(fake, runner_root, "--name", "gone")
    process = run_script(
        runner_root, "config.sh", "remove", "--token", "WRONG", env=host_env(runner_root)
    )
    code, output = finish(process)
    assert code == 1, f"expected exit 1 for a bad remove token, got {code}:\n{output}"
    assert (runner_root / ".runner").exists(), "expected a refused removal to keep .runner"

    env = host_env(runner_root, ACTIONS_RUNNER_INPUT_TOKEN=remove_token(fake))
    code, output = finish(run_script(runner_root, "config.sh", "remove", env=env))
    assert code == 0, f"expected config.sh remove to exit 0, got {code}:\n{output}"
    assert runner_named(fake, "gone") is None, "expected the runner deregistered from the fake"
    leftovers = [n for n in (".runner", ".credentials") if (runner_root / n).exists()]
    assert leftovers == [], f"expected config.sh remove to delete the settings, found {leftovers}"


def test_config_refuses_root_unless_allowed(runner_root: Path, tmp_path: Path) -> None:
    shims = tmp_path / "shims"
    shims.mkdir()
    fake_id = shims / "id"
    fake_id.write_text("#!/bin/sh\necho 0\n")
    fake_id.chmod(0o755)
    env = host_env(runner_root, PATH=f"{shims}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    del env["RUNNER_ALLOW_RUNASROOT"]
    code, output = finish(run_script(runner_root, "config.sh", "--help", env=env))
    assert code == 1, f"expected config.sh to refuse root, got {code}:\n{output}"
    assert "Must not run with sudo" in output, f"expected the real runner's message:\n{output}"


def test_run_without_settings_says_how_to_configure(runner_root: Path) -> None:
    code, output = finish(run_script(runner_root, "run.sh", env=host_env(runner_root)))
    assert code == 1, f"expected exit 1 when not configured, got {code}:\n{output}"
    assert "Run config.sh" in output, f"expected a hint to run config.sh, got:\n{output}"


# --- inside the test base image -----------------------------------------------------------------


@pytest.mark.docker
def test_the_base_image_runs_config_and_run_against_the_fake(
    fake: FakeGitHub, docker_client: Any, base_image: str
) -> None:
    job: Job = fake.queue_job(
        f"{ORG}/{REPO}", ["self-hosted", "docker"], 'id -un; echo "ws=$GITHUB_WORKSPACE"'
    )
    container = docker_client.containers.run(
        base_image,
        ["bash", "-c", "./config.sh --unattended --ephemeral --labels docker && ./run.sh"],
        environment={
            "ACTIONS_RUNNER_INPUT_URL": f"{fake.url}/{ORG}",
            "ACTIONS_RUNNER_INPUT_TOKEN": registration_token(fake),
            "ACTIONS_RUNNER_INPUT_NAME": "in-docker",
            "STANDIN_POLL_SECONDS": "1",
        },
        network_mode="host",
        detach=True,
    )
    try:
        status = container.wait(timeout=WAIT)
        logs = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)

    assert status["StatusCode"] == 0, f"expected the container to exit 0, got {status}:\n{logs}"
    assert "completed with result: Succeeded" in logs, f"expected a finished job in:\n{logs}"
    assert job.conclusion == "success", f"expected the job to succeed, got {job.as_json()}"
    expected = f"runner\nws=/home/runner/_work/{REPO}/{REPO}"
    assert expected in (job.output or ""), (
        f"expected the job to run as 'runner' in the real runner's workspace, got {job.output!r}"
    )


# --- the test base image ------------------------------------------------------------------------


def test_the_rootfs_comes_from_this_machines_apt_sources_file() -> None:
    command = base_image_builder.mmdebstrap_command(Path("out.tar"))
    assert str(base_image_builder.APT_SOURCES) in command, (
        f"expected mmdebstrap to read the machine's sources file, got {command}"
    )
    assert not [arg for arg in command if "://" in arg], (
        f"expected no mirror URL in the mmdebstrap command, got {command}"
    )
    assert "--variant=minbase" in command, f"expected a minbase variant, got {command}"


def test_a_missing_sources_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(base_image_builder.BaseImageError, match="apt sources file"):
        base_image_builder.rootfs_tag(tmp_path / "no.sources")


def test_missing_mmdebstrap_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base_image_builder.shutil, "which", lambda _name: None)
    with pytest.raises(base_image_builder.BaseImageError, match="mmdebstrap is not installed"):
        base_image_builder._build_rootfs(None, "rootfs:tag", Path("x.sources"), print)


def test_the_image_tag_follows_the_standin_sources(tmp_path: Path) -> None:
    contexts = [tmp_path / name for name in ("one", "two", "three")]
    for context in contexts:
        context.mkdir()
        base_image_builder.stage_context(context)
    (contexts[2] / "runner" / "run.sh").write_text("#!/bin/sh\necho changed\n")
    one, two, three = (base_image_builder.image_tag("rootfs:x", c) for c in contexts)
    assert one == two, f"expected the same inputs to give the same tag, got {one} and {two}"
    assert one != three, f"expected a changed stand-in file to change the tag, both are {one}"
    assert base_image_builder.image_tag("rootfs:y", contexts[0]) != one, (
        "expected a different root filesystem to change the tag"
    )


@pytest.mark.docker
def test_the_base_image_is_laid_out_like_the_official_runner_image(
    docker_client: Any, base_image: str
) -> None:
    config = docker_client.images.get(base_image).attrs["Config"]
    assert (config["User"], config["WorkingDir"]) == ("runner", "/home/runner"), (
        f"expected USER runner and WORKDIR /home/runner, got {config['User']}, "
        f"{config['WorkingDir']}"
    )
    assert not config.get("Entrypoint"), f"expected no ENTRYPOINT, got {config['Entrypoint']}"
    for variable in ("RUNNER_MANUALLY_TRAP_SIG=1", "ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1"):
        assert variable in config["Env"], f"expected {variable} in the image, got {config['Env']}"

    probe = (
        "id; stat -c '%U %n' config.sh run.sh bin bin/Runner.Listener; "
        "sudo -n grep -x '%sudo ALL=(ALL:ALL) NOPASSWD:ALL' /etc/sudoers; "
        "for tool in bash curl jq git unzip sudo openssl ps python3; do "
        "command -v $tool >/dev/null || echo missing $tool; done"
    )
    output = docker_client.containers.run(
        base_image, ["bash", "-c", probe], network_mode="none", remove=True
    ).decode()
    assert "uid=1001(runner)" in output, f"expected user runner with uid 1001:\n{output}"
    assert "27(sudo)" in output and "123(docker)" in output, (
        f"expected runner in groups sudo and docker (gid 123):\n{output}"
    )
    for name in ("config.sh", "run.sh", "bin", "bin/Runner.Listener"):
        assert f"runner {name}\n" in output, f"expected {name} owned by runner:\n{output}"
    assert "%sudo ALL=(ALL:ALL) NOPASSWD:ALL" in output, (
        f"expected passwordless sudo for the sudo group, readable with sudo -n:\n{output}"
    )
    assert "missing" not in output, f"expected every tool of the image present:\n{output}"
