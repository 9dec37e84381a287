"""Deploys exactly what the RunnerService component declares onto a real single-node swarm.

``declared_service`` builds a one-fleet ``RunnerService`` under Pulumi's unit-test mocks and
captures the inputs of its ``docker.Service`` and ``docker.Secret``; ``translate`` turns those
inputs, mechanically, into docker SDK ``services.create`` arguments. One thing differs on purpose,
and only this: the tasks join the host network instead of the fleet's overlay network, so the
runners reach the fake GitHub on 127.0.0.1. An input the translation does not know is an error
(``SwarmSettingsError``), so a new setting in the component cannot be silently left out.

``swarm_manager`` makes this engine a swarm manager for the tests (``docker swarm init`` on
127.0.0.1) unless it already is one, and leaves the swarm afterwards only if it made it.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import docker.types
import pulumi

from components.runner_fleet import ContainerLimits, RunnerAssignment, RunnerEnvironment
from components.runner_service import RunnerService, RunnerServiceArgs
from tests.pulumi_harness import declare_component, unwrap

SERVICE_TYPE = "docker:index/service:Service"
SECRET_TYPE = "docker:index/secret:Secret"
NETWORK_TYPE = "docker:index/network:Network"
CREDENTIAL_PLACEHOLDER = "credential-placeholder"

KNOWN_SERVICE_INPUTS = frozenset(
    {"name", "labels", "mode", "taskSpec", "updateConfig", "rollbackConfig"}
)
KNOWN_TASK_INPUTS = frozenset(
    {"containerSpec", "restartPolicy", "resources", "logDriver", "placement", "networksAdvanceds"}
)
KNOWN_CONTAINER_INPUTS = frozenset(
    {
        "image",
        "hostname",
        "env",
        "labels",
        "secrets",
        "mounts",
        "init",
        "stopSignal",
        "stopGracePeriod",
        "capDrops",
        "capAdds",
    }
)
_DURATION_RE = re.compile(r"^(?P<number>\d+)(?P<unit>ms|s|m|h)$")


class SwarmSettingsError(RuntimeError):
    """The component declared a service input this module cannot translate."""


@dataclass(frozen=True)
class DeclaredService:
    """The inputs of the one Service (and its Secret) a one-fleet RunnerService declares."""

    service: dict[str, Any]
    secret: dict[str, Any]


def declared_service(
    environment: RunnerEnvironment,
    *,
    name_prefix: str,
    replicas: int,
    repository: str | None = None,
    limits: ContainerLimits | None = None,
) -> DeclaredService:
    """Build a RunnerService for one fleet under mocks and return what it declared."""
    run = declare_component(
        "swarm-tests",
        lambda: RunnerService(
            "fleet",
            RunnerServiceArgs(
                stack="swarm-tests",
                name_prefix=name_prefix,
                image="sha256:runner-image",
                image_id="sha256:runner-image",
                credential=pulumi.Output.secret(CREDENTIAL_PLACEHOLDER),
                environment=environment,
                assignments=[RunnerAssignment(repository=repository, count=replicas)],
                limits=limits or ContainerLimits(),
            ),
        ),
    )
    services = run.of_type(SERVICE_TYPE)
    found = run.of_type(SECRET_TYPE)
    if len(services) != 1 or len(found) != 1:
        raise SwarmSettingsError(
            f"expected one Service and one Secret, got {len(services)} and {len(found)}"
        )
    return DeclaredService(service=services[0].inputs, secret=found[0].inputs)


def duration_ns(text: str) -> int:
    match = _DURATION_RE.match(str(text))
    if not match:
        raise SwarmSettingsError(f"cannot read the duration {text!r}")
    factor = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}[match["unit"]]
    return int(match["number"]) * factor


def _unknown(where: str, inputs: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(inputs) - known)
    if unknown:
        raise SwarmSettingsError(
            f"RunnerService declares {where} inputs {unknown} that tests/swarm/swarm_harness.py "
            "does not translate; add them so the swarm tests keep matching the component"
        )


def credential_from(declared: DeclaredService) -> str:
    """The placeholder credential, decoded from the Secret's base64 data (a sanity check)."""
    return base64.b64decode(str(unwrap(declared.secret["data"]))).decode()


