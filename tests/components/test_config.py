"""Stack configuration: every bad input is named with its fix, all at once, before anything runs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.config import (
    MAX_RUNNERS,
    ConfigError,
    config_keys,
    load_settings,
    parse_size_mb,
)
from tests.pulumi_harness import ROOT, stack_config

SECRET = ["runner-fleet:githubCredential"]


def settings_for(stack: str, **overrides: Any):  # type: ignore[no-untyped-def]
    return load_settings(stack, stack_config(stack, overrides), SECRET)


def problems_for(stack: str, **overrides: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        settings_for(stack, **overrides)
    return [str(problem) for problem in caught.value.problems]


def test_committed_org_stack_is_the_worked_example() -> None:
    settings = settings_for("org")
    assert settings.mode == "org"
    assert settings.organization == "virtuoso902"
    assert settings.repository_names == ("coach", "mcp", "personal", "ghActions"), (
        "the org stack's allowlist should be the worked example's four repositories"
    )
    assert settings.labels == ("self-hosted", "Linux", "X64", "ephemeral", "docker", "org-runner")
    assert settings.runner_group and settings.runner_group.lower() != "default", (
        "the org stack must use a dedicated runner group, not Default"
    )
    assert settings.ephemeral is True


def test_committed_repo_stack_covers_the_same_repositories() -> None:
    org, repo = settings_for("org"), settings_for("repo")
    assert repo.mode == "repo"
    assert set(repo.repository_names) == set(org.repository_names), (
        "the repo fallback must cover exactly the org stack's allowlist"
    )
    assert all(count >= 1 for count in repo.runners_per_repository().values()), (
        "every repository needs at least one fallback runner"
    )


def test_stack_files_hold_no_credential() -> None:
    for stack in ("org", "repo"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        config = yaml.safe_load(text)["config"]
        assert "runner-fleet:githubCredential" not in config, (
            f"Pulumi.{stack}.yaml must not carry the credential; it is set with --secret"
        )
        for marker in ("ghp_", "ghs_", "github_pat_", "PRIVATE KEY"):
            assert marker not in text, f"Pulumi.{stack}.yaml contains {marker!r}"


def test_pulumi_yaml_declares_every_key_the_program_reads() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    declared = project["config"]
    assert set(declared) == set(config_keys()), (
        "Pulumi.yaml's config block and FleetSettings disagree on the keys: "
        f"only in Pulumi.yaml {sorted(set(declared) - set(config_keys()))}, "
        f"only in the model {sorted(set(config_keys()) - set(declared))}"
    )
    for key, declaration in declared.items():
        assert declaration.get("description"), f"{key} has no description in Pulumi.yaml"
    assert declared["githubCredential"].get("secret") is True, "the credential must be secret"
    assert "default" not in declared["githubCredential"], (
        "a secret key with a default would be applied unencrypted by the CLI"
    )


def test_settings_are_frozen() -> None:
    settings = settings_for("org")
    with pytest.raises(Exception, match="frozen"):
        settings.runner_count = 9


def test_credential_never_shows_in_repr() -> None:
    settings = settings_for("org")
    assert "ghp_" not in repr(settings) and "ghp_" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("stack", "overrides", "expected"),
    [
        ("org", {"organization": ""}, "organization: is required in org mode"),
        ("org", {"mode": "cluster"}, "mode: must be 'org' or 'repo'"),
        ("repo", {"runnerGroup": "virtuoso902-runners"}, "runnerGroup: is an org-mode key"),
        ("repo", {"allowedRepositories": ["coach"]}, "allowedRepositories: is an org-mode key"),
        ("org", {"repositories": ["coach"]}, "repositories: is a repo-mode key"),
        ("org", {"allowedRepositories": []}, "allowedRepositories: is empty"),
        ("repo", {"repositories": []}, "repositories: is empty"),
        ("org", {"allowedRepositories": ["coach", "Coach"]}, "'Coach' repeats 'coach'"),
        ("org", {"allowedRepositories": ["other-org/coach"]}, "belongs to 'other-org'"),
        ("org", {"allowedRepositories": ["co ach"]}, "is not a valid repository name"),
        ("org", {"allowedRepositories": ["bad$name"]}, "is not a valid repository name"),
        ("org", {"runnerCount": -1}, "runnerCount: is -1; it cannot be negative"),
        ("org", {"runnerCount": MAX_RUNNERS + 1}, f"one stack holds at most {MAX_RUNNERS}"),
        ("repo", {"runnerCount": 60}, "declares 240 runners"),
        ("org", {"runnerCount": "many"}, "runnerCount: must be a whole number"),
        ("org", {"labels": []}, "labels: is empty"),
        ("org", {"labels": ["self-hosted", ""]}, "label is empty"),
        ("org", {"labels": ["a,b"]}, "contains a comma"),
        ("org", {"labels": ["x" * 101]}, "longer than 100 characters"),
        ("org", {"labels": [f"l{i}" for i in range(101)]}, "has 101 labels"),
        ("org", {"labels": ["gpu", "GPU"]}, "'GPU' is listed twice"),
        ("org", {"labels": ["two words"]}, "'two words' has characters other than"),
        ("org", {"namePrefix": "Bad_Prefix"}, "namePrefix: 'Bad_Prefix' is not a valid"),
        ("org", {"namePrefix": "-leading"}, "namePrefix: '-leading' is not a valid"),
        ("org", {"namePrefix": "p" * 40}, "is not a valid container and runner name prefix"),
        ("org", {"memory": "lots"}, "memory: 'lots' is not a size"),
        ("org", {"memory": "10m"}, "memory: '10m' is below 64m"),
        ("org", {"cpus": "two"}, "cpus: 'two' is not a CPU count"),
        ("org", {"cpus": "0"}, "cpus: '0' is not a CPU count"),
        ("org", {"workDirSize": "8 gallons"}, "workDirSize: '8 gallons' is not a size"),
        ("org", {"pidsLimit": 10}, "pidsLimit: is 10"),
        (
            "org",
            {"runerCount": 3},
            "runerCount: is not a key this program reads. Fix: did you mean 'runnerCount'?",
        ),
        ("org", {"dockerAccess": "socket"}, "allowHostDockerAccess is not set"),
        ("org", {"privileged": True}, "privileged: privileged runners can escape"),
        ("org", {"runnerGroup": "Default"}, "must not be the organization's Default group"),
        ("org", {"runnerGroup": ""}, "runnerGroup: is required in org mode"),
        ("org", {"githubAppId": 123}, "githubAppId and githubAppInstallationId go together"),
        ("org", {"githubAppId": 1, "githubAppInstallationId": 2}, "must be the App's private key"),
        ("org", {"githubCredential": None}, "githubCredential: is required"),
        ("org", {"githubApiUrl": "api.github.com"}, "is not an http(s) URL"),
        ("org", {"registration": "pat"}, "registration: is 'pat'"),
        ("org", {"ephemeral": False}, "just-in-time runners are always ephemeral"),
        ("org", {"runnerVersion": "latest"}, "'latest' is not a version"),
        ("org", {"dockerHost": "docker.example"}, "is not a Docker host"),
        ("org", {"selectedWorkflows": ["ci.yml"]}, "'ci.yml' is not a workflow reference"),
        ("org", {"repositoryIds": {"unknown": 5}}, "names 'unknown', which is not in"),
        ("repo", {"repositoryRunnerCounts": {"coach": -2}}, "'coach' must map to a whole number"),
    ],
)
def test_bad_input_is_named_with_its_fix(
    stack: str, overrides: dict[str, Any], expected: str
) -> None:
    problems = problems_for(stack, **overrides)
    assert any(expected in problem for problem in problems), (
        f"expected a problem containing {expected!r}, got {problems}"
    )
    assert all("Fix: " in problem for problem in problems), f"every problem names a fix: {problems}"


def test_every_offender_is_reported_in_one_error() -> None:
    problems = problems_for(
        "org",
        organization="",
        labels=["a,b"],
        memory="lots",
        runnerCount=-3,
        namePrefix="UPPER",
        runerCount=1,
        dockerAccess="socket",
    )
    keys = {problem.split(":")[1] for problem in problems}
    assert {
        "organization",
        "labels",
        "memory",
        "runnerCount",
        "namePrefix",
        "runerCount",
        "dockerAccess",
    } <= keys, f"all seven offenders should be reported together, got {problems}"


def test_plain_text_credential_is_refused() -> None:
    config = stack_config("org")
    with pytest.raises(ConfigError, match="githubCredential: is stored in plain text"):
        load_settings("org", config, secret_keys=[])


def test_opt_in_allows_socket_and_privileged() -> None:
    settings = settings_for(
        "org", dockerAccess="socket", privileged=True, allowHostDockerAccess=True
    )
    assert settings.docker_access == "socket" and settings.privileged


def test_repo_mode_counts_override_per_repository() -> None:
    settings = settings_for("repo", repositoryRunnerCounts={"coach": 3}, runnerCount=1)
    assert settings.runners_per_repository() == {
        "coach": 3,
        "mcp": 1,
        "personal": 1,
        "ghActions": 1,
    }
    assert settings.total_runners() == 6


@pytest.mark.parametrize(
    ("text", "megabytes"),
    [("4g", 4096), ("512m", 512), ("1.5g", 1536), ("2GiB", 2048), ("1t", 1024 * 1024)],
)
def test_sizes_parse(text: str, megabytes: int) -> None:
    assert parse_size_mb(text) == megabytes, f"{text} should be {megabytes} MB"


def test_prefix_defaults_to_the_stack() -> None:
    assert settings_for("org").prefix == "gha-org"
    assert settings_for("repo").prefix == "gha-repo"
    assert settings_for("org", namePrefix="ci-pool").prefix == "ci-pool"
