"""The one place that builds the GitHub, Docker and Kubernetes providers, from validated settings.

Components receive providers through ``ResourceOptions``; nothing else reads credentials. The
credential enters the GitHub provider as a secret Output, so Pulumi encrypts it in state.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_github as github
import pulumi_kubernetes as kubernetes

from components.config import FleetSettings


@dataclass(frozen=True)
class Providers:
    github: github.Provider
    #: The Docker host (engines 'docker' and 'swarm'); None under 'kubernetes'.
    docker: docker.Provider | None
    #: The cluster of the current kubeconfig context (engine 'kubernetes' only).
    kubernetes: kubernetes.Provider | None = None


def github_base_url(api_url: str) -> str:
    """The provider wants the API root with a trailing slash."""
    return api_url.rstrip("/") + "/"


def build_providers(settings: FleetSettings, credential: pulumi.Output[str]) -> Providers:
    app_auth = (
        github.ProviderAppAuthArgs(
            id=str(settings.github_app_id),
            installation_id=str(settings.github_app_installation_id),
            pem_file=credential,
        )
        if settings.uses_app
        else None
    )
    github_provider = github.Provider(
        "github",
        owner=settings.organization,
        base_url=github_base_url(settings.github_api_url),
        app_auth=app_auth,
        token=None if settings.uses_app else credential,
    )
    if settings.engine == "kubernetes":
        return Providers(
            github=github_provider, docker=None, kubernetes=kubernetes.Provider("kubernetes")
        )
    docker_provider = docker.Provider("docker", host=settings.docker_host or None)
    return Providers(github=github_provider, docker=docker_provider)
