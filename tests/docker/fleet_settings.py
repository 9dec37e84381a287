"""The container settings the RunnerFleet component declares, turned into docker-py arguments.

The Docker tests must start runner containers exactly as the fleet would, so they never write
those settings themselves: ``fleet_container`` declares a one-runner ``RunnerFleet`` under Pulumi's
unit-test mocks, captures the inputs of its ``docker.Container`` and translates them into
``docker.client.containers.create`` keyword arguments. Two things differ on purpose, and only
these: the container uses host networking (the fake GitHub listens on 127.0.0.1) and Docker does
not restart it (the tests restart it themselves to observe each start).

Fails with ``FleetSettingsError`` naming the input it could not translate, so a new setting in the
component shows up here instead of being silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import docker.types
import pulumi

from components.runner_fleet import (
    RunnerAssignment,
    RunnerEnvironment,
    RunnerFleet,
    RunnerFleetArgs,
)
from tests.pulumi_harness import declare_component, unwrap

CONTAINER_TYPE = "docker:index/container:Container"

#: Container inputs the translation knows; anything else the component declares is an error.
KNOWN_INPUTS = frozenset(
    {
        "name",
        "hostname",
        "image",
        "envs",
        "uploads",
        "restart",
        "init",
        "stopSignal",
        "stopTimeout",
        "destroyGraceSeconds",
        "memory",
        "memorySwap",
        "cpus",
        "ulimits",
        "tmpfs",
        "logDriver",
        "logOpts",
        "securityOpts",
        "capabilities",
        "privileged",
        "mounts",
        "networksAdvanced",
        "labels",
        "mustRun",
    }
)


class FleetSettingsError(RuntimeError):
    """The component declared a container input this module cannot translate."""


@dataclass(frozen=True)
class FleetContainer:
    """What the fleet declares for one runner container."""

    name: str
    environment: dict[str, str]
    credential_path: str
    credential_mode: int
    #: Seconds Docker waits after the stop signal (docker-py's create() has no such argument;
    #: the tests send SIGTERM themselves and wait at most this long).
    stop_timeout: int
    create_kwargs: dict[str, Any]


def declared_container_inputs(
    environment: RunnerEnvironment, *, name_prefix: str, repository: str | None
) -> dict[str, Any]:
    """The inputs of the one Container a one-runner RunnerFleet declares."""
    run = declare_component(
        "docker-tests",
        lambda: RunnerFleet(
            "fleet",
            RunnerFleetArgs(
                stack="docker-tests",
                name_prefix=name_prefix,
                image_id="sha256:runner-image",
                credential=pulumi.Output.secret("credential-placeholder"),
                environment=environment,
                assignments=[RunnerAssignment(repository=repository, count=1)],
            ),
        ),
    )
    containers = run.of_type(CONTAINER_TYPE)
    if len(containers) != 1:
        raise FleetSettingsError(
            f"expected the fleet to declare one container, it declared {len(containers)}"
        )
    return containers[0].inputs


def translate(inputs: Mapping[str, Any], image: str) -> FleetContainer:
    """docker-py create() arguments for the declared inputs, on ``image``."""
    unknown = sorted(set(inputs) - KNOWN_INPUTS)
    if unknown:
        raise FleetSettingsError(
            f"RunnerFleet declares container inputs {unknown} that tests/docker/fleet_settings.py "
            "does not translate; add them so the Docker tests keep matching the fleet"
        )
    environment = dict(str(pair).split("=", 1) for pair in inputs.get("envs", []))
    uploads = unwrap(inputs.get("uploads", []))
    if len(uploads) != 1:
        raise FleetSettingsError(f"expected one upload (the credential), got {len(uploads)}")
    upload = uploads[0]
    if str(upload.get("owner", "0")) != "0" or str(upload.get("group", "0")) != "0":
        raise FleetSettingsError("the credential upload must be owned by root (owner/group '0')")
    capabilities = inputs.get("capabilities") or {}
    memory_mb = int(inputs["memory"])
    kwargs: dict[str, Any] = {
        "image": image,
        "name": str(inputs["name"]),
        "environment": environment,
        "init": bool(inputs.get("init", False)),
        "stop_signal": str(inputs.get("stopSignal", "SIGTERM")),
        "mem_limit": f"{memory_mb}m",
        "memswap_limit": f"{int(inputs.get('memorySwap', memory_mb))}m",
        "nano_cpus": int(float(str(inputs["cpus"])) * 1e9),
        "ulimits": [
            docker.types.Ulimit(name=u["name"], soft=int(u["soft"]), hard=int(u["hard"]))
            for u in inputs.get("ulimits", [])
        ],
        "tmpfs": dict(inputs.get("tmpfs") or {}),
        "log_config": docker.types.LogConfig(
            type=str(inputs.get("logDriver", "json-file")),
            config={str(k): str(v) for k, v in (inputs.get("logOpts") or {}).items()},
        ),
        "security_opt": [str(s) for s in inputs.get("securityOpts", [])],
        "cap_drop": [str(c) for c in capabilities.get("drops", [])],
        "cap_add": [str(c) for c in capabilities.get("adds", [])],
        "privileged": bool(inputs.get("privileged", False)),
        "labels": {str(lb["label"]): str(lb["value"]) for lb in inputs.get("labels", [])},
        # The two deliberate differences: see the module docstring.
        "network_mode": "host",
        "restart_policy": {"Name": "no"},
    }
    if inputs.get("mounts"):
        raise FleetSettingsError("the Docker tests do not mount anything from the host")
    return FleetContainer(
        name=str(inputs["name"]),
        environment=environment,
        credential_path=str(upload["file"]),
        credential_mode=int(str(upload.get("permissions", "0400")), 8),
        stop_timeout=int(inputs.get("stopTimeout", 10)),
        create_kwargs=kwargs,
    )


def fleet_container(
    image: str,
    *,
    api_url: str,
    organization: str,
    auth: str,
    name_prefix: str,
    mode: str = "org",
    repository: str | None = None,
    labels: tuple[str, ...] = ("self-hosted", "Linux", "X64"),
    registration: str = "jit",
    runner_group_id: int | None = None,
    runner_group_name: str = "",
    app_id: int = 0,
    app_installation_id: int = 0,
    job_sudo: bool = False,
) -> FleetContainer:
    """The container the fleet would run for these settings, on ``image``."""
    environment = RunnerEnvironment(
        mode=mode,
        organization=organization,
        labels=labels,
        api_url=api_url,
        auth=auth,
        registration=registration,
        job_sudo=job_sudo,
        app_id=app_id,
        app_installation_id=app_installation_id,
        runner_group_id=runner_group_id,
        runner_group_name=runner_group_name,
    )
    inputs = declared_container_inputs(environment, name_prefix=name_prefix, repository=repository)
    return translate(inputs, image)
