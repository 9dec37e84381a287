"""RunnerScaleSet: the fleet on Kubernetes, through GitHub's actions-runner-controller (ARC).

The ``kubernetes`` engine. Declares, per stack: a namespace for the controller and one for the
runners; the controller (Helm chart ``gha-runner-scale-set-controller``) watching only the
runners' namespace, with its metrics endpoints on; the GitHub credential as a Kubernetes Secret
with the keys ARC reads (``github_app_id``, ``github_app_installation_id``,
``github_app_private_key``, or ``github_token``); and one runner scale set (chart
``gha-runner-scale-set``) per fleet: the organization's, in the runner group the RunnerGroup
component created, or one per repository in repo mode. Both charts are pinned to one version.

ARC registers every runner just in time and runs one job per pod, so the image's own entrypoint
is not used here: runner pods run the runner directly (``/home/runner/run.sh``) from the official
image at runnerVersion, or the stack's ``image``. The hardening the other engines apply carries
over as pod settings: non-root runner (uid 1001), no privilege escalation (unless jobSudo), all
capabilities dropped, RuntimeDefault seccomp, memory and CPU limits, and no service-account token
in runner pods unless the container mode needs one.

Labels: a scale set is addressed by its name (``runs-on: <scale set name>``), which is always one
of its labels; the stack's labels are added as ``scaleSetLabels`` (ARC 0.14 and later).

Fails at ``pulumi up`` where Helm does (no cluster in the kubeconfig, the chart registry out of
reach); the values set here are checked against the charts' documented values in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from components.config import scale_set_name
from components.runner_fleet import RunnerAssignment

TYPE_TOKEN = "runner-fleet:index:RunnerScaleSet"
CHART_REPOSITORY = "oci://ghcr.io/actions/actions-runner-controller-charts"
CONTROLLER_CHART = f"{CHART_REPOSITORY}/gha-runner-scale-set-controller"
SCALE_SET_CHART = f"{CHART_REPOSITORY}/gha-runner-scale-set"
RUNNER_UID = 1001
#: Where the controller and every listener serve Prometheus metrics.
METRICS = {
    "controllerManagerAddr": ":8080",
    "listenerAddr": ":8080",
    "listenerEndpoint": "/metrics",
}
#: Seconds Helm waits for a release to become ready.
HELM_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class RunnerScaleSetArgs:
    """Inputs of a RunnerScaleSet."""

    stack: str
    mode: str
    organization: str
    #: GitHub's REST API URL; the web URL ARC registers against is derived from it.
    api_url: str
    #: Stack-scoped prefix of the scale set, release and Secret names.
    name_prefix: str
    #: The GitHub credential; must be a secret Output. Stored only in a Kubernetes Secret.
    credential: pulumi.Input[str]
    #: GitHub App id and installation id; 0 means the credential is a token.
    app_id: int
    app_installation_id: int
    #: org mode: the runner group's name from the RunnerGroup component.
    runner_group_name: pulumi.Input[str] | None
    labels: Sequence[str]
    assignments: Sequence[RunnerAssignment]
    #: Idle runners kept per scale set; each assignment's count is its maximum.
    min_runners: int
    #: The runner image pods run (the official runner image, or a prebuilt one).
    runner_image: str
    memory_mb: int
    cpus: str
    job_sudo: bool
    #: 'none', 'dind' or 'kubernetes-novolume'.
    container_mode: str
    namespace: str
    controller_namespace: str
    #: Pinned version of both charts.
    chart_version: str


def github_config_url(api_url: str, organization: str, repository: str | None) -> str:
    """The web URL ARC registers runners against: the organization's, or the repository's."""
    base = api_url.rstrip("/")
    web = "https://github.com" if base == "https://api.github.com" else base.removesuffix("/api/v3")
    scope = f"{organization}/{repository}" if repository else organization
    return f"{web}/{scope}"


def controller_values(args: RunnerScaleSetArgs, service_account: str) -> dict[str, Any]:
    """Values of the controller chart: one namespace watched, metrics on, a hardened pod."""
    return {
        "labels": _labels(args),
        "serviceAccount": {"create": True, "name": service_account},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
        },
        "metrics": dict(METRICS),
        "flags": {"watchSingleNamespace": args.namespace, "updateStrategy": "eventual"},
    }


def scale_set_values(
    args: RunnerScaleSetArgs,
    assignment: RunnerAssignment,
    name: str,
    secret_name: pulumi.Input[str],
    service_account: str,
    runner_group: str | None,
) -> dict[str, Any]:
    """Values of one runner scale set."""
    runner_security: dict[str, Any] = {
        "allowPrivilegeEscalation": args.job_sudo,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": RUNNER_UID,
        "runAsGroup": RUNNER_UID,
    }
    values: dict[str, Any] = {
        "githubConfigUrl": github_config_url(
            args.api_url, args.organization, assignment.repository
        ),
        "githubConfigSecret": secret_name,
        "runnerScaleSetName": name,
        "scaleSetLabels": list(args.labels),
        "minRunners": min(args.min_runners, assignment.count),
        "maxRunners": assignment.count,
        "controllerServiceAccount": {
            "namespace": args.controller_namespace,
            "name": service_account,
        },
        "labels": _labels(args),
        "template": {
            "spec": {
                "securityContext": {
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                # Job containers as pods need the token to talk to the API server.
                "automountServiceAccountToken": args.container_mode == "kubernetes-novolume",
                "containers": [
                    {
                        "name": "runner",
                        "image": args.runner_image,
                        "command": ["/home/runner/run.sh"],
                        "resources": {
                            "limits": {"memory": f"{args.memory_mb}Mi", "cpu": args.cpus},
                            "requests": {"memory": f"{args.memory_mb}Mi", "cpu": args.cpus},
                        },
                        "securityContext": runner_security,
                    }
                ],
            }
        },
    }
    if runner_group:
        values["runnerGroup"] = runner_group
    if args.container_mode != "none":
        values["containerMode"] = {"type": args.container_mode}
    return values


def _labels(args: RunnerScaleSetArgs) -> dict[str, str]:
    return {
        "app.kubernetes.io/part-of": "runner-fleet",
        "runner-fleet/stack": args.stack,
        "runner-fleet/mode": args.mode,
    }


def _secret_data(args: RunnerScaleSetArgs) -> pulumi.Output[dict[str, str]]:
    """The Secret's keys, as ARC documents them for an App or a token."""
    credential = pulumi.Output.secret(args.credential)
    if args.app_id > 0:
        return credential.apply(
            lambda key: {
                "github_app_id": str(args.app_id),
                "github_app_installation_id": str(args.app_installation_id),
                "github_app_private_key": key,
            }
        )
    return credential.apply(lambda token: {"github_token": token})


