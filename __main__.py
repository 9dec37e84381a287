"""Wires the runner fleet: read the stack's config once, build the components, export outputs.

A bad configuration stops the program before any resource is declared, with one message that
lists every offending key and its fix.
"""

from __future__ import annotations

import pulumi

from components.config import ConfigError, FleetSettings, load_settings
from components.providers import Providers, build_providers
from components.runner_fleet import (
    ContainerLimits,
    RunnerAssignment,
    RunnerEnvironment,
    RunnerFleet,
    RunnerFleetArgs,
)
from components.runner_group import RunnerGroup, RunnerGroupArgs
from components.runner_image import RunnerImage, RunnerImageArgs
from components.runner_scale_set import RunnerScaleSet, RunnerScaleSetArgs
from components.runner_service import RunnerService, RunnerServiceArgs


def read_settings() -> FleetSettings:
    runtime_config = pulumi.runtime.config
    config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {key for key in config if runtime_config.is_config_secret(key)}
    try:
        # Pulumi.yaml declares githubCredential secret, so the engine itself refuses a plain-text
        # value; the program checks again only when the engine says which keys are secret.
        return load_settings(pulumi.get_stack(), config, secret_keys or None)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None


def main() -> None:
    settings = read_settings()
    credential = pulumi.Output.secret(settings.github_credential.get_secret_value())
    providers = build_providers(settings, credential)
    github_opts = pulumi.ResourceOptions(providers=[providers.github])

    group = None
    if settings.mode == "org":
        group = RunnerGroup(
            "runners",
            RunnerGroupArgs(
                organization=settings.organization,
                group_name=settings.runner_group,
                allowed_repositories=settings.repository_names,
                pinned_repository_ids=settings.repository_ids,
                allows_public_repositories=settings.allows_public_repositories,
                selected_workflows=settings.selected_workflows,
            ),
            github_opts,
        )

    if settings.mode == "org":
        assignments = [RunnerAssignment(None, settings.runner_count)]
    else:
        assignments = [
            RunnerAssignment(repository, count)
            for repository, count in settings.runners_per_repository().items()
        ]

    pulumi.export("mode", settings.mode)
    pulumi.export("organization", settings.organization)
    pulumi.export("repositories", list(settings.repository_names))
    pulumi.export("labels", list(settings.labels))
    if settings.engine == "kubernetes":
        declare_scale_sets(settings, providers, credential, group, assignments)
    else:
        declare_docker_fleet(settings, providers, credential, group, assignments)
    if group is not None:
        pulumi.export("runnerGroupId", group.group_id)
        pulumi.export("runnerGroupName", group.group_name)
        pulumi.export("allowedRepositoryIds", group.repository_ids)


def declare_docker_fleet(
    settings: FleetSettings,
    providers: Providers,
    credential: pulumi.Output[str],
    group: RunnerGroup | None,
    assignments: list[RunnerAssignment],
) -> None:
    """Engines 'docker' (containers on one host) and 'swarm' (services on a swarm)."""
    docker_opts = pulumi.ResourceOptions(providers=[providers.docker] if providers.docker else [])
    image = RunnerImage(
        "runner",
        RunnerImageArgs(
            image_name=f"runner-fleet-runner:{settings.runner_version}",
            prebuilt_image=settings.image,
            build_args={
                "RUNNER_VERSION": settings.runner_version,
                "BASE_IMAGE": settings.runner_base_image,
            },
        ),
        docker_opts,
    )
    environment = RunnerEnvironment(
        mode=settings.mode,
        organization=settings.organization,
        labels=settings.labels,
        api_url=settings.github_api_url,
        auth="app" if settings.uses_app else "token",
        registration=settings.registration,
        ephemeral=settings.ephemeral,
        job_sudo=settings.job_sudo,
        app_id=settings.github_app_id,
        app_installation_id=settings.github_app_installation_id,
        runner_group_id=group.group_id if group else None,
        runner_group_name=settings.runner_group,
    )
    limits = ContainerLimits(
        memory_mb=settings.memory_mb,
        cpus=settings.cpus,
        pids_limit=settings.pids_limit,
        work_dir_size_mb=settings.work_dir_size_mb,
        tmp_size_mb=settings.tmp_size_mb,
        log_max_size=settings.log_max_size,
        log_max_files=settings.log_max_files,
    )
    if settings.engine == "swarm":
        service = RunnerService(
            "fleet",
            RunnerServiceArgs(
                stack=settings.stack,
                name_prefix=settings.prefix,
                # A registry reference every node can pull, else the image built on this host.
                image=settings.image or image.image_id,
                image_id=image.image_id,
                credential=credential,
                environment=environment,
                assignments=assignments,
                limits=limits,
                placement_constraints=settings.swarm_placement_constraints,
                docker_access=settings.docker_access,
            ),
            docker_opts,
        )
        pulumi.export("serviceNames", service.service_names)
        pulumi.export("networkName", service.network_name)
    else:
        fleet = RunnerFleet(
            "fleet",
            RunnerFleetArgs(
                stack=settings.stack,
                name_prefix=settings.prefix,
                image_id=image.image_id,
                credential=credential,
                environment=environment,
                assignments=assignments,
                limits=limits,
                docker_access=settings.docker_access,
                privileged=settings.privileged,
            ),
            docker_opts,
        )
        pulumi.export("containerNames", fleet.container_names)
        pulumi.export("networkName", fleet.network_name)
    pulumi.export("imageId", image.image_id)
    pulumi.export("imageName", image.image_name)


def declare_scale_sets(
    settings: FleetSettings,
    providers: Providers,
    credential: pulumi.Output[str],
    group: RunnerGroup | None,
    assignments: list[RunnerAssignment],
) -> None:
    """Engine 'kubernetes': actions-runner-controller and one runner scale set per fleet."""
    scale_sets = RunnerScaleSet(
        "arc",
        RunnerScaleSetArgs(
            stack=settings.stack,
            mode=settings.mode,
            organization=settings.organization,
            api_url=settings.github_api_url,
            name_prefix=settings.prefix,
            credential=credential,
            app_id=settings.github_app_id,
            app_installation_id=settings.github_app_installation_id,
            runner_group_name=group.group_name if group else None,
            labels=settings.labels,
            assignments=assignments,
            min_runners=settings.kubernetes_min_runners,
            runner_image=settings.image or settings.runner_base_image,
            memory_mb=settings.memory_mb,
            cpus=settings.cpus,
            job_sudo=settings.job_sudo,
            container_mode=settings.kubernetes_container_mode,
            namespace=settings.runner_namespace,
            controller_namespace=settings.controller_namespace,
            chart_version=settings.arc_chart_version,
        ),
        pulumi.ResourceOptions(providers=[providers.kubernetes] if providers.kubernetes else []),
    )
    pulumi.export("scaleSetNames", scale_sets.scale_set_names)
    pulumi.export("namespace", scale_sets.namespace)


main()
