"""RunnerGroup: the organization's dedicated runner group and its repository allowlist.

Repository names are resolved to ids with one search call for the whole organization (or taken from
pinned ids), so the number of provider calls does not grow with the allowlist. A name GitHub does
not know fails the preview with a message naming it; nothing is ever dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_github as github

TYPE_TOKEN = "runner-fleet:index:RunnerGroup"


class RepositoryLookupError(pulumi.RunError):
    """Allowlisted repositories GitHub does not know (or the credential cannot see)."""


@dataclass(frozen=True)
class RunnerGroupArgs:
    """Inputs of a RunnerGroup."""

    #: Organization login that owns the group.
    organization: str
    #: Name of the dedicated group; never the organization's Default group.
    group_name: str
    #: Bare repository names allowed to use the group.
    allowed_repositories: Sequence[str]
    #: Pinned ids by bare name; names found here are not looked up.
    pinned_repository_ids: Mapping[str, int] = field(default_factory=dict)
    #: Secure default: public repositories may not use the group.
    allows_public_repositories: bool = False
    #: When non-empty the group only runs these workflows.
    selected_workflows: Sequence[str] = ()


def resolve_repository_ids(
    organization: str,
    names: Sequence[str],
    pinned: Mapping[str, int],
    opts: pulumi.InvokeOptions | None = None,
) -> list[int]:
    """Ids for ``names`` in allowlist order: pinned ones first, the rest with one search call."""
    pinned_lower = {name.lower(): repo_id for name, repo_id in pinned.items()}
    missing = [name for name in names if name.lower() not in pinned_lower]
    found: dict[str, int] = {}
    if missing:
        result = github.get_repositories(
            query=f"org:{organization} fork:true",
            include_repo_id=True,
            results_per_page=100,
            opts=opts,
        )
        for full_name, repo_id in zip(result.full_names or [], result.repo_ids or [], strict=True):
            found[full_name.split("/", 1)[-1].lower()] = int(repo_id)
    unknown = [name for name in missing if name.lower() not in found]
    if unknown:
        raise RepositoryLookupError(
            f"allowedRepositories: GitHub has no repository {', '.join(repr(n) for n in unknown)} "
            f"in '{organization}' that this credential can see. Fix the name, grant the "
            f"credential access, or pin its id under repositoryIds."
        )
    return [pinned_lower.get(name.lower()) or found[name.lower()] for name in names]


class RunnerGroup(pulumi.ComponentResource):
    """A runner group with visibility 'selected' and exactly the allowlisted repositories."""

    group_id: pulumi.Output[int]
    """The group's numeric id, handed to every runner of the fleet."""
    group_name: pulumi.Output[str]
    """The group's name."""
    repository_ids: pulumi.Output[list[int]]
    """Ids of the allowlisted repositories, in allowlist order."""

    def __init__(
        self, name: str, args: RunnerGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        invoke_opts = pulumi.InvokeOptions(parent=self)  # inherits the GitHub provider
        repository_ids = resolve_repository_ids(
            args.organization, args.allowed_repositories, args.pinned_repository_ids, invoke_opts
        )
        group = github.ActionsRunnerGroup(
            f"{name}-group",
            name=args.group_name,
            visibility="selected",
            selected_repository_ids=repository_ids,
            allows_public_repositories=args.allows_public_repositories,
            restricted_to_workflows=bool(args.selected_workflows),
            selected_workflows=list(args.selected_workflows) or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.group_id = group.id.apply(int)
        self.group_name = group.name
        self.repository_ids = pulumi.Output.from_input(repository_ids)
        self.register_outputs(
            {
                "group_id": self.group_id,
                "group_name": self.group_name,
                "repository_ids": self.repository_ids,
            }
        )