class RunnerScaleSet(pulumi.ComponentResource):
    """actions-runner-controller plus one runner scale set per fleet."""

    scale_set_names: pulumi.Output[list[str]]
    """Names of the scale sets (each is a runs-on label), in declaration order."""
    namespace: pulumi.Output[str]
    """The runners' namespace."""

    def __init__(
        self, name: str, args: RunnerScaleSetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = _labels(args)
        controller_namespace = kubernetes.core.v1.Namespace(
            f"{name}-controller-namespace",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=args.controller_namespace, labels=labels
            ),
            opts=child,
        )
        runner_namespace = kubernetes.core.v1.Namespace(
            f"{name}-runner-namespace",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                labels={**labels, "pod-security.kubernetes.io/enforce": _pod_security(args)},
            ),
            opts=child,
        )
        service_account = f"{args.name_prefix}-arc-controller"
        controller = kubernetes.helm.v3.Release(
            f"{name}-controller",
            name=f"{args.name_prefix}-arc",
            chart=CONTROLLER_CHART,
            version=args.chart_version,
            namespace=controller_namespace.metadata.name,
            values=controller_values(args, service_account),
            atomic=True,
            timeout=HELM_TIMEOUT_SECONDS,
            opts=child,
        )
        secret = kubernetes.core.v1.Secret(
            f"{name}-github",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=f"{args.name_prefix}-github",
                namespace=runner_namespace.metadata.name,
                labels=labels,
            ),
            type="Opaque",
            string_data=_secret_data(args),
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stringData"]),
        )

        names: list[str] = []
        for assignment in args.assignments:
            set_name = scale_set_name(args.name_prefix, assignment.repository)
            names.append(set_name)
            group = pulumi.Output.from_input(args.runner_group_name)
            kubernetes.helm.v3.Release(
                f"{name}-{assignment.repository}" if assignment.repository else f"{name}-runners",
                name=set_name,
                chart=SCALE_SET_CHART,
                version=args.chart_version,
                namespace=runner_namespace.metadata.name,
                values=pulumi.Output.all(secret.metadata.name, group).apply(
                    _values_for(args, assignment, set_name, service_account)
                ),
                atomic=True,
                timeout=HELM_TIMEOUT_SECONDS,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[controller]),
            )

        self.scale_set_names = pulumi.Output.from_input(names)
        self.namespace = runner_namespace.metadata.name
        self.register_outputs(
            {"scale_set_names": self.scale_set_names, "namespace": self.namespace}
        )


def _values_for(
    args: RunnerScaleSetArgs, assignment: RunnerAssignment, name: str, service_account: str
) -> Callable[[list[Any]], dict[str, Any]]:
    """Binds one scale set's values to the Secret's name and the group's name once known."""

    def values(resolved: list[Any]) -> dict[str, Any]:
        secret_name, group = resolved
        return scale_set_values(args, assignment, name, secret_name, service_account, group)

    return values


def _pod_security(args: RunnerScaleSetArgs) -> str:
    """The Pod Security level runner pods need: 'restricted' unless a privileged mode is chosen."""
    if args.container_mode == "dind":
        return "privileged"
    if args.job_sudo or args.container_mode != "none":
        return "baseline"
    return "restricted"
