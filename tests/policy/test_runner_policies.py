"""Each policy of the pack, called the way Pulumi calls it, on compliant and non-compliant inputs.

Resources are handed to validators through pulumi-policy's own unknown-checking proxy, so the
policies see the read-only Mapping/Sequence wrappers they get during a real preview.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

import runner_policies as rp
from components.contract import CREDENTIAL_PATH

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
IMAGE_ID = "sha256:" + "ab" * 32
FAKE_TOKEN = "ghs_" + "A1b2C3d4" * 4
FAKE_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"

Props = dict[str, Any]


def policy(name: str) -> ResourceValidationPolicy:
    found = [p for p in rp.POLICIES if p.name == name]
    assert len(found) == 1, f"expected exactly one policy named {name!r} in the pack, got {found}"
    assert isinstance(found[0], ResourceValidationPolicy), f"{name} should validate resources"
    return found[0]


def make_args(
    resource_type: str, props: Props, name: str = "fleet", config: Props | None = None
) -> ResourceValidationArgs:
    # What pulumi-policy's analyzer does with the engine's properties: unwrap secrets, then wrap
    # the result in its unknown-checking proxy.
    return ResourceValidationArgs(
        resource_type=resource_type,
        props=unknown_checking_proxy(deserialize_properties(copy.deepcopy(props))),
        urn=f"urn:pulumi:org::runner-fleet::{resource_type}::{name}",
        name=name,
        opts=PolicyResourceOptions(
            protect=False,
            ignore_changes=[],
            delete_before_replace=None,
            aliases=[],
            custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
            additional_secret_outputs=[],
        ),
        provider=None,
        config=config,
    )


def violations(
    policy_name: str, resource_type: str, props: Props, config: Props | None = None
) -> list[str]:
    """Run one policy with a collecting report callback, as pulumi-policy's own tests do."""
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    result = policy(policy_name).validate(make_args(resource_type, props, config=config), report)
    assert result is None, f"{policy_name} should validate synchronously, returned {result!r}"
    return reported


def runner_group(**changes: Any) -> Props:
    props: Props = {
        "name": "fleet-runners",
        "visibility": "selected",
        "selectedRepositoryIds": [101, 102],
        "allowsPublicRepositories": False,
        "restrictedToWorkflows": False,
        "selectedWorkflows": [],
    }
    props.update(changes)
    return props


def runner_container(**changes: Any) -> Props:
    """A container that meets every container policy; tests break one thing at a time."""
    props: Props = {
        "name": "fleet-runner-0",
        "image": IMAGE_ID,
        "envs": [
            "FLEET_MODE=org",
            "FLEET_ORGANIZATION=virtuoso902",
            f"FLEET_CREDENTIAL_FILE={CREDENTIAL_PATH}",
        ],
        "memory": 4096.0,  # the engine hands numbers to policies as floats
        "cpus": "2",
        "ulimits": [{"name": "nproc", "soft": 4096.0, "hard": 4096.0}],
        "logDriver": "json-file",
        "logOpts": {"max-size": "10m", "max-file": "3"},
        "securityOpts": ["no-new-privileges:true"],
        "capabilities": {"drops": ["ALL"], "adds": ["CHOWN", "SETUID", "SETGID"]},
        "uploads": [
            {
                "file": CREDENTIAL_PATH,
                "content": FAKE_TOKEN,
                "permissions": "0400",
                "owner": "0",
                "group": "0",
            }
        ],
        "mounts": [{"target": "/tmp", "type": "tmpfs"}],
        "labels": [{"label": "runner-fleet.role", "value": "runner"}],
        "restart": "unless-stopped",
        "networksAdvanced": [{"name": "fleet-net"}],
    }
    props.update(changes)
    return props


def network(**changes: Any) -> Props:
    props: Props = {
        "name": "fleet-net",
        "internal": False,
        "options": {"com.docker.network.bridge.enable_icc": "false"},
    }
    props.update(changes)
    return props


