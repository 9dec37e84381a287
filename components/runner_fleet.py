"""RunnerFleet: N hardened runner containers on one Docker host, on a network of their own.

Each container gets the non-secret settings as the documented ``FLEET_*`` environment variables
(components/contract.py) and the GitHub credential as a root-only file, never as an environment
variable or argument. Names are stable and stack-scoped (the prefix defaults to 'gha-<stack>'),
so the org and repo fleets can share one host. Jobs reach the outside world but not each other:
the fleet's bridge network has inter-container communication switched off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.contract import CREDENTIAL_PATH

TYPE_TOKEN = "runner-fleet:index:RunnerFleet"
LABEL_PREFIX = "runner-fleet"
HOST_DOCKER_ACCESS_LABEL = f"{LABEL_PREFIX}.host-docker-access"
DOCKER_SOCKET = "/var/run/docker.sock"
RUNNER_UID = 1001
WORK_DIR = "/home/runner/_work"
#: What the entrypoint needs as root before it drops to the runner user; jobs get none of them.
ENTRYPOINT_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID")
#: Long enough for a busy runner to cancel its job and deregister before Docker kills it.
STOP_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RunnerEnvironment:
    """The non-secret settings every runner of the fleet receives (see components/contract.py)."""

    mode: str
    organization: str
    labels: Sequence[str]
    api_url: str
    #: 'app' or 'token': what the credential file holds.
    auth: str
    registration: str = "jit"
    ephemeral: bool = True
    job_sudo: bool = False
    app_id: int = 0
    app_installation_id: int = 0
    #: org mode: the runner group's id (known after the group exists) and name.
    runner_group_id: pulumi.Input[int] | None = None
    runner_group_name: str = ""


@dataclass(frozen=True)
class ContainerLimits:
    """Resource limits and log rotation for each runner container."""

    memory_mb: int = 4096
    cpus: str = "2"
    pids_limit: int = 1024
    work_dir_size_mb: int = 8192
    tmp_size_mb: int = 1024
    log_max_size: str = "10m"
    log_max_files: int = 3


@dataclass(frozen=True)
class RunnerAssignment:
    """``count`` runners for one repository (repo mode) or for the organization (None)."""

    repository: str | None
    count: int


@dataclass(frozen=True)
class RunnerFleetArgs:
    """Inputs of a RunnerFleet."""

    stack: str
    #: Stack-scoped prefix of every container (and so runner) name.
    name_prefix: str
    #: The image ID from RunnerImage; a new ID rolls the fleet.
    image_id: pulumi.Input[str]
    #: The GitHub credential; must be a secret Output. Delivered as a root-only file.
    credential: pulumi.Input[str]
    environment: RunnerEnvironment
    assignments: Sequence[RunnerAssignment]
    limits: ContainerLimits = ContainerLimits()
    #: 'socket' mounts the host's Docker socket: only with the stack's explicit opt-in.
    docker_access: str = "none"
    privileged: bool = False


def container_name(prefix: str, repository: str | None, index: int) -> str:
    return f"{prefix}-{repository}-{index}" if repository else f"{prefix}-{index}"


def container_environment(
    environment: RunnerEnvironment,
    name_prefix: str,
    repository: str | None,
    runner_group_id: int | None,
) -> list[str]:
    """The FLEET_* variables of one container, sorted so previews are stable."""
    env = {
        "FLEET_MODE": environment.mode,
        "FLEET_ORGANIZATION": environment.organization,
        "FLEET_LABELS": ",".join(environment.labels),
        "FLEET_NAME_PREFIX": name_prefix,
        "FLEET_API_URL": environment.api_url,
        "FLEET_AUTH": environment.auth,
        "FLEET_REGISTRATION": environment.registration,
        "FLEET_EPHEMERAL": str(environment.ephemeral).lower(),
        "FLEET_JOB_SUDO": str(environment.job_sudo).lower(),
        "FLEET_CREDENTIAL_FILE": CREDENTIAL_PATH,
    }
    if environment.auth == "app":
        env["FLEET_APP_ID"] = str(environment.app_id)
        env["FLEET_APP_INSTALLATION_ID"] = str(environment.app_installation_id)
    if repository:
        env["FLEET_REPOSITORY"] = f"{environment.organization}/{repository}"
    if runner_group_id is not None:
        env["FLEET_RUNNER_GROUP_ID"] = str(runner_group_id)
        env["FLEET_RUNNER_GROUP"] = environment.runner_group_name
    return [f"{key}={value}" for key, value in sorted(env.items())]


class RunnerFleet(pulumi.ComponentResource):
    """Runner containers plus the isolated network they share."""

    container_names: pulumi.Output[list[str]]
    """Names of every runner container, in declaration order."""
    network_name: pulumi.Output[str]
    """The fleet's Docker network."""

    def __init__(
        self, name: str, args: RunnerFleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        env = args.environment
        common_labels = {
            f"{LABEL_PREFIX}.managed-by": "pulumi",
            f"{LABEL_PREFIX}.stack": args.stack,
            f"{LABEL_PREFIX}.mode": env.mode,
            f"{LABEL_PREFIX}.organization": env.organization,
        }
        if env.runner_group_name:
            common_labels[f"{LABEL_PREFIX}.runner-group"] = env.runner_group_name
        host_docker_access = args.docker_access == "socket" or args.privileged
        if host_docker_access:
            common_labels[HOST_DOCKER_ACCESS_LABEL] = "granted"
            pulumi.log.warn(
                f"{name}: jobs on these runners can control the Docker host "
                f"(dockerAccess={args.docker_access}, privileged={args.privileged}); "
                "any workflow allowed on the group gets root-equivalent access to it.",
                resource=self,
            )

        network = docker.Network(
            f"{name}-network",
            name=f"{args.name_prefix}-net",
            driver="bridge",
            options={"com.docker.network.bridge.enable_icc": "false"},
            labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in common_labels.items()],
            opts=pulumi.ResourceOptions(parent=self),
        )

        total = sum(assignment.count for assignment in args.assignments)
        names: list[str] = []
        for assignment in args.assignments:
            for index in range(assignment.count):
                names.append(container_name(args.name_prefix, assignment.repository, index))
                self._declare_container(
                    name, args, assignment.repository, index, network, common_labels, total
                )

        self.container_names = pulumi.Output.from_input(names)
        self.network_name = network.name
        self.register_outputs(
            {"container_names": self.container_names, "network_name": self.network_name}
        )

    def _declare_container(
        self,
        name: str,
        args: RunnerFleetArgs,
        repository: str | None,
        index: int,
        network: docker.Network,
        common_labels: dict[str, str],
        total_runners: int,
    ) -> docker.Container:
        env = args.environment
        limits = args.limits
        cname = container_name(args.name_prefix, repository, index)
        labels = dict(common_labels)
        if repository:
            labels[f"{LABEL_PREFIX}.repository"] = f"{env.organization}/{repository}"
        envs = pulumi.Output.from_input(env.runner_group_id).apply(
            lambda group_id: container_environment(env, cname, repository, group_id)
        )
        mounts = []
        if args.docker_access == "socket":
            mounts.append(
                docker.ContainerMountArgs(target=DOCKER_SOCKET, source=DOCKER_SOCKET, type="bind")
            )
        # nproc counts the runner user's processes on the whole host, so the fleet's budget is
        # the per-runner limit times the runners of this stack.
        nproc = limits.pids_limit * max(total_runners, 1)
        child_name = f"{name}-{repository}-{index}" if repository else f"{name}-runner-{index}"
        return docker.Container(
            child_name,
            name=cname,
            hostname=cname,
            image=args.image_id,
            envs=envs,
            uploads=[
                docker.ContainerUploadArgs(
                    file=CREDENTIAL_PATH,
                    content=pulumi.Output.secret(args.credential),
                    permissions="0400",
                    owner="0",
                    group="0",
                )
            ],
            restart="unless-stopped",
            init=True,
            stop_signal="SIGTERM",
            stop_timeout=STOP_TIMEOUT_SECONDS,
            destroy_grace_seconds=STOP_TIMEOUT_SECONDS,
            memory=limits.memory_mb,
            memory_swap=limits.memory_mb,
            cpus=limits.cpus,
            ulimits=[docker.ContainerUlimitArgs(name="nproc", soft=nproc, hard=nproc)],
            tmpfs={
                WORK_DIR: f"rw,exec,size={limits.work_dir_size_mb}m,uid={RUNNER_UID},"
                f"gid={RUNNER_UID},mode=0700",
                "/tmp": f"rw,exec,nosuid,size={limits.tmp_size_mb}m,mode=1777",
            },
            log_driver="json-file",
            log_opts={"max-size": limits.log_max_size, "max-file": str(limits.log_max_files)},
            security_opts=[] if env.job_sudo else ["no-new-privileges:true"],
            capabilities=docker.ContainerCapabilitiesArgs(
                drops=["ALL"], adds=list(ENTRYPOINT_CAPABILITIES)
            ),
            privileged=args.privileged,
            mounts=mounts,
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name)],
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels.items()],
            must_run=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
