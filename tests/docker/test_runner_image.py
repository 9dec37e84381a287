"""The runner image in real Docker against the fake GitHub: registration, one job, stop, secrecy.

Each container is created from the settings the RunnerFleet component declares (see
tests/docker/fleet_settings.py; host networking and no automatic restart are the only
differences), on ``docker/Dockerfile`` built over the registry-free test base image. The fake
GitHub listens on 127.0.0.1; the stand-in runner in the base image talks to it like the real one.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components.contract import EXIT_CODES
from tests.docker.fleet_settings import fleet_container
from tests.docker.runner_harness import (
    RunnerContainer,
    online_runner,
    runners_named,
    wait_for,
)
from tests.fakes.fake_github import FakeGitHub

pytestmark = pytest.mark.docker

ORG = "acme"
ALLOWED_REPO = f"{ORG}/allowed"
OTHER_REPO = f"{ORG}/outsider"
LABELS = ("self-hosted", "Linux", "X64", "fleet")
APP_ID = 4242
INSTALLATION_ID = 777
EXIT_REFUSED = next(code for code, text in EXIT_CODES.items() if "401" in text)
EXIT_BAD_SETTING = next(code for code, text in EXIT_CODES.items() if "setting" in text)
EXIT_BAD_CREDENTIAL = next(code for code, text in EXIT_CODES.items() if "credential file" in text)


def unrelated_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


class World:
    """The fake organization every test uses: two private repos, a group allowing only one."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        fake.add_org(ORG)
        fake.add_repo(ORG, "allowed")
        fake.add_repo(ORG, "outsider")
        self.group = fake.add_runner_group(
            ORG, "fleet", visibility="selected", selected_repositories=[ALLOWED_REPO]
        )
        self.token = "ghp_" + secrets.token_hex(18)
        fake.add_token(self.token, scopes=["admin:org"])
        self.private_key = fake.add_app(
            APP_ID,
            INSTALLATION_ID,
            ORG,
            {"organization_self_hosted_runners": "write", "metadata": "read"},
        )


@pytest.fixture
def world(fake_github: FakeGitHub) -> World:
    return World(fake_github)


StartRunner = Callable[..., RunnerContainer]


@pytest.fixture
def runner(docker_client: Any, runner_image: str, world: World) -> Iterator[StartRunner]:
    """Creates runner containers as the fleet would; removes them all afterwards."""
    made: list[RunnerContainer] = []

    def create(
        auth: str = "token",
        credential: str | None = None,
        registration: str = "jit",
        job_sudo: bool = False,
        mode: str = "org",
        env_overrides: dict[str, str] | None = None,
        start: bool = True,
    ) -> RunnerContainer:
        if credential is None:
            credential = world.token if auth == "token" else world.private_key
        settings = fleet_container(
            runner_image,
            api_url=world.fake.url,
            organization=ORG,
            auth=auth,
            name_prefix=f"fleettest-{secrets.token_hex(3)}",
            labels=LABELS,
            registration=registration,
            runner_group_id=world.group.id,
            runner_group_name=world.group.name,
            app_id=APP_ID,
            app_installation_id=INSTALLATION_ID,
            job_sudo=job_sudo,
            mode=mode,
            repository="allowed" if mode == "repo" else None,
        )
        settings.create_kwargs["environment"].update(env_overrides or {})
        container = RunnerContainer(docker_client, settings, credential)
        made.append(container)
        if start:
            container.start()
        return container

    yield create
    for container in made:
        container.remove()


def assert_no_registrations_left(world: World, container: RunnerContainer) -> None:
    left = [(r.name, r.status) for r in runners_named(world.fake, container.name_prefix)]
    assert not left, f"expected no registration of {container.name_prefix}-* left, found {left}"


