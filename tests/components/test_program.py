"""The real __main__.py under Pulumi mocks, with each committed stack file as its config."""

from __future__ import annotations

import pulumi
import pytest

from components.contract import CREDENTIAL_PATH, ENVIRONMENT
from tests.pulumi_harness import (
    TEST_TOKEN,
    DeclaredResource,
    ProgramRun,
    is_secret,
    run_program,
    unwrap,
)

GROUP = "github:index/actionsRunnerGroup:ActionsRunnerGroup"
CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
NETWORK = "docker:index/network:Network"
SEARCH = "github:index/getRepositories:getRepositories"


def env_of(container: DeclaredResource) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in unwrap(container.inputs["envs"]))


def test_org_stack_declares_group_image_network_and_four_runners() -> None:
    run = run_program("org")
    types = sorted(r.type for r in run.resources if not r.type.startswith("pulumi:providers"))
    assert types == sorted(
        [GROUP, IMAGE, NETWORK]
        + [CONTAINER] * 4
        + [
            "runner-fleet:index:RunnerGroup",
            "runner-fleet:index:RunnerImage",
            "runner-fleet:index:RunnerFleet",
        ]
    ), f"unexpected resource set for the org stack: {types}"
    group = run.one(GROUP)
    assert group.inputs["visibility"] == "selected", f"{group.name} must be visibility 'selected'"
    assert group.inputs["selectedRepositoryIds"] == [101, 102, 103, 104], (
        f"{group.name} must allow exactly the four allowlisted repository ids"
    )
    assert group.inputs["allowsPublicRepositories"] is False, f"{group.name} must refuse public"
    assert group.inputs["restrictedToWorkflows"] is False
    assert group.inputs["name"] == "virtuoso902-runners"


def test_repo_stack_declares_one_runner_per_repository_and_no_group() -> None:
    run = run_program("repo")
    assert run.of_type(GROUP) == [], "the repo stack must not declare a runner group"
    containers = run.of_type(CONTAINER)
    repositories = sorted(env_of(c)["FLEET_REPOSITORY"] for c in containers)
    assert repositories == [
        "virtuoso902/coach",
        "virtuoso902/ghActions",
        "virtuoso902/mcp",
        "virtuoso902/personal",
    ], f"one repo runner per repository expected, got {repositories}"
    for container in containers:
        env = env_of(container)
        assert env["FLEET_MODE"] == "repo"
        assert "FLEET_RUNNER_GROUP_ID" not in env, f"{container.name} is not in a runner group"
    assert run.calls == [], "the repo stack needs no GitHub lookups"


def test_containers_are_hardened_by_default() -> None:
    for container in run_program("org").of_type(CONTAINER):
        inputs = unwrap(container.inputs)
        name = container.name
        assert inputs["privileged"] is False, f"{name} must not be privileged"
        assert inputs["mounts"] == [], f"{name} must not mount anything (no Docker socket)"
        assert "no-new-privileges:true" in inputs["securityOpts"], f"{name} needs no-new-privs"
        assert inputs["capabilities"]["drops"] == ["ALL"], f"{name} must drop all capabilities"
        assert inputs["memory"] == 4096 and inputs["memorySwap"] == 4096, f"{name} memory limit"
        assert inputs["cpus"] == "2", f"{name} cpu limit"
        assert [u["name"] for u in inputs["ulimits"]] == ["nproc"], f"{name} process limit"
        assert inputs["logDriver"] == "json-file" and inputs["logOpts"]["max-size"] == "10m"
        assert set(inputs["tmpfs"]) == {"/home/runner/_work", "/tmp"}, f"{name} tmpfs"
        assert inputs["restart"] == "unless-stopped"
        assert inputs["init"] is True
        assert inputs["networksAdvanced"] == [{"name": "gha-org-net"}]
        labels = {label["label"]: label["value"] for label in inputs["labels"]}
        assert labels["runner-fleet.stack"] == "org"
        assert labels["runner-fleet.mode"] == "org"
        assert labels["runner-fleet.organization"] == "virtuoso902"
        assert labels["runner-fleet.runner-group"] == "virtuoso902-runners"
        assert "runner-fleet.host-docker-access" not in labels


def test_fleet_network_blocks_runner_to_runner_traffic() -> None:
    network = run_program("org").one(NETWORK)
    assert network.inputs["options"] == {"com.docker.network.bridge.enable_icc": "false"}, (
        f"{network.name} must switch inter-container communication off"
    )


