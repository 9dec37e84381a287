"""The engine setting: validation, the swarm engine's Service and the kubernetes engine's charts.

Runs the real program under Pulumi mocks (tests/pulumi_harness.py) with the committed stacks and
``engine`` overridden. The kubernetes values are checked against the keys the charts document.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest

from components.config import DEFAULT_ARC_CHART_VERSION
from components.contract import CREDENTIAL_PATH
from components.runner_scale_set import CONTROLLER_CHART, SCALE_SET_CHART
from tests.pulumi_harness import TEST_TOKEN, ProgramRun, run_program

SERVICE = "docker:index/service:Service"
SECRET = "docker:index/secret:Secret"
CONTAINER = "docker:index/container:Container"
RELEASE = "kubernetes:helm.sh/v3:Release"
K8S_SECRET = "kubernetes:core/v1:Secret"
APP_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEfake\n-----END RSA PRIVATE KEY-----\n"


def errors_of(stack: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        run_program(stack, overrides)
    return str(caught.value)


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "overrides", "expected"),
    [
        ("org", {"engine": "nomad"}, r"engine: is 'nomad'.*Fix: use one of 'docker', 'swarm'"),
        (
            "org",
            {"swarmPlacementConstraints": ["node.role==worker"]},
            r"swarmPlacementConstraints: is a swarm-engine key but engine is 'docker'",
        ),
        (
            "repo",
            {"engine": "swarm", "arcChartVersion": "0.13.0"},
            r"arcChartVersion: is a kubernetes-engine key but engine is 'swarm'",
        ),
        (
            "org",
            {"engine": "swarm", "privileged": True, "allowHostDockerAccess": True},
            r"privileged: Swarm services cannot run privileged",
        ),
        (
            "org",
            {"engine": "swarm", "swarmPlacementConstraints": ["runners"]},
            r"'runners' is not a placement constraint",
        ),
        ("org", {"engine": "swarm", "swarmPlacementConstraints": []}, r"is empty"),
        (
            "repo",
            {"engine": "swarm", "repositories": ["a.b", "a-b"]},
            r"'a-b' and 'a.b' would share the Swarm service 'gha-repo-a-b'",
        ),
        (
            "org",
            {"engine": "kubernetes", "kubernetesContainerMode": "dind"},
            r"kubernetesContainerMode: 'dind' runs a privileged Docker daemon",
        ),
        (
            "org",
            {"engine": "kubernetes", "dockerHost": "ssh://ops@runner-host"},
            r"dockerHost: is a Docker-host setting",
        ),
        (
            "org",
            {"engine": "kubernetes", "registration": "token", "ephemeral": True},
            r"registration: actions-runner-controller registers runners just in time",
        ),
        ("org", {"engine": "kubernetes", "arcChartVersion": "latest"}, r"not a pinned chart"),
        (
            "org",
            {"engine": "kubernetes", "kubernetesNamespace": "Runners_NS"},
            r"kubernetesNamespace: 'Runners_NS' is not a Kubernetes namespace name",
        ),
        (
            "org",
            {"engine": "kubernetes", "kubernetesMinRunners": 9},
            r"kubernetesMinRunners: is 9, above runnerCount \(4\)",
        ),
    ],
)
def test_bad_engine_settings_are_refused_with_the_key_and_a_fix(
    stack: str, overrides: dict[str, Any], expected: str
) -> None:
    message = errors_of(stack, overrides)
    assert re.search(expected, message), (
        f"expected the error to match {expected!r}, got:\n{message}"
    )


def test_every_engine_problem_is_reported_at_once() -> None:
    message = errors_of(
        "org",
        {
            "engine": "kubernetes",
            "swarmPlacementConstraints": ["node.role==worker"],
            "kubernetesContainerMode": "dind",
            "arcChartVersion": "latest",
        },
    )
    for key in ("swarmPlacementConstraints", "kubernetesContainerMode", "arcChartVersion"):
        assert f"runner-fleet:{key}:" in message, f"expected {key} among the problems:\n{message}"


@pytest.mark.parametrize("engine", ["docker", "swarm", "kubernetes"])
@pytest.mark.parametrize("stack", ["org", "repo"])
def test_both_stacks_run_on_every_engine(stack: str, engine: str) -> None:
    run = run_program(stack, {"engine": engine})
    if stack == "org":
        group = run.one("github:index/actionsRunnerGroup:ActionsRunnerGroup")
        assert group.inputs["visibility"] == "selected", (
            f"expected the {engine} engine to keep the org stack's selected runner group"
        )
    else:
        assert not run.of_type("github:index/actionsRunnerGroup:ActionsRunnerGroup"), (
            f"expected no runner group in the repo stack on the {engine} engine"
        )
    fleets = {"docker": CONTAINER, "swarm": SERVICE, "kubernetes": RELEASE}
    for other, token in fleets.items():
        if other != engine:
            assert not run.of_type(token), f"expected no {token} on the {engine} engine"


# --- swarm ---------------------------------------------------------------------------------------


def swarm_run(stack: str = "org", **overrides: Any) -> ProgramRun:
    return run_program(stack, {"engine": "swarm", **overrides})


def test_swarm_service_replaces_every_finished_runner_with_a_new_container() -> None:
    service = swarm_run().one(SERVICE)
    task = service.inputs["taskSpec"]
    assert task["restartPolicy"]["condition"] == "any", (
        f"expected {service.name} to restart on any exit, got {task['restartPolicy']}"
    )
    assert service.inputs["mode"]["replicated"]["replicas"] == 4, (
        f"expected runnerCount (4) replicas in {service.name}, got {service.inputs['mode']}"
    )
    assert service.inputs["name"] == "gha-org", f"expected the service gha-org, got {service.name}"


def test_swarm_credential_is_a_root_only_secret_never_an_environment_variable() -> None:
    run = swarm_run()
    service = run.one(SERVICE)
    spec = service.inputs["taskSpec"]["containerSpec"]
    mounts = spec["secrets"]
    assert len(mounts) == 1 and mounts[0]["fileName"] == CREDENTIAL_PATH, (
        f"expected the credential mounted at {CREDENTIAL_PATH}, got {mounts}"
    )
    assert (mounts[0]["fileUid"], mounts[0]["fileGid"], int(mounts[0]["fileMode"])) == (
        "0",
        "0",
        0o400,
    ), f"expected the secret owned by root with mode 0400, got {mounts[0]}"
    assert not any(TEST_TOKEN in str(v) for v in spec["env"].values()), (
        "expected the token in no environment variable"
    )
    secret = run.one(SECRET)
    assert TEST_TOKEN not in str(secret.inputs.get("data")), (
        "expected the Secret's data base64-encoded and secret, never the plain token"
    )


def test_swarm_tasks_carry_the_fleet_contract_limits_logs_and_placement() -> None:
    service = swarm_run(swarmPlacementConstraints=["node.labels.runners==true"]).one(SERVICE)
    task = service.inputs["taskSpec"]
    spec = task["containerSpec"]
    env = spec["env"]
    assert env["FLEET_RUNNER_GROUP_ID"] == "42" and env["FLEET_MODE"] == "org", (
        f"expected the org contract with the group id, got {env}"
    )
    assert env["FLEET_NAME_PREFIX"] == "gha-org-{{.Task.Slot}}", (
        f"expected a runner-name prefix per task slot, got {env['FLEET_NAME_PREFIX']}"
    )
    assert spec["capDrops"] == ["ALL"] and "NET_RAW" not in spec["capAdds"], (
        f"expected every capability dropped but the entrypoint's, got {spec['capAdds']}"
    )
    limits = task["resources"]["limits"]
    assert (limits["memoryBytes"], limits["nanoCpus"]) == (4096 * 1024 * 1024, 2 * 10**9), (
        f"expected 4g and 2 CPUs per runner, got {limits}"
    )
    assert task["logDriver"]["options"] == {"max-size": "10m", "max-file": "3"}, (
        f"expected rotated logs, got {task['logDriver']}"
    )
    assert task["placement"]["constraints"] == ["node.labels.runners==true"], (
        f"expected the configured placement, got {task['placement']}"
    )
    update = service.inputs["updateConfig"]
    assert update["order"] == "stop-first" and spec["stopSignal"] == "SIGTERM", (
        f"expected stop-first updates that send SIGTERM, got {update} / {spec['stopSignal']}"
    )


def test_swarm_repo_stack_declares_one_service_per_repository() -> None:
    run = swarm_run("repo", repositoryRunnerCounts={"coach": 3})
    replicas = {
        s.inputs["name"]: s.inputs["mode"]["replicated"]["replicas"] for s in run.of_type(SERVICE)
    }
    assert replicas == {
        "gha-repo-coach": 3,
        "gha-repo-mcp": 1,
        "gha-repo-personal": 1,
        "gha-repo-ghActions": 1,
    }, f"expected one service per repository with its count, got {replicas}"


# --- kubernetes ----------------------------------------------------------------------------------

# Keys verified in the charts' documented values, gha-runner-scale-set 0.14.2
# (charts/gha-runner-scale-set/values.yaml and charts/gha-runner-scale-set-controller/values.yaml
# in actions/actions-runner-controller, tag gha-runner-scale-set-0.14.2). A dict names the keys
# allowed below a key; None means a free-form map or a leaf. Under template.spec the chart takes
# a Kubernetes PodSpec, so the PodSpec, Container and SecurityContext fields used are listed.
_SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": None,
    "capabilities": {"drop": None, "add": None},
    "runAsNonRoot": None,
    "runAsUser": None,
    "runAsGroup": None,
    "readOnlyRootFilesystem": None,
    "seccompProfile": {"type": None},
}
SCALE_SET_VALUES: dict[str, Any] = {
    "githubConfigUrl": None,
    "scaleSetLabels": None,
    "githubConfigSecret": None,
    "proxy": None,
    "maxRunners": None,
    "minRunners": None,
    "runnerGroup": None,
    "runnerScaleSetName": None,
    "fullnameOverride": None,
    "githubServerTLS": None,
    "keyVault": None,
    "containerMode": {
        "type": None,
        "kubernetesModeWorkVolumeClaim": None,
        "kubernetesModeAdditionalRoleRules": None,
    },
    "listenerTemplate": None,
    "listenerMetrics": None,
    "template": {
        "metadata": None,
        "spec": {
            "securityContext": _SECURITY_CONTEXT,
            "automountServiceAccountToken": None,
            "containers": {
                "name": None,
                "image": None,
                "command": None,
                "resources": {"limits": None, "requests": None},
                "securityContext": _SECURITY_CONTEXT,
            },
        },
    },
    "controllerServiceAccount": {"namespace": None, "name": None},
    "namespaceOverride": None,
    "annotations": None,
    "labels": None,
    "resourceMeta": None,
}
CONTROLLER_VALUES: dict[str, Any] = {
    "labels": None,
    "replicaCount": None,
    "image": {"repository": None, "pullPolicy": None, "tag": None},
    "imagePullSecrets": None,
    "nameOverride": None,
    "fullnameOverride": None,
    "env": None,
    "serviceAccount": {"create": None, "annotations": None, "name": None},
    "podAnnotations": None,
    "podLabels": None,
    "podSecurityContext": None,
    "securityContext": _SECURITY_CONTEXT,
    "resources": None,
    "nodeSelector": None,
    "tolerations": None,
    "affinity": None,
    "topologySpreadConstraints": None,
    "volumes": None,
    "volumeMounts": None,
    "priorityClassName": None,
    "metrics": {"controllerManagerAddr": None, "listenerAddr": None, "listenerEndpoint": None},
    "pprof": None,
    "flags": {
        "logLevel": None,
        "logFormat": None,
        "watchSingleNamespace": None,
        "runnerMaxConcurrentReconciles": None,
        "updateStrategy": None,
        "excludeLabelPropagationPrefixes": None,
        "rateLimiter": None,
    },
    "namespaceOverride": None,
}


def undocumented_keys(values: Any, allowed: dict[str, Any] | None, path: str = "") -> list[str]:
    """Every key path in ``values`` that ``allowed`` does not document."""
    if allowed is None:
        return []
    if isinstance(values, list):
        return [p for item in values for p in undocumented_keys(item, allowed, path + "[]")]
    if not isinstance(values, dict):
        return []
    found = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in allowed:
            found.append(where)
        else:
            found += undocumented_keys(value, allowed[key], where)
    return found


def kubernetes_run(stack: str = "org", **overrides: Any) -> ProgramRun:
    return run_program(stack, {"engine": "kubernetes", **overrides})


def releases(run: ProgramRun) -> tuple[Any, list[Any]]:
    found = run.of_type(RELEASE)
    controller = [r for r in found if r.inputs["chart"] == CONTROLLER_CHART]
    scale_sets = [r for r in found if r.inputs["chart"] == SCALE_SET_CHART]
    assert len(controller) == 1, f"expected one controller release, got {len(controller)}"
    return controller[0], scale_sets


@pytest.mark.parametrize("stack", ["org", "repo"])
def test_charts_are_pinned_and_every_value_is_documented(stack: str) -> None:
    controller, scale_sets = releases(kubernetes_run(stack))
    for release in [controller, *scale_sets]:
        assert release.inputs["version"] == DEFAULT_ARC_CHART_VERSION, (
            f"expected {release.name} pinned to {DEFAULT_ARC_CHART_VERSION}, "
            f"got {release.inputs.get('version')}"
        )
    extra = undocumented_keys(controller.inputs["values"], CONTROLLER_VALUES)
    assert not extra, f"expected only documented controller values, found {extra}"
    for release in scale_sets:
        extra = undocumented_keys(release.inputs["values"], SCALE_SET_VALUES)
        assert not extra, f"expected only documented values in {release.name}, found {extra}"


def test_org_scale_set_joins_the_group_with_the_stack_labels_and_limits() -> None:
    run = kubernetes_run(kubernetesMinRunners=1)
    controller, scale_sets = releases(run)
    assert len(scale_sets) == 1, f"expected one org scale set, got {len(scale_sets)}"
    values = scale_sets[0].inputs["values"]
    assert values["githubConfigUrl"] == "https://github.com/virtuoso902", (
        f"expected the organization's URL, got {values['githubConfigUrl']}"
    )
    assert values["runnerGroup"] == "virtuoso902-runners", (
        f"expected the RunnerGroup component's group, got {values.get('runnerGroup')}"
    )
    assert (values["minRunners"], values["maxRunners"]) == (1, 4), (
        f"expected 1 to runnerCount (4) runners, got {values['minRunners']}-{values['maxRunners']}"
    )
    assert values["scaleSetLabels"] == [
        "self-hosted",
        "Linux",
        "X64",
        "ephemeral",
        "docker",
        "org-runner",
    ], f"expected the stack's labels as scaleSetLabels, got {values['scaleSetLabels']}"
    runner = values["template"]["spec"]["containers"][0]
    assert runner["securityContext"]["allowPrivilegeEscalation"] is False, (
        "expected no privilege escalation in runner pods without jobSudo"
    )
    assert runner["resources"]["limits"] == {"memory": "4096Mi", "cpu": "2"}, (
        f"expected the memory and cpu limits, got {runner['resources']}"
    )
    assert controller.inputs["values"]["metrics"]["listenerEndpoint"] == "/metrics", (
        "expected the controller's metrics switched on"
    )
    assert "containerMode" not in values, "expected no container mode by default"


def test_repo_scale_sets_point_at_their_repositories_without_a_group() -> None:
    _, scale_sets = releases(kubernetes_run("repo", kubernetesContainerMode="kubernetes-novolume"))
    urls = sorted(r.inputs["values"]["githubConfigUrl"] for r in scale_sets)
    assert urls == [
        "https://github.com/virtuoso902/coach",
        "https://github.com/virtuoso902/ghActions",
        "https://github.com/virtuoso902/mcp",
        "https://github.com/virtuoso902/personal",
    ], f"expected one scale set per repository, got {urls}"
    for release in scale_sets:
        values = release.inputs["values"]
        assert "runnerGroup" not in values, f"expected no runner group in {release.name}"
        assert values["containerMode"] == {"type": "kubernetes-novolume"}, (
            f"expected the configured container mode in {release.name}"
        )


@pytest.mark.parametrize(
    ("overrides", "expected_keys"),
    [
        ({}, {"github_token"}),
        (
            {"githubAppId": 12, "githubAppInstallationId": 34},
            {"github_app_id", "github_app_installation_id", "github_app_private_key"},
        ),
    ],
)
def test_credential_is_a_kubernetes_secret_with_arcs_keys(
    overrides: dict[str, Any], expected_keys: set[str]
) -> None:
    if "githubAppId" in overrides:
        overrides = {**overrides, "githubCredential": APP_KEY}
    run = kubernetes_run(**overrides)
    secret = run.one(K8S_SECRET)
    data = secret.inputs["stringData"]
    data = data.get("value", data) if isinstance(data, dict) and "value" in data else data
    assert set(data) == expected_keys, f"expected the Secret keys {expected_keys}, got {set(data)}"
    _, scale_sets = releases(run)
    assert (
        scale_sets[0].inputs["values"]["githubConfigSecret"] == secret.inputs["metadata"]["name"]
    ), "expected the scale set to read the credential from the stack's Secret, not its values"
    assert TEST_TOKEN not in str(scale_sets[0].inputs["values"]), (
        "expected no credential in the Helm values"
    )
