"""The GitHub Actions workflows say what docs/ci.md promises: triggers, stacks, comments,
permissions, concurrency, pinned actions, and credentials that only ever come from secrets.

actionlint (run by .ci/gates.sh) checks that the files are valid workflows; these tests check that
they are the workflows we mean.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PINNED_REFERENCE = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
PULUMI_ACTION = "pulumi/actions"


def load(name: str) -> dict[Any, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(document, dict), f"{name} should be a YAML mapping"
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found = job.get("steps")
    assert isinstance(found, list), f"job {job.get('name')} should have steps"
    return found


def pulumi_steps(job: dict[str, Any], command: str) -> list[dict[str, Any]]:
    return [
        s
        for s in steps(job)
        if str(s.get("uses", "")).startswith(PULUMI_ACTION + "@")
        and s.get("with", {}).get("command") == command
    ]


@pytest.fixture(scope="module")
def preview() -> dict[Any, Any]:
    return load("preview.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[Any, Any]:
    return load("deploy.yml")


def test_preview_runs_on_pull_requests_only(preview: dict[Any, Any]) -> None:
    assert set(preview["on"]) == {"pull_request"}, (
        f"preview.yml should trigger on pull_request alone, got {sorted(preview['on'])}"
    )


def test_preview_runs_the_test_command_before_previewing(preview: dict[Any, Any]) -> None:
    runs = [s.get("run", "") for s in steps(preview["jobs"]["test"])]
    assert any(r.strip() == "bash .ci/run" for r in runs), (
        f"the test job should run `bash .ci/run`, got {runs}"
    )
    assert preview["jobs"]["preview"].get("needs") == "test", (
        "the preview job should wait for the gates and tests (needs: test)"
    )


def test_preview_covers_both_stacks_with_comments_and_policy(preview: dict[Any, Any]) -> None:
    job = preview["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == ["org", "repo"], (
        f"both stacks should be previewed, got matrix {job['strategy']['matrix']}"
    )
    assert job["strategy"].get("fail-fast") is False, (
        "one stack's failed preview should not cancel the other's (fail-fast: false)"
    )
    found = pulumi_steps(job, "preview")
    assert len(found) == 1, f"expected one pulumi preview step, got {found}"
    settings = found[0]["with"]
    expected = {
        "stack-name": "${{ matrix.stack }}",
        "comment-on-pr": True,
        "policyPacks": "policy",
        "policyPackConfigs": "policy/config/${{ matrix.stack }}.json",
    }
    assert {k: settings.get(k) for k in expected} == expected, (
        f"the preview step should use {expected}, got {settings}"
    )


def test_deploy_triggers_on_main_and_by_hand_with_a_stack_choice(deploy: dict[Any, Any]) -> None:
    triggers = deploy["on"]
    assert set(triggers) == {"push", "workflow_dispatch"}, f"got triggers {sorted(triggers)}"
    assert triggers["push"]["branches"] == ["main"], f"push should be limited to main: {triggers}"
    stack_input = triggers["workflow_dispatch"]["inputs"]["stack"]
    assert stack_input["type"] == "choice" and stack_input["options"] == ["org", "repo"], (
        f"Run workflow should offer a choice of org or repo, got {stack_input}"
    )


def test_deploy_is_protected_serialised_and_runs_up_with_policy(deploy: dict[Any, Any]) -> None:
    assert deploy["concurrency"] == {"group": "deploy-runner-fleet", "cancel-in-progress": False}, (
        f"deploys should queue in one group and never cancel a running one, got "
        f"{deploy['concurrency']}"
    )
    (job,) = deploy["jobs"].values()
    assert job.get("environment") == "runner-fleet", (
        f"deploys should run behind the protected runner-fleet environment, got "
        f"{job.get('environment')}"
    )
    found = pulumi_steps(job, "up")
    assert len(found) == 1, f"expected one pulumi up step, got {found}"
    settings = found[0]["with"]
    assert (
        settings.get("stack-name") == "${{ env.STACK }}" and settings.get("policyPacks") == "policy"
    ), f"pulumi up should deploy the chosen stack with the policy pack, got {settings}"
    assert "inputs.stack" in job["env"]["STACK"], (
        f"the chosen stack should come from the workflow_dispatch input, got {job['env']['STACK']}"
    )


def test_permissions_are_least_privilege(preview: dict[Any, Any], deploy: dict[Any, Any]) -> None:
    for name, workflow in (("preview.yml", preview), ("deploy.yml", deploy)):
        assert workflow["permissions"] == {"contents": "read"}, (
            f"{name} should grant only contents: read at the top, got {workflow['permissions']}"
        )
    granted = {
        f"{name}:{job_id}": job.get("permissions")
        for name, workflow in (("preview.yml", preview), ("deploy.yml", deploy))
        for job_id, job in workflow["jobs"].items()
        if "permissions" in job
    }
    assert granted == {"preview.yml:preview": {"contents": "read", "pull-requests": "write"}}, (
        f"only the preview job may write (pull-request comments), got {granted}"
    )


def test_every_action_is_pinned_to_a_full_commit_with_its_version() -> None:
    offenders = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
            if match is None:
                continue
            reference, comment = match.groups()
            if not PINNED_REFERENCE.match(reference) or not re.search(
                r"#\s*v\d+\.\d+\.\d+", comment
            ):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == [], (
        f"actions must be pinned as owner/repo@<40-hex sha> # vX.Y.Z: {offenders}"
    )


def test_pinned_actions_agree_across_workflows() -> None:
    references: dict[str, set[str]] = {}
    for path in WORKFLOWS.glob("*.yml"):
        for reference in re.findall(r"uses:\s*([\w./-]+@[0-9a-f]{40}\s*#\s*\S+)", path.read_text()):
            action, _, pin = reference.partition("@")
            references.setdefault(action, set()).add(" ".join(pin.split()))
    drifted = {action: pins for action, pins in references.items() if len(pins) > 1}
    assert references and drifted == {}, (
        f"each action should have one pin everywhere, got {drifted}"
    )


def test_credentials_come_from_secrets_and_are_never_echoed() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        assert "PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}" in text, (
            f"{path.name} should take the Pulumi token from the PULUMI_ACCESS_TOKEN secret"
        )
        assert "pulumi config set --secret githubCredential" in text, (
            f"{path.name} should hand the runner credential to the stack as a Pulumi secret"
        )
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if "secrets." in stripped:
                assert re.match(r"^[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}$", stripped), (
                    f"{path.name}:{number}: a secret may only be bound to an environment "
                    f"variable, never put in a command line: {stripped}"
                )
            assert not re.search(r"\b(echo|printf)\b.*\$\{\{\s*secrets", stripped), (
                f"{path.name}:{number}: a secret must not be printed: {stripped}"
            )
            assert "set -x" not in stripped, f"{path.name}:{number}: set -x would echo secrets"


def test_checkout_does_not_keep_the_token() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job_id, job in load(path.name)["jobs"].items():
            for step in steps(job):
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, (
                        f"{path.name}:{job_id}: checkout should not leave the token in .git/config"
                    )


def test_policy_config_exists_for_every_previewed_stack(preview: dict[Any, Any]) -> None:
    for stack in preview["jobs"]["preview"]["strategy"]["matrix"]["stack"]:
        config = ROOT / "policy" / "config" / f"{stack}.json"
        assert config.is_file(), f"the preview passes {config.relative_to(ROOT)}; it must exist"
        assert (ROOT / f"Pulumi.{stack}.yaml").is_file(), f"stack file for {stack} is missing"