def test_credential_is_a_root_only_secret_file_never_env_or_command() -> None:
    run = run_program("org")
    for container in run.of_type(CONTAINER):
        uploads = container.inputs["uploads"]
        assert is_secret(uploads), f"{container.name}: the uploaded credential must be secret"
        (upload,) = unwrap(uploads)
        assert upload["file"] == CREDENTIAL_PATH
        assert upload["permissions"] == "0400" and upload["owner"] == "0", (
            f"{container.name}: credential file must be root-only"
        )
        assert upload["content"] == TEST_TOKEN
        flat = repr(unwrap({k: v for k, v in container.inputs.items() if k != "uploads"}))
        assert TEST_TOKEN not in flat, f"{container.name} leaks the credential outside uploads"
    for name, value in run.outputs.items():
        assert TEST_TOKEN not in repr(value), f"output {name} leaks the credential"


def test_github_provider_gets_the_credential_as_a_secret() -> None:
    run = run_program("org")
    provider = next(r for r in run.resources if r.type == "pulumi:providers:github")
    assert is_secret(provider.inputs.get("token")), "the provider token must be a secret input"
    assert provider.inputs["owner"] == "virtuoso902"


def test_container_environment_is_the_documented_contract() -> None:
    run = run_program("org")
    for container in run.of_type(CONTAINER):
        env = env_of(container)
        assert set(env) <= set(ENVIRONMENT), (
            f"{container.name} sets variables outside components/contract.py: "
            f"{sorted(set(env) - set(ENVIRONMENT))}"
        )
        assert env["FLEET_RUNNER_GROUP_ID"] == "42", f"{container.name} must carry the group id"
        assert env["FLEET_LABELS"] == "self-hosted,Linux,X64,ephemeral,docker,org-runner"
        assert env["FLEET_NAME_PREFIX"] == unwrap(container.inputs["name"])
    names = run.outputs["containerNames"]
    assert names == ["gha-org-0", "gha-org-1", "gha-org-2", "gha-org-3"]


def test_org_and_repo_fleets_share_a_host_without_name_collisions() -> None:
    org = {unwrap(c.inputs["name"]) for c in run_program("org").of_type(CONTAINER)}
    repo = {unwrap(c.inputs["name"]) for c in run_program("repo").of_type(CONTAINER)}
    assert not org & repo, f"container names collide between stacks: {org & repo}"
    org_net = run_program("org").one(NETWORK).inputs["name"]
    repo_net = run_program("repo").one(NETWORK).inputs["name"]
    assert org_net != repo_net


def test_exports_are_what_operators_need_and_nothing_secret() -> None:
    run = run_program("org")
    assert set(run.outputs) == {
        "mode",
        "organization",
        "repositories",
        "labels",
        "containerNames",
        "networkName",
        "imageId",
        "imageName",
        "runnerGroupId",
        "runnerGroupName",
        "allowedRepositoryIds",
    }
    assert run.outputs["runnerGroupId"] == 42
    assert run.outputs["allowedRepositoryIds"] == [101, 102, 103, 104]
    assert run.secret_outputs == set(), f"no output should be secret: {run.secret_outputs}"


@pytest.mark.parametrize("preview", [True, False])
def test_both_preview_and_update_declare_the_same_resources(preview: bool) -> None:
    run = run_program("org", preview=preview)
    assert len(run.of_type(CONTAINER)) == 4, f"preview={preview}: four runners expected"
    assert len(run.of_type(GROUP)) == 1


def test_two_runs_declare_identical_inputs() -> None:
    def snapshot(run: ProgramRun) -> list[tuple[str, str, str]]:
        return sorted((r.type, r.name, repr(unwrap(r.inputs))) for r in run.resources)

    first, second = snapshot(run_program("org")), snapshot(run_program("org"))
    assert first == second, "the same config must declare identical inputs (no spurious diffs)"


def test_rebuilt_image_rolls_the_fleet_and_unchanged_one_does_not() -> None:
    base = run_program("org")
    again = run_program("org")
    bumped = run_program("org", {"runnerVersion": "2.335.0"})
    image_of = lambda run: {unwrap(c.inputs["image"]) for c in run.of_type(CONTAINER)}  # noqa: E731
    assert image_of(base) == image_of(again), "an unchanged image must not roll the fleet"
    assert image_of(base) != image_of(bumped), "a new runner version must roll every container"
    assert all(i.startswith("sha256:") for i in image_of(base)), "containers use the image ID"
    image = base.one(IMAGE)
    assert image.inputs["build"]["buildArgs"]["RUNNER_VERSION"] == "2.334.0"
    assert image.inputs["build"]["buildArgs"]["BASE_IMAGE"].endswith(":2.334.0")