def swarm_service(**changes: Any) -> Props:
    """A Swarm service that meets every service policy, shaped as pulumi-docker hands it over."""
    props: Props = {
        "name": "gha-org",
        "labels": [{"label": "runner-fleet.engine", "value": "swarm"}],
        "mode": {"replicated": {"replicas": 4.0}},
        "taskSpec": {
            "containerSpec": {
                "image": IMAGE_ID,
                "env": {
                    "FLEET_MODE": "org",
                    "FLEET_ORGANIZATION": "virtuoso902",
                    "FLEET_CREDENTIAL_FILE": CREDENTIAL_PATH,
                },
                "labels": [{"label": "runner-fleet.engine", "value": "swarm"}],
                "secrets": [
                    {
                        "secretId": "fleet-credential-id",
                        "fileName": CREDENTIAL_PATH,
                        "fileUid": "0",
                        "fileGid": "0",
                        "fileMode": 256.0,  # 0o400, as a float like every engine number
                    }
                ],
                "mounts": [{"target": "/tmp", "type": "tmpfs"}],
                "capDrops": ["ALL"],
                "capAdds": ["CHOWN", "SETUID", "SETGID"],
            },
            "resources": {"limits": {"memoryBytes": 4294967296.0, "nanoCpus": 2e9}},
            "logDriver": {"name": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
            "restartPolicy": {"condition": "any"},
        },
    }
    props.update(changes)
    return props


def container_spec_with(**changes: Any) -> Props:
    """A compliant service whose taskSpec.containerSpec has the given properties replaced."""
    props = swarm_service()
    props["taskSpec"]["containerSpec"].update(changes)
    return props


def task_spec_with(**changes: Any) -> Props:
    """A compliant service whose taskSpec has the given properties replaced."""
    props = swarm_service()
    props["taskSpec"].update(changes)
    return props


def service_labelled_granted(**container_changes: Any) -> Props:
    """A service carrying the opt-in label on the service (not its task's container)."""
    props = container_spec_with(**container_changes)
    props["labels"] = GRANTED
    return props


def scale_set_release(values: Props | None = None, **changes: Any) -> Props:
    """The scale set's Helm release as the program declares it; ``values`` are merged in."""
    props: Props = {
        "name": "gha-org",
        "chart": "oci://charts.example/actions-runner-controller-charts/gha-runner-scale-set",
        "version": "0.14.2",
        "namespace": "gha-org-runners",
        "atomic": True,
        "values": {
            "githubConfigUrl": "https://github.com/virtuoso902",
            "githubConfigSecret": "gha-org-github",
            "runnerScaleSetName": "gha-org",
            "maxRunners": 4.0,
            "template": {
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [{"name": "runner", "command": ["/home/runner/run.sh"]}],
                }
            },
        },
    }
    props["values"].update(values or {})
    props.update(changes)
    return props


GRANTED = [
    {"label": "runner-fleet.role", "value": "runner"},
    {"label": rp.HOST_DOCKER_ACCESS_LABEL, "value": rp.HOST_DOCKER_ACCESS_GRANTED},
]
SOCKET_BIND = {"source": "/var/run/docker.sock", "target": "/var/run/docker.sock", "type": "bind"}


# --- the pack itself ----------------------------------------------------------------------------


