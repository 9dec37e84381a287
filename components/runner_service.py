"""RunnerService: the fleet as replicated Docker Swarm services, a brand-new container per job.

The ``swarm`` engine. Each fleet (the organization's, or one per repository in repo mode) is one
replicated service whose restart policy is ``any``: when the runner's single job ends and its
container exits, Swarm schedules a new task, which is a new container from the image, so nothing a
job wrote survives into the next job. The credential is a Swarm secret mounted at the contract's
credential path, owned by root with mode 0400 (a read-only tmpfs; the entrypoint accepts it as
is). The other settings are the same ``FLEET_*`` variables the docker engine passes
(``container_environment``), with the runner-name prefix made unique per task slot by a Swarm
template.

What Swarm (Docker API 1.41, pulumi-docker 5.2) cannot express, and what holds instead:
no-new-privileges is applied by the entrypoint to the runner process (``setpriv --no-new-privs``)
rather than to the container; there is no pids or nproc limit per task; overlay networks have no
switch for inter-container traffic, so runners of one fleet share a network of their own but can
reach each other on it (no other container joins it: it is not attachable).

Fails (at ``pulumi up``) where Swarm does: the Docker host must be a swarm manager
(``docker swarm init``), and on a multi-node swarm the image must come from a registry every
node can pull (the ``image`` key), since a locally built image exists on one node only.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.config import swarm_service_name
from components.contract import CREDENTIAL_PATH
from components.runner_fleet import (
    DOCKER_SOCKET,
    ENTRYPOINT_CAPABILITIES,
    HOST_DOCKER_ACCESS_LABEL,
    LABEL_PREFIX,
    STOP_TIMEOUT_SECONDS,
    WORK_DIR,
    ContainerLimits,
    RunnerAssignment,
    RunnerEnvironment,
    container_environment,
)

TYPE_TOKEN = "runner-fleet:index:RunnerService"
#: Swarm expands this per task, so every replica registers under its own runner-name prefix.
TASK_SLOT = "{{.Task.Slot}}"
#: Pause before a finished task is replaced. Short, because every job ends in a restart (see the
#: swarm benchmark in BENCHMARKS.md); not zero, so a runner that fails at once (a revoked
#: credential) does not spin. Swarm, unlike Docker's restart policy, has no growing backoff.
RESTART_DELAY = "200ms"
#: Rolling updates stop an old task before starting its replacement (a slot never holds two
#: runners), a few tasks at a time, and pause when a new task fails. Swarm cannot tell idle from
#: busy runners: a stopped idle runner deregisters at once, a busy one gets SIGTERM, cancels its
#: job and deregisters within the stop grace period. Tasks that finish a job during the update
#: come back on the new spec anyway.
UPDATE_PARALLELISM = 2
UPDATE_ORDER = "stop-first"
UPDATE_FAILURE_ACTION = "pause"
UPDATE_MONITOR = "15s"
#: The credential file's mode: root-only, read-only.
CREDENTIAL_MODE = 0o400


@dataclass(frozen=True)
class RunnerServiceArgs:
    """Inputs of a RunnerService."""

    stack: str
    #: Stack-scoped prefix of every service (and so runner) name.
    name_prefix: str
    #: The image tasks run: the local image ID (one node) or a registry reference every node can
    #: pull, ideally pinned by digest.
    image: pulumi.Input[str]
    #: The built image's ID; a new ID rolls the services even when ``image`` keeps its name.
    image_id: pulumi.Input[str]
    #: The GitHub credential; must be a secret Output. Delivered as a Swarm secret.
    credential: pulumi.Input[str]
    environment: RunnerEnvironment
    assignments: Sequence[RunnerAssignment]
    limits: ContainerLimits = ContainerLimits()
    #: Nodes that may run runners, as Swarm placement constraints.
    placement_constraints: Sequence[str] = ("node.platform.os==linux",)
    #: 'socket' mounts the node's Docker socket: only with the stack's explicit opt-in.
    docker_access: str = "none"


def _secret_data(credential: str) -> str:
    """Swarm secrets travel base64-encoded through the provider."""
    return base64.b64encode(credential.encode()).decode()


class RunnerService(pulumi.ComponentResource):
    """One replicated Swarm service per fleet, sharing one credential secret and one network."""

    service_names: pulumi.Output[list[str]]
    """Names of the Swarm services, in declaration order."""
    network_name: pulumi.Output[str]
    """The fleet's overlay network."""

    def __init__(
        self, name: str, args: RunnerServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        env = args.environment
        child = pulumi.ResourceOptions(parent=self)
        common_labels = {
            f"{LABEL_PREFIX}.managed-by": "pulumi",
            f"{LABEL_PREFIX}.stack": args.stack,
            f"{LABEL_PREFIX}.mode": env.mode,
            f"{LABEL_PREFIX}.organization": env.organization,
            f"{LABEL_PREFIX}.engine": "swarm",
        }
        if env.runner_group_name:
            common_labels[f"{LABEL_PREFIX}.runner-group"] = env.runner_group_name
        if args.docker_access == "socket":
            common_labels[HOST_DOCKER_ACCESS_LABEL] = "granted"
            pulumi.log.warn(
                f"{name}: jobs on these runners can control the Docker hosts of the swarm "
                "(dockerAccess=socket); any workflow allowed on the group gets root-equivalent "
                "access to every node that runs a runner.",
                resource=self,
            )

        # No name: Pulumi names it, so a new credential is a new secret the services switch to
        # before the old one (still in use until then) is deleted.
        secret = docker.Secret(
            f"{name}-credential",
            data=pulumi.Output.secret(args.credential).apply(_secret_data),
            labels=[docker.SecretLabelArgs(label=k, value=v) for k, v in common_labels.items()],
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["data"]),
        )
        network = docker.Network(
            f"{name}-network",
            name=f"{args.name_prefix}-net",
            driver="overlay",
            attachable=False,
            labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in common_labels.items()],
            opts=child,
        )

        names: list[str] = []
        for assignment in args.assignments:
            service_name = swarm_service_name(args.name_prefix, assignment.repository)
            names.append(service_name)
            self._declare_service(
                name, args, assignment, service_name, secret, network, common_labels
            )

        self.service_names = pulumi.Output.from_input(names)
        self.network_name = network.name
        self.register_outputs(
            {"service_names": self.service_names, "network_name": self.network_name}
        )

    def _declare_service(
        self,
        name: str,
        args: RunnerServiceArgs,
        assignment: RunnerAssignment,
        service_name: str,
        secret: docker.Secret,
        network: docker.Network,
        common_labels: dict[str, str],
    ) -> docker.Service:
        env = args.environment
        limits = args.limits
        repository = assignment.repository
        labels = dict(common_labels)
        if repository:
            labels[f"{LABEL_PREFIX}.repository"] = f"{env.organization}/{repository}"
        runner_prefix = f"{service_name}-{TASK_SLOT}"
        environment = pulumi.Output.from_input(env.runner_group_id).apply(
            lambda group_id: dict(
                pair.split("=", 1)
                for pair in container_environment(env, runner_prefix, repository, group_id)
            )
        )
        task_labels = pulumi.Output.from_input(args.image_id).apply(
            lambda image_id: [
                docker.ServiceTaskSpecContainerSpecLabelArgs(label=k, value=v)
                for k, v in {**labels, f"{LABEL_PREFIX}.image-id": image_id}.items()
            ]
        )
        mounts = [
            docker.ServiceTaskSpecContainerSpecMountArgs(
                target=WORK_DIR,
                type="tmpfs",
                tmpfs_options=docker.ServiceTaskSpecContainerSpecMountTmpfsOptionsArgs(
                    size_bytes=limits.work_dir_size_mb * 1024 * 1024, mode=0o1777
                ),
            ),
            docker.ServiceTaskSpecContainerSpecMountArgs(
                target="/tmp",
                type="tmpfs",
                tmpfs_options=docker.ServiceTaskSpecContainerSpecMountTmpfsOptionsArgs(
                    size_bytes=limits.tmp_size_mb * 1024 * 1024, mode=0o1777
                ),
            ),
        ]
        if args.docker_access == "socket":
            mounts.append(
                docker.ServiceTaskSpecContainerSpecMountArgs(
                    target=DOCKER_SOCKET, source=DOCKER_SOCKET, type="bind"
                )
            )
        child_name = f"{name}-{repository}" if repository else f"{name}-service"
        return docker.Service(
            child_name,
            name=service_name,
            labels=[docker.ServiceLabelArgs(label=k, value=v) for k, v in labels.items()],
            mode=docker.ServiceModeArgs(
                replicated=docker.ServiceModeReplicatedArgs(replicas=assignment.count)
            ),
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=args.image,
                    hostname=runner_prefix,
                    env=environment,
                    labels=task_labels,
                    secrets=[
                        docker.ServiceTaskSpecContainerSpecSecretArgs(
                            secret_id=secret.id,
                            secret_name=secret.name,
                            file_name=CREDENTIAL_PATH,
                            file_uid="0",
                            file_gid="0",
                            file_mode=CREDENTIAL_MODE,
                        )
                    ],
                    mounts=mounts,
                    init=True,
                    stop_signal="SIGTERM",
                    stop_grace_period=f"{STOP_TIMEOUT_SECONDS}s",
                    cap_drops=["ALL"],
                    cap_adds=list(ENTRYPOINT_CAPABILITIES),
                ),
                restart_policy=docker.ServiceTaskSpecRestartPolicyArgs(
                    condition="any", delay=RESTART_DELAY, max_attempts=0
                ),
                resources=docker.ServiceTaskSpecResourcesArgs(
                    limits=docker.ServiceTaskSpecResourcesLimitsArgs(
                        memory_bytes=limits.memory_mb * 1024 * 1024,
                        nano_cpus=int(round(float(limits.cpus) * 1e9)),
                    )
                ),
                log_driver=docker.ServiceTaskSpecLogDriverArgs(
                    name="json-file",
                    options={
                        "max-size": limits.log_max_size,
                        "max-file": str(limits.log_max_files),
                    },
                ),
                placement=docker.ServiceTaskSpecPlacementArgs(
                    constraints=list(args.placement_constraints)
                ),
                networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=network.id)],
            ),
            update_config=docker.ServiceUpdateConfigArgs(
                parallelism=UPDATE_PARALLELISM,
                order=UPDATE_ORDER,
                failure_action=UPDATE_FAILURE_ACTION,
                monitor=UPDATE_MONITOR,
            ),
            rollback_config=docker.ServiceRollbackConfigArgs(
                parallelism=UPDATE_PARALLELISM, order=UPDATE_ORDER
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