def test_jit_runner_joins_its_group_and_takes_only_allowlisted_jobs(
    world: World, runner: StartRunner
) -> None:
    outsider_job = world.fake.queue_job(OTHER_REPO, list(LABELS), "echo outsider")
    container = runner()
    registered = online_runner(world.fake, container)
    assert registered.group_id == world.group.id, (
        f"expected the runner in group {world.group.id} (FLEET_RUNNER_GROUP_ID), "
        f"it is in {registered.group_id}"
    )
    assert sorted(label.name for label in registered.labels) == sorted(LABELS), (
        f"expected exactly the labels {sorted(LABELS)}, got "
        f"{sorted(label.name for label in registered.labels)}"
    )
    assert registered.ephemeral, "expected a just-in-time runner to be ephemeral"
    allowed_job = world.fake.queue_job(ALLOWED_REPO, list(LABELS), "echo allowed-job-ran")
    done = world.fake.wait_for_job(allowed_job, timeout=30)
    assert done.conclusion == "success" and "allowed-job-ran" in (done.output or ""), (
        f"expected the allowlisted job to succeed, got {done.conclusion}: {done.output}"
    )
    assert container.wait(timeout=30) == 0, f"expected exit 0 after the one job\n{container.logs()}"
    assert outsider_job.status == "queued" and outsider_job.assignments == 0, (
        f"expected the job of {OTHER_REPO} (outside the group's allowlist) never to be handed "
        f"out; it is {outsider_job.status} after {outsider_job.assignments} assignments"
    )
    assert_no_registrations_left(world, container)


def test_restarted_container_registers_a_new_name_from_a_clean_state(
    world: World, runner: StartRunner
) -> None:
    litter = (
        'echo litter > leftover-in-workspace; echo litter > "$HOME/leftover-in-home"; '
        "echo litter > /tmp/leftover-in-tmp; echo litter > /var/tmp/leftover-in-var-tmp"
    )
    probe = (
        'for f in "$GITHUB_WORKSPACE/leftover-in-workspace" "$HOME/leftover-in-home" '
        "/tmp/leftover-in-tmp /var/tmp/leftover-in-var-tmp; do "
        'if [ -e "$f" ]; then echo "LEFT $f"; fi; done; ls -A "$HOME"; echo probe-done'
    )
    container = runner(auth="app")
    first = world.fake.queue_job(ALLOWED_REPO, list(LABELS), litter)
    world.fake.wait_for_job(first, timeout=30)
    assert container.wait(timeout=30) == 0, f"expected exit 0 after job 1\n{container.logs()}"
    second = world.fake.queue_job(ALLOWED_REPO, list(LABELS), probe)
    container.start()
    world.fake.wait_for_job(second, timeout=30)
    assert container.wait(timeout=30) == 0, f"expected exit 0 after job 2\n{container.logs()}"
    assert first.runner_name and second.runner_name, "expected both jobs to name their runner"
    assert first.runner_name != second.runner_name, (
        f"expected a new runner name after the restart, both were {first.runner_name}"
    )
    output = second.output or ""
    assert "probe-done" in output and "LEFT " not in output, (
        f"expected the restarted runner to find none of the previous job's files:\n{output}"
    )
    minted = world.fake.count("POST", r"^/app/installations/\d+/access_tokens$", 201)
    assert minted == 1, (
        f"expected the installation token to be minted once and reused after the restart, "
        f"it was minted {minted} times"
    )
    assert_no_registrations_left(world, container)


def test_sigterm_while_idle_deregisters_within_15_seconds(
    world: World, runner: StartRunner
) -> None:
    container = runner()
    online_runner(world.fake, container)
    container.signal("SIGTERM")
    assert container.wait(timeout=15) == 0, (
        f"expected exit 0 within 15 s of SIGTERM while idle\n{container.logs()}"
    )
    deleted = world.fake.count("DELETE", r"/actions/runners/\d+$", 204)
    assert deleted == 1, f"expected one DELETE of the runner's registration, saw {deleted}"
    assert_no_registrations_left(world, container)


def test_sigterm_while_busy_cancels_the_job_and_deregisters(
    world: World, runner: StartRunner
) -> None:
    container = runner()
    job = world.fake.queue_job(ALLOWED_REPO, list(LABELS), "echo started; sleep 300")
    wait_for(
        world.fake,
        lambda: job.status == "in_progress",
        30,
        "the job to start",
        container.logs(),
    )
    container.signal("SIGTERM")
    assert container.wait(timeout=30) == 0, (
        f"expected exit 0 after SIGTERM while busy\n{container.logs()}"
    )
    assert job.status == "completed" and job.conclusion == "cancelled", (
        f"expected the running job to be reported cancelled, it is {job.status}/{job.conclusion}"
    )
    assert_no_registrations_left(world, container)