def test_pack_entry_file_holds_only_the_policy_pack() -> None:
    tree = ast.parse((PACK_DIR / "__main__.py").read_text())
    statements = [s for s in tree.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    calls = [
        s
        for s in statements
        if isinstance(s, ast.Expr)
        and isinstance(s.value, ast.Call)
        and getattr(s.value.func, "id", None) == "PolicyPack"
    ]
    docstrings = [
        s for s in statements if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
    ]
    assert len(calls) == 1 and len(statements) == len(calls) + len(docstrings), (
        "policy/__main__.py should contain imports and a single PolicyPack(...) call, got "
        f"{[ast.dump(s)[:60] for s in statements]}"
    )


def test_policy_names_are_unique_and_levels_as_designed() -> None:
    names = [p.name for p in rp.POLICIES]
    assert len(names) == len(set(names)), f"policy names must be unique, got {names}"
    advisory = {p.name for p in rp.POLICIES if p.enforcement_level == EnforcementLevel.ADVISORY}
    assert advisory == {
        "public-repositories-allowed",
        "host-docker-access-granted",
        "swarm-host-docker-access-granted",
        "arc-dind-container-mode",
        "remote-image-pinned",
    }, (
        "only the opt-in warnings (public repositories, Docker access, ARC's dind mode) and the "
        f"RemoteImage tag check should be advisory, got {advisory}"
    )
    assert all(isinstance(p, Policy) and p.description for p in rp.POLICIES), (
        "every policy needs a description, which Pulumi shows next to each violation"
    )


def test_credential_path_matches_the_fleet_contract() -> None:
    assert rp.CREDENTIAL_PATH == CREDENTIAL_PATH, (
        f"policy pack checks {rp.CREDENTIAL_PATH} but the fleet uploads to {CREDENTIAL_PATH}"
    )


def test_pack_requirements_pin_the_same_versions_as_the_repository() -> None:
    root = PACK_DIR.parent
    pins = {
        line.split("==")[0]: line.strip()
        for path in ("requirements.txt", "requirements-dev.txt")
        for line in (root / path).read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    pack_pins = [
        line.strip()
        for line in (PACK_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert sorted(pack_pins) == sorted([pins["pulumi"], pins["pulumi-policy"]]), (
        f"policy/requirements.txt should pin exactly the root's pulumi and pulumi-policy, "
        f"got {pack_pins}"
    )


# --- compliant resources pass every policy ------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (rp.RUNNER_GROUP_TYPE, runner_group()),
        (rp.CONTAINER_TYPE, runner_container()),
        (rp.NETWORK_TYPE, network()),
        (rp.REMOTE_IMAGE_TYPE, {"name": f"runner@{IMAGE_ID}", "keepLocally": True}),
        (
            rp.REMOTE_IMAGE_TYPE,
            {"name": "runner-fleet-runner:2.334.0", "build": {"context": "docker"}},
        ),
        (rp.SERVICE_TYPE, swarm_service()),
        (rp.NETWORK_TYPE, {"name": "fleet-net", "driver": "overlay", "attachable": False}),
        (rp.HELM_RELEASE_TYPE, scale_set_release()),
        (
            rp.HELM_RELEASE_TYPE,
            scale_set_release({"containerMode": {"type": "kubernetes-novolume"}}),
        ),
        (rp.HELM_CHART_V4_TYPE, scale_set_release(version="v0.14.2")),
    ],
    ids=[
        "runner-group",
        "container",
        "network",
        "pulled-image",
        "built-image",
        "swarm-service",
        "overlay-network",
        "scale-set-release",
        "novolume-release",
        "v4-chart",
    ],
)
def test_compliant_resources_pass_every_policy(resource_type: str, props: Props) -> None:
    for p in rp.POLICIES:
        found = violations(p.name, resource_type, props)
        assert found == [], f"compliant {resource_type} should pass {p.name}, got {found}"


# --- non-compliant resources --------------------------------------------------------------------

Case = tuple[str, str, Callable[[], Props], str]

CASES: list[Case] = [
    # runner groups
    (
        "runner-group-not-visible-to-all",
        rp.RUNNER_GROUP_TYPE,
        lambda: runner_group(visibility="all"),
        "visibility 'all'",
    ),
    (
        "runner-group-not-visible-to-all",
        rp.RUNNER_GROUP_TYPE,
        lambda: runner_group(visibility=None),
        "visibility 'unset'",
    ),
    (
        "runner-group-not-visible-to-all",
        rp.RUNNER_GROUP_TYPE,
        lambda: runner_group(name="Default"),
        "named 'Default'",
    ),
    (
        "public-repositories-need-opt-in",
        rp.RUNNER_GROUP_TYPE,
        lambda: runner_group(allowsPublicRepositories=True),
        "public repositories",
    ),
    (
        "public-repositories-allowed",
        rp.RUNNER_GROUP_TYPE,
        lambda: runner_group(allowsPublicRepositories=True),
        "public repositories",
    ),
    # host Docker access without the opt-in label
    (
        "no-host-docker-access",
        rp.CONTAINER_TYPE,
        lambda: runner_container(mounts=[SOCKET_BIND]),
        "engine socket",
    ),
    (
        "no-host-docker-access",
        rp.CONTAINER_TYPE,
        lambda: runner_container(
            mounts=[{"source": "fleet-dind-sock", "target": "/run/docker.sock", "type": "volume"}]
        ),
        "engine socket",
    ),
    (
        "no-host-docker-access",
        rp.CONTAINER_TYPE,
        lambda: runner_container(
            mounts=[{"source": "/var/run/", "target": "/host-run", "type": "bind"}]
        ),
        "host directory /var/run",
    ),
    (
        "no-host-docker-access",
        rp.CONTAINER_TYPE,
        lambda: runner_container(
            volumes=[{"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"}]
        ),
        "engine socket",
    ),
    (
        "no-host-docker-access",
        rp.CONTAINER_TYPE,
        lambda: runner_container(volumes=[{"hostPath": "/", "containerPath": "/host"}]),
        "host directory /",
    ),
    (
        "no-host-docker-access",
        rp.CONTAINER_TYPE,
        lambda: runner_container(privileged=True),
        "runs privileged",
    ),
    (
        "no-host-docker-access",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=["DOCKER_HOST=tcp://127.0.0.1:2375"]),
        "DOCKER_HOST",
    ),
    (
        "host-docker-access-granted",
        rp.CONTAINER_TYPE,
        lambda: runner_container(mounts=[SOCKET_BIND], labels=GRANTED),
        "opted in",
    ),
    (
        "host-docker-access-granted",
        rp.CONTAINER_TYPE,
        lambda: runner_container(privileged=True, labels=GRANTED),
        "runs privileged",
    ),
    # credentials in env or argv
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=["GITHUB_TOKEN=x"]),
        "GITHUB_TOKEN is named like a credential",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=["APP_PRIVATE_KEY=x"]),
        "APP_PRIVATE_KEY",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=["WEBHOOK_SECRET=x"]),
        "WEBHOOK_SECRET",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=["DB_PASSWORD=x"]),
        "DB_PASSWORD",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=[f"FLEET_EXTRA={FAKE_TOKEN}"]),
        "FLEET_EXTRA holds a credential-shaped value",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=["KEY_MATERIAL=" + FAKE_PEM]),
        "KEY_MATERIAL holds",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(envs=["X=github_pat_" + "1a" * 20]),
        "X holds",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(command=["./config.sh", "--token", "AAAA"]),
        "command[1] passes --token",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(command=["./run.sh", "--jitconfig=eyJ"]),
        "command[1] passes --jitconfig",
    ),
    (
        "no-credentials-in-env-or-command",
        rp.CONTAINER_TYPE,
        lambda: runner_container(entrypoints=["/bin/sh", "-c", f"run {FAKE_TOKEN}"]),
        "entrypoints[2] holds",
    ),
    # limits, logs, privileges
    (
        "resource-limits-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(memory=None),
        "no memory limit",
    ),
    (
        "resource-limits-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(memory=0),
        "no memory limit",
    ),
    (
        "resource-limits-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(ulimits=None),
        "no process limit",
    ),
    (
        "resource-limits-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(ulimits=[{"name": "nofile", "soft": 1024, "hard": 1024}]),
        "no process limit",
    ),
    (
        "resource-limits-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(ulimits=[{"name": "nproc", "soft": 0, "hard": 4096}]),
        "no process limit",
    ),
    (
        "log-rotation-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(logDriver=None, logOpts=None),
        "logDriver 'unset'",
    ),
    (
        "log-rotation-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(logOpts={"max-file": "3"}),
        "max-size 'unset'",
    ),
    (
        "log-rotation-set",
        rp.CONTAINER_TYPE,
        lambda: runner_container(logDriver="syslog"),
        "logDriver 'syslog'",
    ),
    (
        "no-new-privileges",
        rp.CONTAINER_TYPE,
        lambda: runner_container(securityOpts=None),
        "no-new-privileges:true",
    ),
    (
        "no-new-privileges",
        rp.CONTAINER_TYPE,
        lambda: runner_container(securityOpts=["no-new-privileges:false"]),
        "gain privileges",
    ),
    (
        "capabilities-dropped",
        rp.CONTAINER_TYPE,
        lambda: runner_container(capabilities=None),
        "drops ['ALL']",
    ),
    (
        "capabilities-dropped",
        rp.CONTAINER_TYPE,
        lambda: runner_container(capabilities={"drops": ["NET_RAW"]}),
        "drops ['ALL']",
    ),
    (
        "capabilities-dropped",
        rp.CONTAINER_TYPE,
        lambda: runner_container(capabilities={"drops": ["ALL"], "adds": ["CAP_SYS_ADMIN"]}),
        "SYS_ADMIN",
    ),
    (
        "container-isolated-from-host",
        rp.CONTAINER_TYPE,
        lambda: runner_container(networkMode="host"),
        "networkMode",
    ),
    (
        "container-isolated-from-host",
        rp.CONTAINER_TYPE,
        lambda: runner_container(pidMode="host"),
        "pidMode",
    ),
    (
        "container-isolated-from-host",
        rp.CONTAINER_TYPE,
        lambda: runner_container(securityOpts=["no-new-privileges:true", "seccomp=unconfined"]),
        "seccomp:unconfined",
    ),
    # the credential file
    (
        "credential-upload-root-only",
        rp.CONTAINER_TYPE,
        lambda: runner_container(
            uploads=[{"file": CREDENTIAL_PATH, "content": "x", "permissions": "0644", "owner": "0"}]
        ),
        "permissions '0644'",
    ),
    (
        "credential-upload-root-only",
        rp.CONTAINER_TYPE,
        lambda: runner_container(
            uploads=[
                {"file": CREDENTIAL_PATH, "content": "x", "permissions": "0400", "owner": "1000"}
            ]
        ),
        "owner '1000'",
    ),
    (
        "credential-upload-root-only",
        rp.CONTAINER_TYPE,
        lambda: runner_container(
            uploads=[{"file": CREDENTIAL_PATH, "content": "x", "permissions": "0400"}]
        ),
        "owner 'unset'",
    ),
    (
        "credential-upload-root-only",
        rp.CONTAINER_TYPE,
        lambda: runner_container(uploads=[{"file": "/etc/app.pem", "content": FAKE_PEM}]),
        "/etc/app.pem",
    ),
    # images and network
    (
        "container-image-pinned",
        rp.CONTAINER_TYPE,
        lambda: runner_container(image="runner:latest"),
        "mutable reference",
    ),
    (
        "container-image-pinned",
        rp.CONTAINER_TYPE,
        lambda: runner_container(image="sha256:abc"),
        "mutable reference",
    ),
    (
        "remote-image-pinned",
        rp.REMOTE_IMAGE_TYPE,
        lambda: {"name": "ghcr.io/acme/runner:2.330.0"},
        "by tag",
    ),
    ("network-isolates-runners", rp.NETWORK_TYPE, lambda: network(options={}), "enable_icc"),
    (
        "network-isolates-runners",
        rp.NETWORK_TYPE,
        lambda: network(options={"com.docker.network.bridge.enable_icc": "true"}),
        "enable_icc",
    ),
    (
        "network-isolates-runners",
        rp.NETWORK_TYPE,
        lambda: {"name": "fleet-net", "driver": "overlay", "attachable": True},
        "attachable overlay",
    ),
    # swarm services
    (
        "swarm-no-host-docker-access",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(mounts=[SOCKET_BIND]),
        "engine socket",
    ),
    (
        "swarm-no-host-docker-access",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(
            mounts=[{"source": "/run", "target": "/host-run", "type": "bind"}]
        ),
        "host directory /run",
    ),
    (
        "swarm-no-host-docker-access",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(env={"DOCKER_HOST": "tcp://127.0.0.1:2375"}),
        "DOCKER_HOST",
    ),
    (
        "swarm-host-docker-access-granted",
        rp.SERVICE_TYPE,
        lambda: service_labelled_granted(mounts=[SOCKET_BIND]),
        "opted in",
    ),
    (
        "swarm-no-credentials-in-env-or-command",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(env={"GITHUB_TOKEN": "x"}),
        "GITHUB_TOKEN is named like a credential",
    ),
    (
        "swarm-no-credentials-in-env-or-command",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(env={"FLEET_EXTRA": FAKE_TOKEN}),
        "FLEET_EXTRA holds a credential-shaped value",
    ),
    (
        "swarm-no-credentials-in-env-or-command",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(env={"KEY_MATERIAL": FAKE_PEM}),
        "KEY_MATERIAL holds",
    ),
    (
        "swarm-no-credentials-in-env-or-command",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(args=["--jitconfig", "eyJ"]),
        "args[0] passes --jitconfig",
    ),
    (
        "swarm-no-credentials-in-env-or-command",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(commands=["/bin/sh", "-c", f"run {FAKE_TOKEN}"]),
        "commands[2] holds",
    ),
    (
        "swarm-resource-limits-set",
        rp.SERVICE_TYPE,
        lambda: task_spec_with(resources=None),
        "no memory limit",
    ),
    (
        "swarm-resource-limits-set",
        rp.SERVICE_TYPE,
        lambda: task_spec_with(resources={"limits": {"nanoCpus": 2e9, "memoryBytes": 0.0}}),
        "memoryBytes",
    ),
    (
        "swarm-log-rotation-set",
        rp.SERVICE_TYPE,
        lambda: task_spec_with(logDriver=None),
        "taskSpec.logDriver.name 'unset'",
    ),
    (
        "swarm-log-rotation-set",
        rp.SERVICE_TYPE,
        lambda: task_spec_with(logDriver={"name": "json-file", "options": {"max-file": "3"}}),
        "max-size 'unset'",
    ),
    (
        "swarm-log-rotation-set",
        rp.SERVICE_TYPE,
        lambda: task_spec_with(logDriver={"name": "syslog", "options": {"max-size": "10m"}}),
        "'syslog'",
    ),
    (
        "swarm-capabilities-dropped",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(capDrops=None),
        "capDrops ['ALL']",
    ),
    (
        "swarm-capabilities-dropped",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(capDrops=["NET_RAW"]),
        "keeps default capabilities",
    ),
    (
        "swarm-capabilities-dropped",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(capAdds=["CAP_SYS_ADMIN"]),
        "SYS_ADMIN",
    ),
    (
        "swarm-credential-secret-root-only",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(
            secrets=[{"secretId": "s", "fileName": CREDENTIAL_PATH, "fileMode": 292.0}]
        ),
        "fileMode 0o444",
    ),
    (
        "swarm-credential-secret-root-only",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(secrets=[{"secretId": "s", "fileName": CREDENTIAL_PATH}]),
        "unset, Swarm's default 0o444",
    ),
    (
        "swarm-credential-secret-root-only",
        rp.SERVICE_TYPE,
        lambda: container_spec_with(
            secrets=[
                {"secretId": "s", "fileName": CREDENTIAL_PATH, "fileMode": 256.0, "fileUid": "1001"}
            ]
        ),
        "fileUid '1001'",
    ),
    # kubernetes: Helm releases of actions-runner-controller
    (
        "helm-values-hold-no-credential",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release({"githubConfigSecret": {"github_token": FAKE_TOKEN}}),
        "keys: github_token",
    ),
    (
        "helm-values-hold-no-credential",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release(
            {
                "githubConfigSecret": {
                    "github_app_id": "1",
                    "github_app_installation_id": "2",
                    "github_app_private_key": FAKE_PEM,
                }
            }
        ),
        "github_app_private_key",
    ),
    (
        "helm-values-hold-no-credential",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release({"githubConfigSecret": FAKE_TOKEN}),
        "values.githubConfigSecret holds a credential-shaped value",
    ),
    (
        "helm-values-hold-no-credential",
        rp.HELM_CHART_V4_TYPE,
        lambda: scale_set_release(
            {
                "template": {
                    "spec": {"containers": [{"name": "runner", "args": ["--token", FAKE_TOKEN]}]}
                }
            }
        ),
        "values.template.spec.containers[0].args[1]",
    ),
    (
        "helm-chart-version-pinned",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release(version=None),
        "version 'unset'",
    ),
    (
        "helm-chart-version-pinned",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release(version="^0.14.0"),
        "'^0.14.0'",
    ),
    (
        "helm-chart-version-pinned",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release(version=">=0.13.0 <0.15.0"),
        "not one exact version",
    ),
    (
        "helm-chart-version-pinned",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release(version="0.14.x"),
        "'0.14.x'",
    ),
    (
        "helm-chart-version-pinned",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release(version="latest"),
        "'latest'",
    ),
    (
        "arc-dind-container-mode",
        rp.HELM_RELEASE_TYPE,
        lambda: scale_set_release({"containerMode": {"type": "dind"}}),
        "privileged Docker daemon",
    ),
]