def translate(
    declared: DeclaredService, *, image: str, secret_id: str, secret_name: str
) -> dict[str, Any]:
    """docker SDK ``services.create`` keyword arguments for the declared Service."""
    service = declared.service
    _unknown("service", service, KNOWN_SERVICE_INPUTS)
    task = service["taskSpec"]
    _unknown("task", task, KNOWN_TASK_INPUTS)
    spec = task["containerSpec"]
    _unknown("container", spec, KNOWN_CONTAINER_INPUTS)

    mounts = []
    for mount in spec.get("mounts", []):
        if mount["type"] != "tmpfs":
            raise SwarmSettingsError(f"the swarm tests mount only tmpfs, got {mount['type']}")
        options = mount.get("tmpfsOptions") or {}
        mounts.append(
            docker.types.Mount(
                target=mount["target"],
                source=None,
                type="tmpfs",
                tmpfs_size=int(options["sizeBytes"]),
                tmpfs_mode=int(options["mode"]),
            )
        )
    secret_refs = []
    for reference in unwrap(spec.get("secrets", [])):
        secret_refs.append(
            docker.types.SecretReference(
                secret_id,
                secret_name,
                filename=reference["fileName"],
                uid=str(reference["fileUid"]),
                gid=str(reference["fileGid"]),
                mode=int(reference["fileMode"]),
            )
        )
    restart = task["restartPolicy"]
    limits = task["resources"]["limits"]
    update = service["updateConfig"]
    rollback = service["rollbackConfig"]
    log_driver = task["logDriver"]
    return {
        "image": image,
        "name": str(service["name"]),
        "labels": {str(x["label"]): str(x["value"]) for x in service.get("labels", [])},
        "mode": docker.types.ServiceMode(
            "replicated", replicas=int(service["mode"]["replicated"]["replicas"])
        ),
        "hostname": str(spec["hostname"]),
        "env": [f"{k}={v}" for k, v in sorted(unwrap(spec["env"]).items())],
        "container_labels": {str(x["label"]): str(x["value"]) for x in spec.get("labels", [])},
        "secrets": secret_refs,
        "mounts": mounts,
        "init": bool(spec.get("init", False)),
        "stop_signal": str(spec["stopSignal"]),
        "stop_grace_period": duration_ns(spec["stopGracePeriod"]),
        "cap_drop": [str(c) for c in spec.get("capDrops", [])],
        "cap_add": [str(c) for c in spec.get("capAdds", [])],
        "restart_policy": docker.types.RestartPolicy(
            condition=str(restart["condition"]),
            delay=duration_ns(restart["delay"]),
            max_attempts=int(restart.get("maxAttempts", 0)),
        ),
        "resources": docker.types.Resources(
            mem_limit=int(limits["memoryBytes"]), cpu_limit=int(limits["nanoCpus"])
        ),
        "log_driver": str(log_driver["name"]),
        "log_driver_options": {str(k): str(v) for k, v in log_driver["options"].items()},
        "constraints": [str(c) for c in task["placement"]["constraints"]],
        "update_config": docker.types.UpdateConfig(
            parallelism=int(update["parallelism"]),
            order=str(update["order"]),
            failure_action=str(update["failureAction"]),
            monitor=duration_ns(update["monitor"]),
        ),
        "rollback_config": docker.types.RollbackConfig(
            parallelism=int(rollback["parallelism"]), order=str(rollback["order"])
        ),
        # The one deliberate difference: see the module docstring.
        "networks": ["host"],
    }


# --- the swarm ----------------------------------------------------------------------------------


@contextmanager
def swarm_manager(client: Any) -> Iterator[bool]:
    """This engine as a swarm manager; yields whether it was made one here (and is left after)."""
    state = client.info().get("Swarm", {})
    if state.get("LocalNodeState") == "active" and state.get("ControlAvailable"):
        yield False
        return
    if state.get("LocalNodeState") not in (None, "inactive"):
        raise SwarmSettingsError(
            f"this Docker engine is in swarm state {state.get('LocalNodeState')!r} without being "
            "a manager; the swarm tests need a manager or a node outside any swarm"
        )
    had_gateway_bridge = bool(client.networks.list(names=["docker_gwbridge"]))
    client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
    try:
        yield True
    finally:
        client.swarm.leave(force=True)
        # swarm init creates this bridge and leaving keeps it; remove it to leave no trace.
        if not had_gateway_bridge:
            for network in client.networks.list(names=["docker_gwbridge"]):
                network.remove()


class SwarmFleet:
    """One service deployed from the component's declaration, with its Swarm secret."""

    def __init__(self, client: Any, declared: DeclaredService, image: str, credential: str) -> None:
        self.client = client
        self.declared = declared
        suffix = secrets.token_hex(4)
        self.secret = client.secrets.create(
            name=f"swarmtest-credential-{suffix}",
            data=credential.encode(),
            labels={"runner-fleet.test": "swarm"},
        )
        self.kwargs = translate(
            declared, image=image, secret_id=self.secret.id, secret_name=self.secret.name
        )
        self.service = client.services.create(**self.kwargs)

    @property
    def name(self) -> str:
        return str(self.kwargs["name"])

    def tasks(self) -> list[dict[str, Any]]:
        self.service.reload()
        return list(self.service.tasks())

    def running_containers(self) -> dict[int, str]:
        """Slot -> container ID of each running task."""
        running: dict[int, str] = {}
        for task in self.tasks():
            status = task.get("Status", {})
            container = (status.get("ContainerStatus") or {}).get("ContainerID")
            if status.get("State") == "running" and container:
                running[int(task.get("Slot", 0))] = str(container)
        return running

    def scale(self, replicas: int) -> None:
        """Set the replica count; retried when Swarm updated the service meanwhile."""
        import docker.errors

        for _ in range(10):
            self.service.reload()
            try:
                self.service.scale(replicas)
                return
            except docker.errors.APIError as error:
                if "out of sequence" not in str(error):
                    raise
                time.sleep(0.2)
        raise SwarmSettingsError(f"could not scale {self.name}: the service kept changing")

    def logs(self) -> str:
        try:
            chunks = self.service.logs(stdout=True, stderr=True, timestamps=False)
            return b"".join(chunks).decode(errors="replace")[-4000:]
        except Exception as error:  # the service may be gone
            return f"(no log: {error})"

    def remove(self, timeout: float = 60.0) -> None:
        """Remove the service, wait for its containers to go, then remove the secret."""
        try:
            self.service.remove()
        except Exception:  # already removed
            pass
        deadline = time.monotonic() + timeout
        label = f"com.docker.swarm.service.name={self.name}"
        while time.monotonic() < deadline:
            if not self.client.containers.list(all=True, filters={"label": label}):
                break
            time.sleep(0.5)
        while time.monotonic() < deadline:
            try:
                self.secret.remove()
                return
            except Exception:  # still referenced by a task being torn down
                time.sleep(0.5)


def poll(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