@pytest.mark.parametrize("auth", ["token", "app"])
def test_jobs_cannot_reach_the_credential(world: World, runner: StartRunner, auth: str) -> None:
    container = runner(auth=auth)
    script = (
        "set +e; echo '--- env'; env; "
        "echo '--- pid 1'; cat /proc/1/environ 2>&1 || echo proc1-denied; "
        "echo '--- processes'; for p in /proc/[0-9]*; do "
        "tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; tr '\\0' ' ' < $p/environ 2>/dev/null; "
        "echo; done; "
        "echo '--- credential'; cat /run/fleet/credential 2>&1 || echo credential-denied; "
        "echo '--- state'; cat /var/lib/fleet/* 2>&1 || echo state-denied; "
        "echo '--- sudo'; if sudo -n true 2>&1; then echo sudo-allowed; else echo sudo-denied; fi"
    )
    job = world.fake.queue_job(ALLOWED_REPO, list(LABELS), script)
    world.fake.wait_for_job(job, timeout=30)
    assert container.wait(timeout=30) == 0, f"expected exit 0\n{container.logs()}"
    output = job.output or ""
    for marker in ("credential-denied", "sudo-denied", "state-denied"):
        assert marker in output, f"expected the job's output to show {marker}:\n{output}"
    secret_fragments = [world.token] if auth == "token" else world.private_key.splitlines()[1:-1]
    leaked = [fragment for fragment in secret_fragments if fragment in output]
    assert not leaked, f"expected no trace of the {auth} credential in the job's output"
    assert "ghs_" not in output, "expected no installation token in the job's output"
    config = container.inspect()["Config"]
    exposed = " ".join(
        [*(config.get("Env") or []), *(config.get("Cmd") or []), *(config.get("Entrypoint") or [])]
    )
    assert not [f for f in [*secret_fragments, "ghs_"] if f in exposed], (
        "expected docker inspect's Config.Env, Cmd and Entrypoint to hold no credential"
    )
    log = container.logs()
    assert not [f for f in [*secret_fragments, "ghs_"] if f in log], (
        "expected the container's log to hold no credential"
    )


def test_three_server_errors_then_success_registers(world: World, runner: StartRunner) -> None:
    path = rf"^/orgs/{ORG}/actions/runners/generate-jitconfig$"
    world.fake.inject(path, "POST", [(500, {}, {"message": "Server Error"})] * 3)
    container = runner()
    online_runner(world.fake, container, timeout=60)
    assert world.fake.count("POST", path) == 4, (
        f"expected three failed generate-jitconfig calls and one success, saw "
        f"{[(c.status) for c in world.fake.calls if 'generate-jitconfig' in c.path]}"
    )
    container.signal("SIGTERM")
    assert container.wait(timeout=15) == 0, f"expected a clean stop\n{container.logs()}"
    assert_no_registrations_left(world, container)


def test_retry_after_is_honoured(world: World, runner: StartRunner) -> None:
    path = rf"^/orgs/{ORG}/actions/runners/generate-jitconfig$"
    world.fake.inject(
        path,
        "POST",
        [(403, {"Retry-After": "2"}, {"message": "You have exceeded a secondary rate limit."})],
    )
    container = runner()
    online_runner(world.fake, container)
    attempts = [
        c for c in world.fake.calls if c.method == "POST" and "generate-jitconfig" in c.path
    ]
    assert [c.status for c in attempts] == [403, 201], (
        f"expected one 403 then a successful retry, saw {[c.status for c in attempts]}"
    )
    waited = attempts[1].timestamp - attempts[0].timestamp
    assert waited >= 2.0, (
        f"expected the retry at least 2 s after Retry-After: 2, it came {waited:.2f} s later"
    )
    container.signal("SIGTERM")
    assert container.wait(timeout=15) == 0, f"expected a clean stop\n{container.logs()}"


@pytest.mark.parametrize("auth", ["token", "app"])
def test_wrong_credential_stops_fast_with_its_code(
    world: World, runner: StartRunner, auth: str
) -> None:
    # A token GitHub never issued, or a private key that is not the App's.
    wrong = "ghp_" + secrets.token_hex(18) if auth == "token" else unrelated_private_key()
    container = runner(auth=auth, credential=wrong)
    code = container.wait(timeout=5)
    assert code == EXIT_REFUSED, (
        f"expected exit {EXIT_REFUSED} ({EXIT_CODES[EXIT_REFUSED]}), got {code}\n{container.logs()}"
    )
    calls = len(world.fake.calls)
    assert 1 <= calls <= 3, f"expected at most a handful of calls (<= 3), saw {calls}"
    assert "GitHub refused the credential" in container.logs(), (
        f"expected the log to say GitHub refused the credential:\n{container.logs()}"
    )