@pytest.mark.parametrize(
    ("policy_name", "resource_type", "build", "expected"),
    CASES,
    ids=[f"{case[0]}:{case[3]}" for case in CASES],
)
def test_non_compliant_resource_is_reported(
    policy_name: str, resource_type: str, build: Callable[[], Props], expected: str
) -> None:
    found = violations(policy_name, resource_type, build())
    assert len(found) == 1 and expected in found[0], (
        f"{policy_name} should report one violation mentioning {expected!r}, got {found}"
    )


@pytest.mark.parametrize(
    "props",
    [
        runner_container(mounts=[SOCKET_BIND], labels=GRANTED),
        runner_container(privileged=True, labels=GRANTED),
    ],
    ids=["socket-mount", "privileged"],
)
def test_opted_in_docker_access_is_only_advisory(props: Props) -> None:
    mandatory = violations("no-host-docker-access", rp.CONTAINER_TYPE, props)
    advisory = violations("host-docker-access-granted", rp.CONTAINER_TYPE, props)
    assert mandatory == [] and len(advisory) == 1, (
        f"a container labelled {rp.HOST_DOCKER_ACCESS_LABEL}=granted should get only the advisory "
        f"warning, got mandatory={mandatory} advisory={advisory}"
    )


def test_label_with_another_value_does_not_grant_docker_access() -> None:
    labels = [{"label": rp.HOST_DOCKER_ACCESS_LABEL, "value": "yes"}]
    found = violations(
        "no-host-docker-access", rp.CONTAINER_TYPE, runner_container(privileged=True, labels=labels)
    )
    assert len(found) == 1, f"only the value 'granted' opts in; expected a violation, got {found}"


