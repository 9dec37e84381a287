"""The runner fleet's CrossGuard policies, as plain functions that Pulumi and the tests both call.

Every validator takes pulumi-policy's ``ResourceValidationArgs`` and a report callback, looks
only at the resource types it is about, and reports one violation per problem, each naming the
resource and the fix. The docker engine's containers, the swarm engine's services and the
kubernetes engine's Helm releases each get the checks their platform can express; the runner
group, image and network policies hold on every engine. Messages never quote a property value
that could be a credential: they name the environment variable or the argument position instead.

The fleet's escape hatches are honoured, never assumed:

* A runner container or Swarm service may reach the host's Docker engine (socket mount,
  privileged Docker-in-Docker, ``DOCKER_HOST``) only when its stack opted in with
  ``allowHostDockerAccess``; the program then labels it ``runner-fleet.host-docker-access=granted``.
  Without the label that is a mandatory violation; with it, an advisory warning so the reviewer
  still sees it. The kubernetes engine's ``dind`` container mode is always an advisory warning
  (the program refuses it without the opt-in).
* A runner group may accept public repositories only when the pack's configuration for
  ``public-repositories-need-opt-in`` sets ``allowPublicRepositories: true`` (see
  ``policy/config/<stack>.json``); an advisory warning is shown either way.

How it fails: a property that is unknown during ``pulumi preview`` raises pulumi-policy's
``UnknownValueError``; Pulumi then reports that the policy could not run during preview (advisory)
and runs it for real on ``pulumi up``.

Pulumi loads this file with ``policy/`` as its import root, so it imports nothing from the rest of
the repository; ``CREDENTIAL_PATH`` repeats the fleet contract's value and a test keeps them equal.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

RUNNER_GROUP_TYPE: Final = "github:index/actionsRunnerGroup:ActionsRunnerGroup"
CONTAINER_TYPE: Final = "docker:index/container:Container"
REMOTE_IMAGE_TYPE: Final = "docker:index/remoteImage:RemoteImage"
NETWORK_TYPE: Final = "docker:index/network:Network"
SERVICE_TYPE: Final = "docker:index/service:Service"
HELM_RELEASE_TYPE: Final = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V4_TYPE: Final = "kubernetes:helm.sh/v4:Chart"
#: Helm resources whose ``version`` and ``values`` the kubernetes policies read.
HELM_TYPES: Final = frozenset({HELM_RELEASE_TYPE, HELM_CHART_V4_TYPE})

#: The label (and value) the program puts on containers of a stack that set allowHostDockerAccess.
HOST_DOCKER_ACCESS_LABEL: Final = "runner-fleet.host-docker-access"
HOST_DOCKER_ACCESS_GRANTED: Final = "granted"

#: Where the fleet uploads the GitHub credential (same value as components/contract.py).
CREDENTIAL_PATH: Final = "/run/fleet/credential"

#: Sockets that hand out control of a container engine, hence of the host.
ENGINE_SOCKET_NAMES: Final = frozenset({"docker.sock", "containerd.sock", "podman.sock"})
#: Host directories that contain the Docker socket: binding one binds the socket too.
SOCKET_PARENT_DIRECTORIES: Final = frozenset({"/", "/run", "/var", "/var/run"})

#: Environment variable names that say "this value is a credential".
CREDENTIAL_NAME_PATTERN: Final = re.compile(
    r"TOKEN|SECRET|PRIVATE_?KEY|PASSWORD|PASSWD|API_?KEY|JIT_?CONFIG", re.IGNORECASE
)
#: Values that are GitHub credentials or PEM key material, wherever they appear.
CREDENTIAL_VALUE_PATTERN: Final = re.compile(
    r"(?:^|[^A-Za-z0-9])(?:ghp_|gho_|ghu_|ghs_|ghr_|github_pat_)[A-Za-z0-9_]{8,}|-----BEGIN"
)
#: Command-line flags whose next argument (or "=value") is a credential; the actions runner's
#: config.sh takes --token and --pat, run.sh takes --jitconfig.
CREDENTIAL_FLAGS: Final = frozenset({"--token", "--pat", "--password", "--jitconfig"})

#: Capabilities that let a job escape the container or read the host; never added to a runner.
DANGEROUS_CAPABILITIES: Final = frozenset(
    {"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH", "BPF"}
)
#: Namespace settings whose value "host" shares the host's namespace with every job.
HOST_NAMESPACE_PROPERTIES: Final = (
    "networkMode",
    "pidMode",
    "ipcMode",
    "usernsMode",
    "cgroupnsMode",
)
#: Log drivers that keep logs on the host and rotate them when told a max-size.
ROTATING_LOG_DRIVERS: Final = frozenset({"json-file", "local"})
#: A Swarm secret's file mode: readable by its owner (root) alone.
ROOT_ONLY_FILE_MODE: Final = 0o400
#: Swarm's file mode for a secret that does not set one (world-readable).
SWARM_DEFAULT_SECRET_MODE: Final = 0o444
#: A chart version Helm resolves to one release: exact semver, no range, no "latest".
PINNED_CHART_VERSION_PATTERN: Final = re.compile(
    r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
#: actions-runner-controller's container mode that runs a privileged Docker daemon per pod.
DIND_CONTAINER_MODE: Final = "dind"
#: An image reference that cannot move: an image ID or a repository digest.
PINNED_IMAGE_PATTERN: Final = re.compile(r"^(?:sha256:[0-9a-f]{64}|[^@\s]+@sha256:[0-9a-f]{64})$")

Validator = Callable[[ResourceValidationArgs, ReportViolation], None]


# --- reading resource properties --------------------------------------------------------------
# pulumi-policy hands validators read-only Mapping/Sequence proxies, not dicts and lists, so these
# helpers test for the abstract types.


def _items(value: Any) -> list[Any]:
    """A list property as a Python list; None (unset) is empty, a string is not a list."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def _positive(value: Any) -> bool:
    """A number above zero; the engine hands every number to policies as a float."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _label_value(props: Mapping[str, Any], name: str) -> str | None:
    """A container label's value; pulumi-docker declares labels as [{label, value}]."""
    labels = props.get("labels")
    if isinstance(labels, Mapping):
        found = labels.get(name)
        return found if isinstance(found, str) else None
    for entry in _items(labels):
        entry = _mapping(entry)
        if entry.get("label") == name:
            return _text(entry.get("value"))
    return None