def test_missing_permission_names_it(world: World, runner: StartRunner) -> None:
    weak = "ghp_" + secrets.token_hex(18)
    world.fake.add_token(weak, scopes=["repo"])
    container = runner(credential=weak)
    code = container.wait(timeout=10)
    log = container.logs()
    assert code == EXIT_REFUSED, f"expected exit {EXIT_REFUSED} on a 403, got {code}\n{log}"
    assert "Self-hosted runners: read and write" in log and "admin:org" in log, (
        f"expected the log to name the permission the credential lacks:\n{log}"
    )


def test_every_queued_job_runs_exactly_once(world: World, runner: StartRunner) -> None:
    jobs = [
        world.fake.queue_job(ALLOWED_REPO, list(LABELS), f"echo job-{index}") for index in range(6)
    ]
    containers = [runner(), runner()]

    def all_completed() -> bool:
        return all(job.status == "completed" for job in jobs)

    # Restart each container when it exits, as the fleet's restart policy does.
    deadline = time.monotonic() + 90
    while not world.fake.wait_until(all_completed, 0.5) and time.monotonic() < deadline:
        for container in containers:
            container.container.reload()
            if container.container.status == "exited":
                assert container.wait(timeout=5) == 0, f"expected exit 0\n{container.logs()}"
                container.start()
    for container in containers:
        container.container.reload()
        if container.container.status == "running":
            container.signal("SIGTERM")
        assert container.wait(timeout=15) == 0, f"expected exit 0\n{container.logs()}"
    summary = [(job.id, job.status, job.assignments, job.results) for job in jobs]
    assert all(s == "completed" and a == 1 and r == 1 for _, s, a, r in summary), (
        f"expected every job completed, handed out once and reported once: {summary}"
    )
    for container in containers:
        assert_no_registrations_left(world, container)


def test_jobs_get_sudo_only_when_the_stack_opts_in(world: World, runner: StartRunner) -> None:
    container = runner(job_sudo=True)
    job = world.fake.queue_job(
        ALLOWED_REPO, list(LABELS), "if sudo -n true; then echo sudo-allowed; fi"
    )
    world.fake.wait_for_job(job, timeout=30)
    assert container.wait(timeout=30) == 0, f"expected exit 0\n{container.logs()}"
    assert "sudo-allowed" in (job.output or ""), (
        f"expected FLEET_JOB_SUDO=true to give the job passwordless sudo:\n{job.output}"
    )


def test_registration_token_path_runs_a_job_and_removes_the_runner(
    world: World, runner: StartRunner
) -> None:
    container = runner(registration="token")
    registered = online_runner(world.fake, container)
    assert registered.group_id == world.group.id, (
        f"expected config.sh to join group '{world.group.name}' (id {world.group.id}), "
        f"got {registered.group_id}"
    )
    job = world.fake.queue_job(ALLOWED_REPO, list(LABELS), "echo via-config-sh")
    done = world.fake.wait_for_job(job, timeout=30)
    assert done.conclusion == "success", f"expected success, got {done.conclusion}"
    assert container.wait(timeout=30) == 0, f"expected exit 0\n{container.logs()}"
    assert world.fake.count("POST", r"/actions/runners/registration-token$", 201) == 1, (
        "expected one registration token"
    )
    assert_no_registrations_left(world, container)