def test_public_repositories_allowed_by_policy_config() -> None:
    props = runner_group(allowsPublicRepositories=True)
    found = violations(
        "public-repositories-need-opt-in",
        rp.RUNNER_GROUP_TYPE,
        props,
        {"allowPublicRepositories": True},
    )
    assert found == [], (
        f"allowPublicRepositories: true in the pack config should opt in, got {found}"
    )


@pytest.mark.parametrize(
    "props",
    [
        runner_container(envs=[f"FLEET_EXTRA={FAKE_TOKEN}", "GITHUB_TOKEN=" + FAKE_TOKEN]),
        runner_container(command=["--token", FAKE_TOKEN]),
        runner_container(
            uploads=[{"file": CREDENTIAL_PATH, "content": FAKE_TOKEN, "permissions": "0644"}]
        ),
    ],
    ids=["env", "command", "upload"],
)
def test_violation_messages_never_quote_the_credential(props: Props) -> None:
    messages = [
        message for p in rp.POLICIES for message in violations(p.name, rp.CONTAINER_TYPE, props)
    ]
    assert messages, "the non-compliant container should produce at least one violation"
    leaked = [m for m in messages if FAKE_TOKEN in m or FAKE_TOKEN[:12] in m]
    assert leaked == [], f"violation messages must not contain the credential, got {leaked}"


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (
            rp.SERVICE_TYPE,
            container_spec_with(
                env={"FLEET_EXTRA": FAKE_TOKEN, "GITHUB_TOKEN": FAKE_TOKEN},
                args=["--token", FAKE_TOKEN],
            ),
        ),
        (
            rp.HELM_RELEASE_TYPE,
            scale_set_release({"githubConfigSecret": {"github_token": FAKE_TOKEN}}),
        ),
        (rp.HELM_RELEASE_TYPE, scale_set_release({"extra": {"token": FAKE_TOKEN}})),
    ],
    ids=["swarm-env-and-args", "inline-config-secret", "nested-value"],
)
def test_swarm_and_helm_messages_never_quote_the_credential(
    resource_type: str, props: Props
) -> None:
    messages = [
        message for p in rp.POLICIES for message in violations(p.name, resource_type, props)
    ]
    assert messages, f"the non-compliant {resource_type} should produce at least one violation"
    leaked = [m for m in messages if FAKE_TOKEN in m or FAKE_TOKEN[:12] in m]
    assert leaked == [], f"violation messages must not contain the credential, got {leaked}"