def _environment(props: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(name, value) pairs of a container's ``envs`` ("NAME=value" strings) or a Swarm container
    spec's ``env`` (a name-to-value map)."""
    for entry in _items(props.get("envs")):
        name, _, value = _text(entry).partition("=")
        yield name, value
    for name, value in _mapping(props.get("env")).items():
        yield _text(name), _text(value)


def _normalised_path(path: Any) -> str:
    text = _text(path)
    return posixpath.normpath(text) if text else ""


def _is_engine_socket(path: str) -> bool:
    return posixpath.basename(path) in ENGINE_SOCKET_NAMES


def _mount_problems(props: Mapping[str, Any]) -> Iterator[str]:
    """Mounts and volumes that put a container engine's socket inside the container."""
    for mount in _items(props.get("mounts")):
        mount = _mapping(mount)
        source = _normalised_path(mount.get("source"))
        target = _normalised_path(mount.get("target"))
        is_bind = _text(mount.get("type")) == "bind"
        if _is_engine_socket(target) or (source and _is_engine_socket(source)):
            yield f"mounts the engine socket at {target}"
        elif is_bind and source in SOCKET_PARENT_DIRECTORIES:
            yield f"bind-mounts host directory {source}, which holds the Docker socket"
    for volume in _items(props.get("volumes")):
        volume = _mapping(volume)
        host_path = _normalised_path(volume.get("hostPath"))
        container_path = _normalised_path(volume.get("containerPath"))
        if _is_engine_socket(container_path) or (host_path and _is_engine_socket(host_path)):
            yield f"mounts the engine socket at {container_path}"
        elif host_path in SOCKET_PARENT_DIRECTORIES:
            yield f"mounts host directory {host_path}, which holds the Docker socket"


def host_docker_access(props: Mapping[str, Any]) -> list[str]:
    """Every way this container reaches a Docker engine: socket mounts, privilege, DOCKER_HOST."""
    reasons = list(_mount_problems(props))
    if props.get("privileged") is True:
        reasons.append("runs privileged")
    if any(name == "DOCKER_HOST" for name, _ in _environment(props)):
        reasons.append("sets DOCKER_HOST")
    return reasons


def is_host_docker_access_granted(props: Mapping[str, Any]) -> bool:
    return _label_value(props, HOST_DOCKER_ACCESS_LABEL) == HOST_DOCKER_ACCESS_GRANTED


def _looks_like_credential(value: str) -> bool:
    return CREDENTIAL_VALUE_PATTERN.search(value) is not None


def credential_exposures(
    props: Mapping[str, Any], argument_properties: Sequence[str] = ("command", "entrypoints")
) -> list[str]:
    """Credentials in a container's environment and command-line properties, named not quoted.

    ``argument_properties`` names the list properties that become the process's argv: a
    Container's ``command``/``entrypoints``, a Swarm container spec's ``commands``/``args``.
    """
    found: list[str] = []
    for name, value in _environment(props):
        names_a_file = name.upper().endswith(("_FILE", "_PATH")) and value.startswith("/")
        if CREDENTIAL_NAME_PATTERN.search(name) and value and not names_a_file:
            found.append(f"environment variable {name} is named like a credential")
        elif _looks_like_credential(value):
            found.append(f"environment variable {name} holds a credential-shaped value")
    for prop in argument_properties:
        arguments = [_text(argument) for argument in _items(props.get(prop))]
        for position, argument in enumerate(arguments):
            flag = argument.split("=", 1)[0]
            if flag in CREDENTIAL_FLAGS and ("=" in argument or position + 1 < len(arguments)):
                found.append(f"{prop}[{position}] passes {flag} on the command line")
            elif _looks_like_credential(argument):
                found.append(f"{prop}[{position}] holds a credential-shaped value")
    return found


def _log_rotation_problem(driver: str, max_size: str, driver_key: str) -> str | None:
    """Why logs written with this driver and max-size would grow without bound, if they would."""
    if driver in ROTATING_LOG_DRIVERS and max_size:
        return None
    return (
        f"does not rotate its logs ({driver_key} '{driver or 'unset'}', max-size "
        f"'{max_size or 'unset'}')"
    )


def _capability_problems(drops: Any, adds: Any, drops_key: str, adds_key: str) -> list[str]:
    """Capabilities a runner keeps or adds that it must not: default set kept, dangerous ones."""

    def names(value: Any) -> set[str]:
        return {_text(c).upper().removeprefix("CAP_") for c in _items(value)}

    problems: list[str] = []
    if "ALL" not in names(drops):
        problems.append(f"keeps default capabilities. Set {drops_key} ['ALL'].")
    dangerous = sorted(names(adds) & DANGEROUS_CAPABILITIES)
    if dangerous:
        problems.append(
            f"adds capabilities {', '.join(dangerous)}, which let a job escape the container. "
            f"Remove them from {adds_key}."
        )
    return problems


def _subject(args: ResourceValidationArgs) -> str:
    return f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}'"


