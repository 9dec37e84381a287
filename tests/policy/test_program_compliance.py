"""The real program, run under Pulumi mocks for each committed stack, passes the policy pack.

Every declared resource is fed to every policy exactly as the analyzer would (secrets unwrapped,
unknown-checking proxy), so a program change that would be blocked in CI's preview fails here
first, on each engine (docker, swarm, kubernetes). The opt-in stacks show the other side: Docker
access turns into advisory warnings only.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

import runner_policies as rp
from tests.policy.test_runner_policies import make_args
from tests.pulumi_harness import DeclaredResource, run_program

Finding = tuple[str, str, str]  # (enforcement level, policy name, message)


def collector(into: list[str]) -> ReportViolation:
    def report(message: str, urn: str | None = None) -> None:
        into.append(message)

    return report


def findings(resources: list[DeclaredResource]) -> list[Finding]:
    found: list[Finding] = []
    for resource in resources:
        for policy in rp.POLICIES:
            assert isinstance(policy, ResourceValidationPolicy), f"{policy.name}: resource policy"
            level = (policy.enforcement_level or EnforcementLevel.ADVISORY).value
            messages: list[str] = []
            policy.validate(
                make_args(resource.type, resource.inputs, resource.name),
                collector(messages),
            )
            found.extend((level, policy.name, message) for message in messages)
    return found


def mandatory(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f[0] == EnforcementLevel.MANDATORY.value]


@pytest.mark.parametrize("stack", ["org", "repo"])
def test_committed_stack_has_no_mandatory_violation(stack: str) -> None:
    resources = run_program(stack).resources
    checked = {r.type for r in resources} & {
        rp.CONTAINER_TYPE,
        rp.NETWORK_TYPE,
        rp.REMOTE_IMAGE_TYPE,
    }
    assert checked == {rp.CONTAINER_TYPE, rp.NETWORK_TYPE, rp.REMOTE_IMAGE_TYPE}, (
        f"stack {stack} should declare containers, a network and an image for the policies to "
        f"check, got types {sorted({r.type for r in resources})}"
    )
    blocked = mandatory(findings(resources))
    assert blocked == [], f"stack {stack} would be blocked by the policy pack: {blocked}"


def test_org_stack_declares_a_runner_group_the_policies_check() -> None:
    groups = [r for r in run_program("org").resources if r.type == rp.RUNNER_GROUP_TYPE]
    assert len(groups) == 1, f"the org stack should declare one runner group, got {groups}"
    assert findings(groups) == [], (
        f"the org stack's runner group should pass, got {findings(groups)}"
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"allowHostDockerAccess": True, "dockerAccess": "socket"}, "engine socket"),
        ({"allowHostDockerAccess": True, "privileged": True}, "runs privileged"),
    ],
    ids=["socket", "privileged"],
)
def test_opted_in_docker_access_is_advisory_only(overrides: dict[str, Any], reason: str) -> None:
    resources = run_program("org", overrides).resources
    found = findings(resources)
    containers = [r for r in resources if r.type == rp.CONTAINER_TYPE]
    warnings = [f for f in found if f[1] == "host-docker-access-granted" and reason in f[2]]
    assert mandatory(found) == [], (
        f"an opted-in stack should not be blocked, got {mandatory(found)}"
    )
    assert len(warnings) == len(containers) > 0, (
        f"each of the {len(containers)} containers should carry one advisory warning about "
        f"{reason!r}, got {warnings}"
    )


def test_public_repositories_opt_in_is_blocked_without_pack_config() -> None:
    resources = run_program("org", {"allowsPublicRepositories": True}).resources
    blocked = [
        f for f in mandatory(findings(resources)) if f[1] == "public-repositories-need-opt-in"
    ]
    assert len(blocked) == 1, (
        "allowsPublicRepositories in the stack alone should still be blocked until "
        f"policy/config/org.json opts in too, got {blocked}"
    )


#: The resource types each non-default engine must declare for its policies to have work to do.
ENGINE_CHECKED_TYPES = {
    "swarm": {rp.SERVICE_TYPE, rp.NETWORK_TYPE, rp.RUNNER_GROUP_TYPE},
    "kubernetes": {rp.HELM_RELEASE_TYPE, rp.RUNNER_GROUP_TYPE},
}


@pytest.mark.parametrize("engine", ["swarm", "kubernetes"])
@pytest.mark.parametrize("stack", ["org", "repo"])
def test_committed_stack_on_each_engine_has_no_mandatory_violation(stack: str, engine: str) -> None:
    resources = run_program(stack, {"engine": engine}).resources
    declared = {r.type for r in resources}
    expected = ENGINE_CHECKED_TYPES[engine] - ({rp.RUNNER_GROUP_TYPE} if stack == "repo" else set())
    assert expected <= declared, (
        f"stack {stack} on engine {engine} should declare {sorted(expected)} for the policies to "
        f"check, got types {sorted(declared)}"
    )
    blocked = mandatory(findings(resources))
    assert blocked == [], (
        f"stack {stack} on engine {engine} would be blocked by the policy pack: {blocked}"
    )


def test_swarm_socket_opt_in_is_advisory_only() -> None:
    resources = run_program(
        "repo", {"engine": "swarm", "allowHostDockerAccess": True, "dockerAccess": "socket"}
    ).resources
    found = findings(resources)
    services = [r for r in resources if r.type == rp.SERVICE_TYPE]
    warnings = [f for f in found if f[1] == "swarm-host-docker-access-granted"]
    assert mandatory(found) == [], (
        f"a swarm stack that opted in to the socket should not be blocked, got {mandatory(found)}"
    )
    assert len(warnings) == len(services) > 1, (
        f"each of the {len(services)} services should carry one advisory warning about the "
        f"engine socket, got {warnings}"
    )


def test_kubernetes_dind_mode_is_advisory_only() -> None:
    resources = run_program(
        "org",
        {"engine": "kubernetes", "allowHostDockerAccess": True, "kubernetesContainerMode": "dind"},
    ).resources
    found = findings(resources)
    warnings = [f for f in found if f[1] == "arc-dind-container-mode"]
    assert mandatory(found) == [], (
        f"a kubernetes stack that opted in to dind should not be blocked, got {mandatory(found)}"
    )
    assert len(warnings) == 1 and "Release 'arc-runners'" in warnings[0][2], (
        f"the one scale set release (not the controller's) should warn about dind, got {warnings}"
    )


def test_policies_see_the_credential_the_program_delivers_on_each_engine() -> None:
    """The engines' delivery paths are what the policies check, so each must be present."""
    swarm = run_program("org", {"engine": "swarm"}).resources
    service = next(r for r in swarm if r.type == rp.SERVICE_TYPE)
    secrets = service.inputs["taskSpec"]["containerSpec"]["secrets"]
    assert [s["fileName"] for s in secrets] == [rp.CREDENTIAL_PATH], (
        f"the swarm service should mount one secret at {rp.CREDENTIAL_PATH}, got {secrets}"
    )
    kubernetes = run_program("org", {"engine": "kubernetes"}).resources
    config_secrets = [
        r.inputs["values"].get("githubConfigSecret")
        for r in kubernetes
        if r.type == rp.HELM_RELEASE_TYPE and "githubConfigSecret" in r.inputs["values"]
    ]
    assert len(config_secrets) == 1 and isinstance(config_secrets[0], str), (
        f"the scale set release should name its credential Secret, got {config_secrets}"
    )