def test_prebuilt_image_is_used_without_building() -> None:
    run = run_program("org", {"image": "registry.internal/runner@sha256:" + "a" * 64})
    image = run.one(IMAGE)
    assert "build" not in image.inputs, "a prebuilt image must not be built"
    assert image.inputs["name"].startswith("registry.internal/runner@")


def test_repository_lookup_is_one_call_whatever_the_allowlist() -> None:
    repos = {f"repo{i}": 1000 + i for i in range(300)}
    run = run_program(
        "org", {"allowedRepositories": sorted(repos), "runnerCount": 1}, org_repositories=repos
    )
    searches = [call for call in run.calls if call[0] == SEARCH]
    assert len(searches) == 1, f"300 repositories should cost one lookup, took {len(searches)}"
    assert run.one(GROUP).inputs["selectedRepositoryIds"] == [repos[n] for n in sorted(repos)]


def test_pinned_ids_need_no_lookup() -> None:
    pinned = {"coach": 1, "mcp": 2, "personal": 3, "ghActions": 4}
    run = run_program("org", {"repositoryIds": pinned})
    assert run.calls == [], "with every id pinned no provider call is needed"
    assert run.one(GROUP).inputs["selectedRepositoryIds"] == [1, 2, 3, 4]


def test_unknown_repository_fails_the_preview_naming_it() -> None:
    with pytest.raises(pulumi.RunError, match="'nosuchrepo'"):
        run_program("org", {"allowedRepositories": ["coach", "nosuchrepo"]}, preview=True)


def test_bad_config_declares_nothing() -> None:
    run_holder: dict[str, ProgramRun] = {}
    with pytest.raises(pulumi.RunError, match="configuration problem") as caught:
        run_holder["run"] = run_program("org", {"labels": ["a,b"], "runnerCount": -1})
    message = str(caught.value)
    assert "labels" in message and "runnerCount" in message, message
    assert "Traceback" not in message


def test_host_docker_access_opt_in_is_labelled() -> None:
    run = run_program(
        "org", {"dockerAccess": "socket", "allowHostDockerAccess": True, "runnerCount": 1}
    )
    (container,) = run.of_type(CONTAINER)
    inputs = unwrap(container.inputs)
    assert inputs["mounts"][0]["target"] == "/var/run/docker.sock"
    labels = {label["label"]: label["value"] for label in inputs["labels"]}
    assert labels["runner-fleet.host-docker-access"] == "granted"


def test_workflow_restriction_and_public_opt_in_reach_the_group() -> None:
    workflow = "virtuoso902/coach/.github/workflows/ci.yml@refs/heads/main"
    run = run_program("org", {"selectedWorkflows": [workflow], "allowsPublicRepositories": True})
    group = run.one(GROUP)
    assert group.inputs["restrictedToWorkflows"] is True
    assert group.inputs["selectedWorkflows"] == [workflow]
    assert group.inputs["allowsPublicRepositories"] is True


def test_app_auth_passes_ids_not_the_key() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIfake\n-----END RSA PRIVATE KEY-----\n"
    run = run_program(
        "org",
        {
            "githubAppId": 12345,
            "githubAppInstallationId": 678,
            "githubCredential": key,
            "runnerCount": 1,
        },
    )
    (container,) = run.of_type(CONTAINER)
    env = env_of(container)
    assert env["FLEET_AUTH"] == "app"
    assert env["FLEET_APP_ID"] == "12345" and env["FLEET_APP_INSTALLATION_ID"] == "678"
    assert "PRIVATE KEY" not in repr(env)
    provider = next(r for r in run.resources if r.type == "pulumi:providers:github")
    assert is_secret(provider.inputs["appAuth"]), (
        "the App's key must reach the provider as a secret"
    )


def test_scale_to_zero_keeps_group_and_network() -> None:
    run = run_program("org", {"runnerCount": 0})
    assert run.of_type(CONTAINER) == []
    assert len(run.of_type(GROUP)) == 1 and len(run.of_type(NETWORK)) == 1