def test_repository_runner_takes_only_its_repositorys_jobs(
    world: World, runner: StartRunner
) -> None:
    repo_token = "ghp_" + secrets.token_hex(18)
    world.fake.add_token(repo_token, scopes=["repo"])
    outsider_job = world.fake.queue_job(OTHER_REPO, list(LABELS), "echo outsider")
    container = runner(mode="repo", credential=repo_token)
    registered = online_runner(world.fake, container)
    expected_scope = ("repo", str(world.fake.repo(ALLOWED_REPO).id))
    assert registered.scope == expected_scope, (
        f"expected a runner of {ALLOWED_REPO} {expected_scope}, got {registered.scope}"
    )
    job = world.fake.queue_job(ALLOWED_REPO, list(LABELS), "echo repo-job")
    assert world.fake.wait_for_job(job, timeout=30).conclusion == "success", (
        f"expected the repository's job to succeed\n{container.logs()}"
    )
    assert container.wait(timeout=30) == 0, f"expected exit 0\n{container.logs()}"
    assert outsider_job.assignments == 0, f"expected {OTHER_REPO}'s job never to be handed out"
    assert_no_registrations_left(world, container)


def test_taken_runner_name_is_replaced_by_a_new_one(world: World, runner: StartRunner) -> None:
    path = rf"^/orgs/{ORG}/actions/runners/generate-jitconfig$"
    world.fake.inject(path, "POST", [(409, {}, {"message": "Already exists"})])
    container = runner()
    online_runner(world.fake, container)
    assert world.fake.count("POST", path) == 2, "expected one 409 and one successful retry"
    assert "is taken; picking another" in container.logs(), (
        f"expected the log to say the name was taken:\n{container.logs()}"
    )
    container.signal("SIGTERM")
    assert container.wait(timeout=15) == 0, f"expected a clean stop\n{container.logs()}"


@pytest.mark.parametrize(
    ("overrides", "credential", "code", "named"),
    [
        ({"FLEET_MODE": "enterprise"}, None, EXIT_BAD_SETTING, "FLEET_MODE"),
        ({"FLEET_RUNNER_GROUP_ID": "fleet"}, None, EXIT_BAD_SETTING, "FLEET_RUNNER_GROUP_ID"),
        ({"FLEET_LABELS": "self-hosted,,x"}, None, EXIT_BAD_SETTING, "FLEET_LABELS"),
        ({"FLEET_API_URL": "http://api.example.test"}, None, EXIT_BAD_SETTING, "FLEET_API_URL"),
        ({}, "  \n", EXIT_BAD_CREDENTIAL, "FLEET_AUTH=token"),
        ({"FLEET_CREDENTIAL_FILE": "/run/fleet/absent"}, None, EXIT_BAD_CREDENTIAL, "missing"),
    ],
)
def test_bad_input_exits_with_its_code_and_names_it(
    world: World,
    runner: StartRunner,
    overrides: dict[str, str],
    credential: str | None,
    code: int,
    named: str,
) -> None:
    container = runner(env_overrides=overrides, credential=credential)
    exit_code = container.wait(timeout=10)
    log = container.logs()
    assert exit_code == code, f"expected exit {code} ({EXIT_CODES[code]}), got {exit_code}\n{log}"
    assert named in log, f"expected the error to name {named}:\n{log}"
    assert not world.fake.calls, f"expected no GitHub call on bad input, saw {world.fake.calls}"


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.3, 0.6, 1.0, 1.5])
def test_sigterm_at_any_moment_stops_cleanly(
    world: World, runner: StartRunner, delay: float
) -> None:
    """A stop that lands mid-startup, mid-retry or mid-job still exits 0 and leaves nothing.

    Bash 5.2 can lose a trap that fires while it expands a command substitution; the entrypoint
    keeps its signal handling in a supervisor that never expands one. Server errors keep the
    worker busy in its retry loop while the signal lands.
    """
    path = rf"^/orgs/{ORG}/actions/runners/generate-jitconfig$"
    world.fake.inject(path, "POST", [(502, {}, {"message": "Bad Gateway"})] * 2)
    world.fake.queue_job(ALLOWED_REPO, list(LABELS), "echo quick")
    container = runner()
    time.sleep(delay)
    container.signal("SIGTERM")
    status = container.wait(timeout=15)
    logs = container.logs()
    assert "unexpected EOF" not in logs, f"the stop signal broke the shell\n{logs}"
    assert_no_registrations_left(world, container)
    if status == 128 + 15 and not logs.strip():
        # The signal beat bash to its first line: Docker's default action ended the process
        # before it ran anything, so it cannot have called GitHub.
        assert world.fake.count("POST", path) == 0, "a registration attempt must log first"
        return
    assert status == 0, f"expected exit 0 within 15 s of SIGTERM after {delay}s\n{logs}"
