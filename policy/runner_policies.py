"""The runner fleet's CrossGuard policies, as plain functions that Pulumi and the tests both call.

Every validator takes pulumi-policy's ``ResourceValidationArgs`` and a report callback, looks
only at the resource types it is about, and reports one violation per problem, each naming the
resource and the fix. Messages never quote a property value that could be a credential: they name
the environment variable or the argument position instead.

The fleet's escape hatches are honoured, never assumed:

* A runner container may reach the host's Docker engine (socket mount, privileged
  Docker-in-Docker, ``DOCKER_HOST``) only when its stack opted in with ``allowHostDockerAccess``;
  the program then labels it ``runner-fleet.host-docker-access=granted``. Without the label that
  is a mandatory violation; with it, an advisory warning so the reviewer still sees it.
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
    """(name, value) pairs of a container's ``envs`` list of "NAME=value" strings."""
    for entry in _items(props.get("envs")):
        name, _, value = _text(entry).partition("=")
        yield name, value


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


def credential_exposures(props: Mapping[str, Any]) -> list[str]:
    """Credentials in a container's environment, command or entrypoint, named but not quoted."""
    found: list[str] = []
    for name, value in _environment(props):
        names_a_file = name.upper().endswith(("_FILE", "_PATH")) and value.startswith("/")
        if CREDENTIAL_NAME_PATTERN.search(name) and value and not names_a_file:
            found.append(f"environment variable {name} is named like a credential")
        elif _looks_like_credential(value):
            found.append(f"environment variable {name} holds a credential-shaped value")
    for prop in ("command", "entrypoints"):
        arguments = [_text(argument) for argument in _items(props.get(prop))]
        for position, argument in enumerate(arguments):
            flag = argument.split("=", 1)[0]
            if flag in CREDENTIAL_FLAGS and ("=" in argument or position + 1 < len(arguments)):
                found.append(f"{prop}[{position}] passes {flag} on the command line")
            elif _looks_like_credential(argument):
                found.append(f"{prop}[{position}] holds a credential-shaped value")
    return found


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
    driver = _text(args.props.get("logDriver"))
    max_size = _text(_mapping(args.props.get("logOpts")).get("max-size"))
    if driver not in {"json-file", "local"} or not max_size:
        report(
            f"{_subject(args)} does not rotate its logs (logDriver '{driver or 'unset'}', "
            f"max-size '{max_size or 'unset'}'). Set logDriver 'json-file' or 'local' and "
            "logOpts max-size (and max-file).",
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

    def names(key: str) -> set[str]:
        return {_text(c).upper().removeprefix("CAP_") for c in _items(capabilities.get(key))}

    if "ALL" not in names("drops"):
        report(
            f"{_subject(args)} keeps default capabilities. Set capabilities.drops ['ALL'].", None
        )
    dangerous = sorted(names("adds") & DANGEROUS_CAPABILITIES)
    if dangerous:
        report(
            f"{_subject(args)} adds capabilities {', '.join(dangerous)}, which let a job escape "
            "the container. Remove them from capabilities.adds.",
            None,
        )


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
    options = _mapping(args.props.get("options"))
    if _text(options.get("com.docker.network.bridge.enable_icc")).lower() != "false":
        report(
            f"{_subject(args)} lets containers talk to each other. Set options "
            "com.docker.network.bridge.enable_icc: 'false'.",
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
]