# --- runner groups ------------------------------------------------------------------------------


def runner_group_not_visible_to_all(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A runner group must name the repositories it serves, and must not be the Default group."""
    if args.resource_type != RUNNER_GROUP_TYPE:
        return
    visibility = _text(args.props.get("visibility"))
    if visibility != "selected":
        report(
            f"{_subject(args)} has visibility '{visibility or 'unset'}': every repository of the "
            "organization could run jobs on the fleet. Set visibility 'selected' and list the "
            "repositories in selectedRepositoryIds.",
            None,
        )
    if _text(args.props.get("name")).strip().lower() == "default":
        report(
            f"{_subject(args)} is named 'Default', the group every new runner and repository "
            "lands in. Give the fleet a group of its own.",
            None,
        )


def public_repositories_need_opt_in(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A runner group accepts public repositories only if this policy's config allows it."""
    if args.resource_type != RUNNER_GROUP_TYPE:
        return
    if args.props.get("allowsPublicRepositories") is not True:
        return
    if args.get_config().get("allowPublicRepositories") is True:
        return
    report(
        f"{_subject(args)} accepts jobs from public repositories, so anyone who opens a pull "
        "request could run code on the fleet. Set allowsPublicRepositories to false, or opt the "
        "stack in with allowPublicRepositories: true for this policy in "
        "policy/config/<stack>.json.",
        None,
    )


def public_repositories_allowed(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Warn whenever a runner group accepts public repositories, opted in or not."""
    if args.resource_type != RUNNER_GROUP_TYPE:
        return
    if args.props.get("allowsPublicRepositories") is True:
        report(
            f"{_subject(args)} accepts jobs from public repositories: keep runners ephemeral and "
            "restrict the group to known workflows (restrictedToWorkflows).",
            None,
        )


# --- runner containers --------------------------------------------------------------------------


def no_host_docker_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """No socket mount, privilege or DOCKER_HOST unless the stack opted in (label present)."""
    if args.resource_type != CONTAINER_TYPE or is_host_docker_access_granted(args.props):
        return
    for reason in host_docker_access(args.props):
        report(
            f"{_subject(args)} {reason}: any job could take over the host. Remove it, or opt the "
            "stack in with allowHostDockerAccess: true (which labels the container "
            f"{HOST_DOCKER_ACCESS_LABEL}={HOST_DOCKER_ACCESS_GRANTED}).",
            None,
        )


def host_docker_access_granted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Warn about Docker access a stack did opt in to, so reviewers see what it grants."""
    if args.resource_type != CONTAINER_TYPE or not is_host_docker_access_granted(args.props):
        return
    for reason in host_docker_access(args.props):
        report(
            f"{_subject(args)} {reason} (opted in with allowHostDockerAccess): jobs on it "
            "control the host's Docker engine.",
            None,
        )


def no_credentials_in_env_or_command(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Credentials reach a runner only as the uploaded credential file, never env or argv."""
    if args.resource_type != CONTAINER_TYPE:
        return
    for exposure in credential_exposures(args.props):
        report(
            f"{_subject(args)}: {exposure}. Environment and command lines are readable by every "
            f"process and by `docker inspect`; upload the credential to {CREDENTIAL_PATH} instead.",
            None,
        )


def resource_limits_set(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A job must not be able to exhaust the host's memory or process table."""
    if args.resource_type != CONTAINER_TYPE:
        return
    if not _positive(args.props.get("memory")):
        report(f"{_subject(args)} has no memory limit. Set memory (MB).", None)
    nproc = [
        _mapping(u) for u in _items(args.props.get("ulimits")) if _mapping(u).get("name") == "nproc"
    ]
    if not any(_positive(u.get("soft")) and _positive(u.get("hard")) for u in nproc):
        report(
            f"{_subject(args)} has no process limit, so a fork bomb in a job takes the host "
            "down. Set an nproc ulimit with positive soft and hard values.",
            None,
        )


def log_rotation_set(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Container logs are rotated, so a chatty job cannot fill the host's disk."""
    if args.resource_type != CONTAINER_TYPE:
        return
    problem = _log_rotation_problem(
        _text(args.props.get("logDriver")),
        _text(_mapping(args.props.get("logOpts")).get("max-size")),
        "logDriver",
    )
    if problem:
        report(
            f"{_subject(args)} {problem}. Set logDriver 'json-file' or 'local' and logOpts "
            "max-size (and max-file).",
            None,
        )


def no_new_privileges(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """setuid binaries inside a job must not gain privileges."""
    if args.resource_type != CONTAINER_TYPE:
        return
    options = {
        _text(option).replace("=", ":").replace(" ", "")
        for option in _items(args.props.get("securityOpts"))
    }
    if not options & {"no-new-privileges", "no-new-privileges:true"}:
        report(
            f"{_subject(args)} lets processes gain privileges. Add 'no-new-privileges:true' "
            "to securityOpts.",
            None,
        )


def capabilities_dropped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Drop every capability and add back only harmless ones."""
    if args.resource_type != CONTAINER_TYPE:
        return
    capabilities = _mapping(args.props.get("capabilities"))
    for problem in _capability_problems(
        capabilities.get("drops"),
        capabilities.get("adds"),
        "capabilities.drops",
        "capabilities.adds",
    ):
        report(f"{_subject(args)} {problem}", None)


def container_isolated_from_host(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """No host namespaces and no disabled confinement profiles."""
    if args.resource_type != CONTAINER_TYPE:
        return
    for prop in HOST_NAMESPACE_PROPERTIES:
        if _text(args.props.get(prop)) == "host":
            report(f"{_subject(args)} shares the host's {prop} namespace. Remove {prop}.", None)
    for option in _items(args.props.get("securityOpts")):
        text = _text(option).replace("=", ":")
        if text in {"seccomp:unconfined", "apparmor:unconfined", "label:disable"}:
            report(f"{_subject(args)} disables confinement with '{text}'. Remove it.", None)


def credential_upload_root_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The credential file is readable by root alone (mode 0400, owner root)."""
    if args.resource_type != CONTAINER_TYPE:
        return
    for upload in _items(args.props.get("uploads")):
        upload = _mapping(upload)
        path = _normalised_path(upload.get("file"))
        content = _text(upload.get("content"))
        if path != CREDENTIAL_PATH and not _looks_like_credential(content):
            continue
        permissions = _text(upload.get("permissions")).lstrip("0o") or "0"
        owner = _text(upload.get("owner"))
        if permissions != "400" or owner not in {"0", "root"} or upload.get("executable") is True:
            report(
                f"{_subject(args)} uploads a credential to {path} with permissions "
                f"'{_text(upload.get('permissions')) or 'unset'}' and owner '{owner or 'unset'}'. "
                "Set permissions '0400' and owner '0' (root).",
                None,
            )


def container_image_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Containers run an image ID or digest, so a moved tag cannot change what runs."""
    if args.resource_type != CONTAINER_TYPE:
        return
    image = _text(args.props.get("image"))
    if not PINNED_IMAGE_PATTERN.match(image):
        report(
            f"{_subject(args)} runs image '{image}', a mutable reference. Use the RemoteImage's "
            "imageId (sha256:...) or a name@sha256:... digest.",
            None,
        )


def remote_image_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Images pulled from a registry name a digest, so a re-pushed tag cannot change them."""
    if args.resource_type != REMOTE_IMAGE_TYPE or args.props.get("build") is not None:
        return  # built on the Docker host from docker/: nothing is pulled, so no tag can move
    name = _text(args.props.get("name"))
    if "@sha256:" not in name:
        report(f"{_subject(args)} pulls '{name}' by tag. Pin it as name@sha256:<digest>.", None)


def network_isolates_runners(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Runners on one bridge cannot talk to each other: a job must not reach a neighbour's job."""
    if args.resource_type != NETWORK_TYPE:
        return
    if _text(args.props.get("driver")) == "overlay":
        # Overlay networks have no inter-container switch; what holds instead is that only the
        # fleet's own services are on it, which an attachable network would give up.
        if args.props.get("attachable") is True:
            report(
                f"{_subject(args)} is an attachable overlay network, so any container on the "
                "swarm can join the runners' network and reach their jobs. Set attachable false.",
                None,
            )
        return
    options = _mapping(args.props.get("options"))
    if _text(options.get("com.docker.network.bridge.enable_icc")).lower() != "false":
        report(
            f"{_subject(args)} lets containers talk to each other. Set options "
            "com.docker.network.bridge.enable_icc: 'false'.",
            None,
        )


# --- swarm services -------------------------------------------------------------------------------
# A docker Service's task runs one container from taskSpec.containerSpec; the properties checked
# here are pulumi-docker's names for it (env map, commands/args, capDrops/capAdds, secrets).


def _container_spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(_mapping(props.get("taskSpec")).get("containerSpec"))


def is_service_host_docker_access_granted(props: Mapping[str, Any]) -> bool:
    """The opt-in label on the service itself or on its task's container."""
    return HOST_DOCKER_ACCESS_GRANTED in {
        _label_value(props, HOST_DOCKER_ACCESS_LABEL),
        _label_value(_container_spec(props), HOST_DOCKER_ACCESS_LABEL),
    }


def swarm_no_host_docker_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """No engine socket mount or DOCKER_HOST in a runner service unless the stack opted in."""
    if args.resource_type != SERVICE_TYPE or is_service_host_docker_access_granted(args.props):
        return
    for reason in host_docker_access(_container_spec(args.props)):
        report(
            f"{_subject(args)} {reason}: any job could take over the swarm node. Remove it, or "
            "opt the stack in with allowHostDockerAccess: true and dockerAccess: socket (which "
            f"labels the service {HOST_DOCKER_ACCESS_LABEL}={HOST_DOCKER_ACCESS_GRANTED}).",
            None,
        )


def swarm_host_docker_access_granted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Warn about Docker access a swarm stack did opt in to, so reviewers see what it grants."""
    if args.resource_type != SERVICE_TYPE or not is_service_host_docker_access_granted(args.props):
        return
    for reason in host_docker_access(_container_spec(args.props)):
        report(
            f"{_subject(args)} {reason} (opted in with allowHostDockerAccess): jobs on it "
            "control the Docker engine of every node that runs a runner.",
            None,
        )


def swarm_no_credentials_in_env_or_command(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """Credentials reach a runner service only as a Swarm secret, never env or argv."""
    if args.resource_type != SERVICE_TYPE:
        return
    spec = _container_spec(args.props)
    for exposure in credential_exposures(spec, ("commands", "args")):
        report(
            f"{_subject(args)}: taskSpec.containerSpec {exposure}. Service specs are readable "
            "by anyone who can run `docker service inspect`; deliver the credential as a Swarm "
            f"secret at {CREDENTIAL_PATH} instead.",
            None,
        )


def swarm_resource_limits_set(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A job must not be able to exhaust a swarm node's memory."""
    if args.resource_type != SERVICE_TYPE:
        return
    limits = _mapping(_mapping(_mapping(args.props.get("taskSpec")).get("resources")).get("limits"))
    if not _positive(limits.get("memoryBytes")):
        report(
            f"{_subject(args)} has no memory limit. Set taskSpec.resources.limits.memoryBytes.",
            None,
        )


def swarm_log_rotation_set(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Service logs are rotated, so a chatty job cannot fill a node's disk."""
    if args.resource_type != SERVICE_TYPE:
        return
    log_driver = _mapping(_mapping(args.props.get("taskSpec")).get("logDriver"))
    problem = _log_rotation_problem(
        _text(log_driver.get("name")),
        _text(_mapping(log_driver.get("options")).get("max-size")),
        "taskSpec.logDriver.name",
    )
    if problem:
        report(
            f"{_subject(args)} {problem}. Set taskSpec.logDriver name 'json-file' or 'local' "
            "and options max-size (and max-file).",
            None,
        )


def swarm_capabilities_dropped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A runner service drops every capability and adds back only harmless ones."""
    if args.resource_type != SERVICE_TYPE:
        return
    spec = _container_spec(args.props)
    for problem in _capability_problems(
        spec.get("capDrops"),
        spec.get("capAdds"),
        "taskSpec.containerSpec.capDrops",
        "taskSpec.containerSpec.capAdds",
    ):
        report(f"{_subject(args)} {problem}", None)


def _file_mode(value: Any) -> int | None:
    """A secret's fileMode as an int; the engine hands numbers over as floats."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return int(value)
    return None


def swarm_credential_secret_root_only(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """Every Swarm secret a runner service mounts is readable by root alone (mode 0400, uid 0)."""
    if args.resource_type != SERVICE_TYPE:
        return
    for secret in _items(_container_spec(args.props).get("secrets")):
        secret = _mapping(secret)
        path = _normalised_path(secret.get("fileName")) or "its default path"
        raw_mode = secret.get("fileMode")
        mode = SWARM_DEFAULT_SECRET_MODE if raw_mode is None else _file_mode(raw_mode)
        # Swarm's defaults for fileUid/fileGid are "0" (root).
        owner = _text(secret.get("fileUid")) or "0"
        if mode == ROOT_ONLY_FILE_MODE and owner == "0":
            continue
        if raw_mode is None:
            shown_mode = f"unset, Swarm's default {SWARM_DEFAULT_SECRET_MODE:#o}"
        elif mode is None:
            shown_mode = "not a whole number"
        else:
            shown_mode = f"{mode:#o}"
        report(
            f"{_subject(args)} mounts a secret at {path} with fileMode {shown_mode} and fileUid "
            f"'{owner}': the job's user could read the credential. Set fileMode 0o400 (256) and "
            "fileUid '0'.",
            None,
        )


# --- kubernetes (Helm releases of actions-runner-controller) -------------------------------------


def _helm_values(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(props.get("values"))


def _credential_paths(value: Any, path: str) -> Iterator[str]:
    """Paths inside Helm values whose string holds a credential-shaped value."""
    if isinstance(value, str):
        if _looks_like_credential(value):
            yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _credential_paths(item, f"{path}.{key}")
    else:
        for position, item in enumerate(_items(value)):
            yield from _credential_paths(item, f"{path}[{position}]")


def helm_values_hold_no_credential(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The GitHub credential reaches ARC as the name of a Kubernetes Secret, never in values."""
    if args.resource_type not in HELM_TYPES:
        return
    values = _helm_values(args.props)
    config_secret = values.get("githubConfigSecret")
    if isinstance(config_secret, Mapping):
        keys = ", ".join(sorted(_text(k) for k in config_secret)) or "none"
        report(
            f"{_subject(args)} puts the GitHub credential inline in values.githubConfigSecret "
            f"(keys: {keys}), where Helm stores it in the release and anyone who can read the "
            "release sees it. Store it in a Kubernetes Secret and set githubConfigSecret to that "
            "Secret's name.",
            None,
        )
        values = {k: v for k, v in values.items() if k != "githubConfigSecret"}
    for path in _credential_paths(values, "values"):
        report(
            f"{_subject(args)}: {path} holds a credential-shaped value. Helm stores values in "
            "the release; keep credentials in a Kubernetes Secret and pass its name.",
            None,
        )


def helm_chart_version_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A Helm chart is pinned to one exact version, so a new chart release cannot change it."""
    if args.resource_type not in HELM_TYPES:
        return
    version = _text(args.props.get("version")).strip()
    if not PINNED_CHART_VERSION_PATTERN.match(version):
        report(
            f"{_subject(args)} installs chart version '{version or 'unset'}', which is not one "
            "exact version. Pin it, e.g. version '0.14.2' (the stack's arcChartVersion).",
            None,
        )


def arc_dind_container_mode(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Warn when a runner scale set runs a privileged Docker daemon next to every runner."""
    if args.resource_type not in HELM_TYPES:
        return
    mode = _text(_mapping(_helm_values(args.props).get("containerMode")).get("type"))
    if mode == DIND_CONTAINER_MODE:
        report(
            f"{_subject(args)} sets containerMode.type 'dind': every runner pod gets a privileged "
            "Docker daemon, so a job can take over the node it runs on (opted in with "
            "allowHostDockerAccess). Prefer 'kubernetes-novolume' where jobs allow it.",
            None,
        )


def _policy(
    name: str,
    validate: Validator,
    level: EnforcementLevel,
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    description = (validate.__doc__ or name).strip().splitlines()[0]
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=config_schema,
    )


MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY

#: Every policy of the pack, in the order Pulumi shows them.
POLICIES: Final[list[Policy]] = [
    _policy("runner-group-not-visible-to-all", runner_group_not_visible_to_all, MANDATORY),
    _policy(
        "public-repositories-need-opt-in",
        public_repositories_need_opt_in,
        MANDATORY,
        PolicyConfigSchema(
            properties={"allowPublicRepositories": {"type": "boolean", "default": False}}
        ),
    ),
    _policy("public-repositories-allowed", public_repositories_allowed, ADVISORY),
    _policy("no-host-docker-access", no_host_docker_access, MANDATORY),
    _policy("host-docker-access-granted", host_docker_access_granted, ADVISORY),
    _policy("no-credentials-in-env-or-command", no_credentials_in_env_or_command, MANDATORY),
    _policy("resource-limits-set", resource_limits_set, MANDATORY),
    _policy("log-rotation-set", log_rotation_set, MANDATORY),
    _policy("no-new-privileges", no_new_privileges, MANDATORY),
    _policy("capabilities-dropped", capabilities_dropped, MANDATORY),
    _policy("container-isolated-from-host", container_isolated_from_host, MANDATORY),
    _policy("credential-upload-root-only", credential_upload_root_only, MANDATORY),
    _policy("container-image-pinned", container_image_pinned, MANDATORY),
    _policy("remote-image-pinned", remote_image_pinned, ADVISORY),
    _policy("network-isolates-runners", network_isolates_runners, MANDATORY),
    # swarm engine
    _policy("swarm-no-host-docker-access", swarm_no_host_docker_access, MANDATORY),
    _policy("swarm-host-docker-access-granted", swarm_host_docker_access_granted, ADVISORY),
    _policy(
        "swarm-no-credentials-in-env-or-command", swarm_no_credentials_in_env_or_command, MANDATORY
    ),
    _policy("swarm-resource-limits-set", swarm_resource_limits_set, MANDATORY),
    _policy("swarm-log-rotation-set", swarm_log_rotation_set, MANDATORY),
    _policy("swarm-capabilities-dropped", swarm_capabilities_dropped, MANDATORY),
    _policy("swarm-credential-secret-root-only", swarm_credential_secret_root_only, MANDATORY),
    # kubernetes engine
    _policy("helm-values-hold-no-credential", helm_values_hold_no_credential, MANDATORY),
    _policy("helm-chart-version-pinned", helm_chart_version_pinned, MANDATORY),
    _policy("arc-dind-container-mode", arc_dind_container_mode, ADVISORY),
]
