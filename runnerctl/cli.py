"""The ``runnerctl`` command line: status, doctor, reap, rollback and rollforward.

Every command reads one stack's configuration from the project's Pulumi.<stack>.yaml through the
same typed models as the Pulumi program, takes the credential from a file (never from the command
line), prints tables for people or ``--json`` for machines on stdout, keeps progress and errors on
stderr, and exits 0 (healthy/done), 1 (unhealthy/not done), 2 (bad input) or 3 (GitHub, Docker or
Pulumi could not be asked). Errors are one line, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from runnerctl import __version__
from runnerctl.doctor import Doctor
from runnerctl.errors import EXIT_UNAVAILABLE, EXIT_UNHEALTHY, InputError, RunnerctlError
from runnerctl.fleet import containers, docker_client, github_view
from runnerctl.github import GitHubClient
from runnerctl.reap import reap as reap_runners
from runnerctl.rollout import Retire, RolloutFailed, run_rollout
from runnerctl.stack import CREDENTIAL_ENV, Stack, find_project_dir, load_stack
from runnerctl.status import build_report

EXIT_CODES_HELP = (
    "Exit codes: 0 healthy/done, 1 unhealthy or not done, 2 bad input (usage, unknown stack, "
    "configuration, missing credential), 3 GitHub, Docker or Pulumi could not be asked."
)
CREDENTIAL_HELP = (
    f"Credential order: --credential-file PATH, then ${CREDENTIAL_ENV} (a path), then "
    "`pulumi config get githubCredential --stack STACK`. Never pass a token on the command line."
)

app = typer.Typer(
    name="runnerctl",
    help="Operate a self-hosted GitHub Actions runner fleet deployed by this Pulumi project.\n\n"
    "Run it in the project directory (or pass --project-dir).\n\n"
    f"{CREDENTIAL_HELP}\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: Width when stdout is not a terminal (cron mail, pipes): wide enough that no name is cut.
PIPE_WIDTH = 200


class _Consoles:
    """rich consoles made on first use, so they bind to the streams of the moment (tests swap
    them) and pick a wide layout when the output is not a terminal."""

    @property
    def out(self) -> Console:
        tty = sys.stdout.isatty()
        return Console(highlight=False, width=None if tty else PIPE_WIDTH, soft_wrap=not tty)

    @property
    def err(self) -> Console:
        return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


_consoles = _Consoles()

StackOption = Annotated[
    str, typer.Option("--stack", "-s", help="Pulumi stack name (a Pulumi.<stack>.yaml file).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
CredentialOption = Annotated[
    Path | None,
    typer.Option(
        "--credential-file",
        help="File holding the GitHub token or the App's private key (PEM).",
        show_default=False,
    ),
]
ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        help="Project directory (holds Pulumi.yaml); default: found from the working directory.",
        show_default=False,
    ),
]


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Turn every runnerctl failure into one stderr line and its exit code."""
    try:
        yield
    except RunnerctlError as error:
        _consoles.err.print(f"runnerctl: error: {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(error.exit_code) from None


def _open(
    stack: str, project_dir: Path | None, credential_file: Path | None
) -> tuple[Stack, GitHubClient]:
    root = project_dir.resolve() if project_dir else find_project_dir()
    if not (root / "Pulumi.yaml").is_file():
        raise InputError(f"--project-dir {root} holds no Pulumi.yaml")
    loaded = load_stack(root, stack, credential_file)
    settings = loaded.settings
    client = GitHubClient(
        settings.github_api_url,
        loaded.credential,
        app_id=settings.github_app_id,
        installation_id=settings.github_app_installation_id,
    )
    return loaded, client


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        _consoles.out.print(f"runnerctl {__version__}")
        raise typer.Exit(0)


# ------------------------------------------------------------------------------------ status
@app.command(
    epilog="Examples:\n\n"
    "  runnerctl status --stack org\n\n"
    "  runnerctl status --stack repo --json | jq '.problems'\n\n"
    "  # cron health check: mail only when unhealthy\n\n"
    "  runnerctl status -s org --credential-file /etc/runnerctl/token >/dev/null || mail ...",
)
def status(
    stack: StackOption,
    as_json: JsonOption = False,
    offline_after: Annotated[
        float,
        typer.Option(
            "--offline-after",
            min=0,
            help="Minutes a container may run without its runner online before it is flagged.",
        ),
    ] = 10.0,
    credential_file: CredentialOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """The fleet as GitHub and Docker see it, one row per runner; exit 1 when unhealthy.

    Joins GitHub's runners (name, online/offline, busy, labels, group) with the stack's containers
    (state, restarts, uptime, image). Flags runners offline too long, runners without a container
    and containers without a runner; in org mode also the runner group and its allowlist.
    Healthy: exit 0. Unhealthy: exit 1, each problem on its own line.
    """
    with _one_line_errors():
        loaded, github = _open(stack, project_dir, credential_file)
        with github:
            view = github_view(github, loaded.settings)
        found = containers(docker_client(loaded.settings), loaded.settings)
        report = build_report(loaded.settings, view, found, offline_after_minutes=offline_after)
    if as_json:
        _emit_json(report.as_json())
    else:
        _print_status(report.as_json())
    raise typer.Exit(0 if report.healthy else EXIT_UNHEALTHY)


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"


def _print_status(data: dict[str, Any]) -> None:
    _consoles.out.print(
        f"Stack [bold]{data['stack']}[/] ({data['mode']} mode, {data['organization']}): "
        f"{data['online_runners']} of {data['expected_runners']} runners online"
    )
    group = data["group"]
    if group is not None:
        repos = ", ".join(group["repositories"]) or "none"
        _consoles.out.print(
            f"Runner group {escape(group['name'])} (id {group['id']}, visibility "
            f"{group['visibility']}); allowed repositories: {escape(repos)}"
        )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("runner", "status", "busy", "container", "state", "restarts", "uptime", "image"):
        table.add_column(column)
    table.add_column("flags")
    for row in data["runners"]:
        busy = "" if row["busy"] is None else ("busy" if row["busy"] else "idle")
        table.add_row(
            escape(row["runner"] or "-"),
            row["status"] or "-",
            busy,
            escape(row["container"] or "-"),
            row["state"] or "-",
            "-" if row["restarts"] is None else str(row["restarts"]),
            _age(row["uptime_seconds"]),
            escape(row["image"] or "-"),
            ", ".join(row["flags"]),
        )
    _consoles.out.print(table)
    if data["healthy"]:
        _consoles.out.print("[green]healthy[/]")
        return
    _consoles.out.print(f"[red]unhealthy[/]: {len(data['problems'])} problem(s)")
    for problem in data["problems"]:
        _consoles.out.print(f"  - {problem['kind']}: {escape(problem['message'])}")


# ------------------------------------------------------------------------------------ doctor
@app.command(
    epilog="Examples:\n\n"
    "  runnerctl doctor --stack org --credential-file ~/.config/runnerctl/org.pem\n\n"
    "  runnerctl doctor --stack repo --json | jq '.checks[] | select(.status == \"fail\")'",
)
def doctor(
    stack: StackOption,
    as_json: JsonOption = False,
    credential_file: CredentialOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Check everything `pulumi up` needs, with a fix for each failure; exit 1 on any failure.

    Checks: the credential works; it has the permissions the mode needs (App permissions,
    classic scopes, or a fine-grained token probed with a harmless registration-token request);
    the organization exists; each repository exists, belongs to it and is private; the runner
    group is free or already this stack's; the Docker host answers and the image is present or
    buildable; runnerVersion is not behind GitHub's deprecation window. Warnings do not fail.
    """
    with _one_line_errors():
        loaded, github = _open(stack, project_dir, credential_file)
        with github:
            checks = Doctor(github, loaded.settings, loaded.project_dir).run()
    healthy = not any(check.status == "fail" for check in checks)
    if as_json:
        _emit_json(
            {"stack": stack, "healthy": healthy, "checks": [check.as_json() for check in checks]}
        )
    else:
        marks = {"pass": "[green]ok  [/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
        for check in checks:
            mark = marks.get(check.status, "[dim]skip[/]")
            _consoles.out.print(f"{mark} {check.name}: {escape(check.detail)}")
            if check.fix and check.status in ("fail", "warn"):
                _consoles.out.print(f"     fix: {escape(check.fix)}")
        failed = sum(1 for check in checks if check.status == "fail")
        _consoles.out.print(
            "[green]ready for pulumi up[/]" if healthy else f"[red]{failed} failed[/]"
        )
    raise typer.Exit(0 if healthy else EXIT_UNHEALTHY)


# ------------------------------------------------------------------------------------ reap
@app.command(
    epilog="Examples:\n\n"
    "  runnerctl reap --stack org            # dry run: lists what it would delete\n\n"
    "  runnerctl reap --stack org --yes      # deletes them",
)
def reap(
    stack: StackOption,
    yes: Annotated[bool, typer.Option("--yes", help="Delete; without it reap is a dry run.")] = (
        False
    ),
    as_json: JsonOption = False,
    credential_file: CredentialOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Delete runner registrations this stack left behind; a dry run unless --yes.

    Candidates: runners named like this stack's containers' runners, offline, not busy, whose
    container is not running. A busy runner is never deleted; each candidate is re-read just
    before its delete. Exit 1 when a delete failed.
    """
    with _one_line_errors():
        loaded, github = _open(stack, project_dir, credential_file)
        found = containers(docker_client(loaded.settings), loaded.settings)
        with github:
            view = github_view(github, loaded.settings, with_group=False)
            report = reap_runners(github, loaded.settings, view.runners, found, act=yes)
    if as_json:
        _emit_json(report.as_json(stack))
    else:
        verb = "deleted" if yes else "would delete"
        names = report.deleted if yes else report.would_delete
        for name in names:
            _consoles.out.print(f"{verb} {escape(name)}")
        for name, reason in report.kept:
            _consoles.out.print(f"kept {escape(name)}: {escape(reason)}")
        for name, error in report.failed:
            _consoles.out.print(f"[red]failed[/] {escape(name)}: {escape(error)}")
        summary = f"{len(names)} runner(s) {verb}, {len(report.kept)} kept"
        if not yes and names:
            summary += "; re-run with --yes to delete"
        _consoles.out.print(summary)
    raise typer.Exit(EXIT_UNHEALTHY if report.failed else 0)


# ------------------------------------------------------------------------------------ rollout
def _rollout(
    *,
    direction: str,
    target_stack: str,
    retire_stack: str,
    target_mode: str,
    retire: Retire,
    yes: bool,
    timeout: float,
    poll_interval: float,
    as_json: bool,
    credential_file: Path | None,
    project_dir: Path | None,
) -> None:
    with _one_line_errors():
        if target_stack == retire_stack:
            raise InputError(f"--stack and --retire-stack are both '{target_stack}'")
        target, github = _open(target_stack, project_dir, credential_file)
        other, _ = _open(retire_stack, project_dir, credential_file)
        if target.settings.mode != target_mode:
            raise InputError(
                f"{direction} brings up a {target_mode}-mode stack, but stack '{target_stack}' "
                f"is in {target.settings.mode} mode; pass the right --stack"
            )
        if target.settings.total_runners() == 0:
            raise InputError(
                f"stack '{target_stack}' declares 0 runners, so nothing would serve jobs; "
                "set its runnerCount first"
            )
        if not yes:
            action = "destroy" if retire == "destroy" else "scale to zero"
            question = (
                f"Bring up stack '{target_stack}' ({target.settings.total_runners()} runners), "
                f"wait until they are online, then {action} stack '{retire_stack}'?"
            )
            try:
                confirmed = typer.confirm(question, err=True)
            except typer.Abort:
                confirmed = False
            if not confirmed:
                _consoles.err.print("runnerctl: aborted; nothing changed")
                raise typer.Exit(EXIT_UNHEALTHY)

        def on_output(line: str) -> None:
            _consoles.err.print(escape(line.rstrip("\n")), soft_wrap=True)

        progress = Progress(
            TextColumn("waiting for runners of '{task.fields[stack]}' to come online"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TimeElapsedColumn(),
            console=_consoles.err,
            transient=False,
        )
        task = progress.add_task(
            "online", total=target.settings.total_runners(), stack=target_stack
        )

        def on_progress(online: int, expected: int) -> None:
            progress.update(task, completed=online, total=expected)

        try:
            with github, progress:
                report = run_rollout(
                    target=target,
                    other=other,
                    retire=retire,
                    github=github,
                    timeout=timeout,
                    poll_interval=poll_interval,
                    on_output=on_output,
                    progress=on_progress,
                )
        except RolloutFailed as failure:
            if as_json:
                _emit_json(failure.report.as_json() | {"error": str(failure)})
            raise
    if as_json:
        _emit_json(report.as_json())
    else:
        verb = "destroyed" if retire == "destroy" else "scaled to zero"
        _consoles.out.print(
            f"{direction} done: stack '{target_stack}' has {report.online} runners online; "
            f"stack '{retire_stack}' {verb}"
        )


class RetireMode(StrEnum):
    scale_to_zero = "scale-to-zero"
    destroy = "destroy"


RetireOption = Annotated[
    RetireMode,
    typer.Option(
        "--retire",
        help="How to retire the other stack: set runnerCount 0 and up, or destroy it.",
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=1, help="Seconds to wait for the target's runners to be online."),
]
PollOption = Annotated[
    float, typer.Option("--poll-interval", min=0.1, help="Seconds between GitHub checks.")
]


@app.command(
    epilog="Examples:\n\n"
    "  runnerctl rollback                     # repo stack up, then org stack scaled to zero\n\n"
    "  runnerctl rollback --retire destroy --yes --json",
)
def rollback(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Target (repo-mode) stack.")] = "repo",
    retire_stack: Annotated[
        str, typer.Option("--retire-stack", help="The org-mode stack to retire.")
    ] = "org",
    retire: RetireOption = RetireMode.scale_to_zero,
    yes: YesOption = False,
    timeout: TimeoutOption = 600.0,
    poll_interval: PollOption = 5.0,
    as_json: JsonOption = False,
    credential_file: CredentialOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Fall back to repository runners: up the repo stack, wait for it, retire the org stack.

    Runs `pulumi up` on --stack through Pulumi's Automation API, waits (up to --timeout) until
    all of its runners are online at GitHub, then retires --retire-stack. If the up fails or the
    runners stay offline, nothing is retired and exit is non-zero.
    """
    _rollout(
        direction="rollback",
        target_stack=stack,
        retire_stack=retire_stack,
        target_mode="repo",
        retire="destroy" if retire is RetireMode.destroy else "scale-to-zero",
        yes=yes,
        timeout=timeout,
        poll_interval=poll_interval,
        as_json=as_json,
        credential_file=credential_file,
        project_dir=project_dir,
    )


@app.command(
    epilog="Examples:\n\n"
    "  runnerctl rollforward                  # org stack up, then repo stack scaled to zero\n\n"
    "  runnerctl rollforward --stack org --retire-stack repo --yes",
)
def rollforward(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Target (org-mode) stack.")] = "org",
    retire_stack: Annotated[
        str, typer.Option("--retire-stack", help="The repo-mode stack to retire.")
    ] = "repo",
    retire: RetireOption = RetireMode.scale_to_zero,
    yes: YesOption = False,
    timeout: TimeoutOption = 600.0,
    poll_interval: PollOption = 5.0,
    as_json: JsonOption = False,
    credential_file: CredentialOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Move to organization runners: up the org stack, wait for it, retire the repo stack.

    The reverse of rollback, with the same order and safety: the repo stack is retired only
    after every runner of the org stack is online at GitHub.
    """
    _rollout(
        direction="rollforward",
        target_stack=stack,
        retire_stack=retire_stack,
        target_mode="org",
        retire="destroy" if retire is RetireMode.destroy else "scale-to-zero",
        yes=yes,
        timeout=timeout,
        poll_interval=poll_interval,
        as_json=as_json,
        credential_file=credential_file,
        project_dir=project_dir,
    )


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code, never shows a traceback."""
    try:
        app(args=argv, prog_name="runnerctl")
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_UNHEALTHY)
    except KeyboardInterrupt:
        _consoles.err.print("runnerctl: interrupted")
        return 130
    except Exception as error:  # the promise is one line, even for our own bugs
        if os.environ.get("RUNNERCTL_DEBUG"):
            raise
        _consoles.err.print(
            f"runnerctl: internal error: {type(error).__name__}: {escape(str(error))} "
            "(set RUNNERCTL_DEBUG=1 for a traceback)"
        )
        return EXIT_UNAVAILABLE
    return 0


if __name__ == "__main__":
    sys.exit(main())