@pytest.mark.parametrize(
    "props",
    [
        service_labelled_granted(mounts=[SOCKET_BIND]),
        container_spec_with(mounts=[SOCKET_BIND], labels=GRANTED),
    ],
    ids=["service-label", "task-container-label"],
)
def test_opted_in_swarm_docker_access_is_only_advisory(props: Props) -> None:
    mandatory = violations("swarm-no-host-docker-access", rp.SERVICE_TYPE, props)
    advisory = violations("swarm-host-docker-access-granted", rp.SERVICE_TYPE, props)
    assert mandatory == [] and len(advisory) == 1, (
        f"a service labelled {rp.HOST_DOCKER_ACCESS_LABEL}=granted should get only the advisory "
        f"warning, got mandatory={mandatory} advisory={advisory}"
    )


def test_swarm_secret_mode_given_as_an_int_is_read_too() -> None:
    props = container_spec_with(
        secrets=[{"secretId": "s", "fileName": CREDENTIAL_PATH, "fileMode": 0o400}]
    )
    found = violations("swarm-credential-secret-root-only", rp.SERVICE_TYPE, props)
    assert found == [], f"fileMode 0o400 with the default root owner should pass, got {found}"


def test_controller_release_without_a_config_secret_passes() -> None:
    props = scale_set_release(values=None)
    props["values"] = {"flags": {"watchSingleNamespace": "gha-org-runners"}}
    found = [m for p in rp.POLICIES for m in violations(p.name, rp.HELM_RELEASE_TYPE, props)]
    assert found == [], f"the controller's release holds no credential and is pinned, got {found}"


