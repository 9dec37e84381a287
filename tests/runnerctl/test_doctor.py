"""``runnerctl doctor``: every check passes on a good setup; each failure names its fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.runnerctl.conftest import ORG, Project

pytestmark = pytest.mark.docker


def checks(result_json: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in result_json["checks"]}


def test_good_org_setup_passes_every_check(project: Project) -> None:
    stack = project.write_org_stack()

    result = project.run("doctor", "--stack", stack, "--json")

    assert result.code == 0, f"expected doctor to pass\n{result}"
    found = checks(result.json())
    assert list(found) == [
        "credential",
        "permissions",
        "organization",
        "repositories",
        "runner group",
        "runner version",
        "docker host",
        "image",
    ], f"expected every check in order, got {list(found)}"
    failing = {name: c for name, c in found.items() if c["status"] != "pass"}
    assert failing == {}, f"expected every check to pass, got {failing}"


def test_human_output_prints_fixes(project: Project) -> None:
    stack = project.write_org_stack()
    project.fake.add_repo(ORG, "website", private=False)
    project.write_org_stack(allowedRepositories=["coach", "website"])

    result = project.run("doctor", "--stack", stack)

    assert result.code == 1, f"expected a public repository to fail doctor\n{result}"
    assert "FAIL repositories: website is public" in result.stdout, f"{result}"
    assert "fix: fix allowedRepositories" in result.stdout, f"expected the fix printed\n{result}"


@pytest.mark.parametrize(
    ("setup", "overrides", "check", "expected"),
    [
        ("classic-no-admin", {}, "permissions", "lacks the scope(s) admin:org"),
        ("fine-grained-read", {}, "permissions", "organization_self_hosted_runners=write"),
        ("none", {"organization": "ghost"}, "organization", "'ghost' does not exist"),
        ("none", {"allowedRepositories": ["coach", "nope"]}, "repositories", "nope does not"),
        ("public", {"allowedRepositories": ["coach", "site"]}, "repositories", "site is public"),
        ("group-all", {}, "runner group", "visibility is 'all'"),
        ("none", {"dockerHost": "tcp://127.0.0.1:9"}, "docker host", "does not answer"),
        ("none", {"image": "no-such/runner:0"}, "image", "is not on the Docker host"),
        ("no-dockerfile", {}, "image", "docker/Dockerfile is missing"),
        ("none", {"runnerVersion": "2.320.0"}, "runner version", "past GitHub's deprecation"),
    ],
)
def test_each_failure_is_reported_with_a_fix(
    project: Project, setup: str, overrides: dict[str, Any], check: str, expected: str
) -> None:
    fake = project.fake
    if setup == "classic-no-admin":
        project.credential_file.write_text("ghp_repo_only")
        fake.add_token("ghp_repo_only", scopes=["repo"])
    elif setup == "fine-grained-read":
        project.credential_file.write_text("github_pat_read_only")
        fake.add_token(
            "github_pat_read_only",
            permissions={"organization_self_hosted_runners": "read", "administration": "read"},
        )
    elif setup == "public":
        fake.add_repo(ORG, "site", private=False)
    elif setup == "group-all":
        project.add_group(visibility="all")
    elif setup == "no-dockerfile":
        (project.root / "docker" / "Dockerfile").unlink()
    stack = project.write_org_stack(**overrides)

    result = project.run("doctor", "--stack", stack, "--json")

    assert result.code == 1, f"expected doctor to fail\n{result}"
    found = checks(result.json())[check]
    assert found["status"] == "fail", f"expected check '{check}' to fail, got {found}"
    assert expected in found["detail"], f"expected '{expected}' in the detail, got {found}"
    assert found["fix"], f"expected a fix for '{check}', got {found}"
    others = [c for name, c in checks(result.json()).items() if c["status"] == "fail"]
    assert len(others) == 1, f"expected only '{check}' to fail, got {others}"


def test_version_one_release_behind_is_a_warning_not_a_failure(project: Project) -> None:
    stack = project.write_org_stack(runnerVersion="2.328.0")
    result = project.run("doctor", "--stack", stack, "--json")
    assert result.code == 0, f"expected a warning only\n{result}"
    found = checks(result.json())["runner version"]
    assert found["status"] == "warn" and "30 days" in found["detail"], f"{found}"


def test_bad_credential_fails_and_skips_the_github_checks(project: Project) -> None:
    project.credential_file.write_text("ghp_unknown")
    stack = project.write_org_stack()
    result = project.run("doctor", "--stack", stack, "--json")
    assert result.code == 1, f"expected a refused credential to fail\n{result}"
    found = checks(result.json())
    assert found["credential"]["status"] == "fail", f"{found['credential']}"
    assert "401" in found["credential"]["detail"], f"expected the 401 named: {found}"
    assert found["organization"]["status"] == "skip", f"expected skips after it: {found}"


def test_github_app_permissions_come_from_the_installation_token(project: Project) -> None:
    pem = project.fake.add_app(71, 4242, ORG, {"administration": "write"})
    project.credential_file.write_text(pem)
    stack = project.write_org_stack(githubAppId=71, githubAppInstallationId=4242)

    result = project.run("doctor", "--stack", stack, "--json")

    assert result.code == 1, f"expected the missing permission to fail\n{result}"
    found = checks(result.json())
    assert found["credential"]["status"] == "pass", f"expected the App key to work: {found}"
    assert "organization_self_hosted_runners=write" in found["permissions"]["detail"], f"{found}"


def test_repo_stack_with_fine_grained_token_that_may_administer_its_repos(
    project: Project,
) -> None:
    project.credential_file.write_text("github_pat_admin")
    project.fake.add_token("github_pat_admin", permissions={"administration": "write"})
    stack = project.write_repo_stack()

    result = project.run("doctor", "--stack", stack, "--json")

    found = checks(result.json())
    assert found["permissions"]["status"] == "pass", f"expected the probe to pass: {found}"
    assert "runner group" not in found, f"expected no group check in repo mode: {list(found)}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stack", "nope"], "unknown stack 'nope'"),
        (["--stack", "broken"], "runner-fleet:runnerCount"),
        (["--stack", "ok", "--credential-file", "/nonexistent/credential"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(project: Project, args: list[str], expected: str) -> None:
    project.write_stack("broken", mode="org", organization=ORG, runnerCount=-1)
    project.write_stack("ok", mode="repo", organization=ORG, repositories=["coach"])
    explicit = "--credential-file" in args
    outcome = project.run("doctor", *args, credential=not explicit)
    assert outcome.code == 2, f"expected exit 2\n{outcome}"
    assert expected in outcome.stderr and outcome.stderr.count("\n") == 1, (
        f"expected one line containing '{expected}'\n{outcome}"
    )


def test_missing_credential_without_pulumi_names_both_other_ways(
    project: Project, no_pulumi: None, tmp_path: Path
) -> None:
    stack = project.write_org_stack()
    result = project.run("status", "--stack", stack, credential=False)
    assert result.code == 2, f"expected a missing credential to be bad input\n{result}"
    assert "--credential-file" in result.stderr and "RUNNERCTL_CREDENTIAL_FILE" in result.stderr, (
        f"expected both other ways named\n{result}"
    )