def test_credential_file_variable_pointing_at_a_path_is_allowed() -> None:
    props = runner_container(envs=["GITHUB_TOKEN_FILE=/run/fleet/credential"])
    found = violations("no-credentials-in-env-or-command", rp.CONTAINER_TYPE, props)
    assert found == [], f"a *_FILE variable naming a path is not a credential, got {found}"


def test_policies_ignore_other_resource_types() -> None:
    for p in rp.POLICIES:
        found = violations(p.name, "random:index/randomId:RandomId", {"privileged": True})
        assert found == [], f"{p.name} should only look at its own resource types, got {found}"


def test_unknown_value_during_preview_is_left_to_pulumi() -> None:
    props = runner_container(image=UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations("container-image-pinned", rp.CONTAINER_TYPE, props)


def test_secret_wrapped_upload_is_still_checked() -> None:
    """The engine sends secret inputs wrapped; the policy must see through the wrapper."""
    upload = {"file": CREDENTIAL_PATH, "content": "x", "permissions": "0644", "owner": "0"}
    secret_uploads = {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": [upload]}
    found = violations(
        "credential-upload-root-only", rp.CONTAINER_TYPE, runner_container(uploads=secret_uploads)
    )
    assert len(found) == 1 and "'0644'" in found[0], (
        f"a secret-wrapped credential upload with mode 0644 should be reported, got {found}"
    )
