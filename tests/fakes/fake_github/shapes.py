"""JSON renderings of the fake's objects in exactly the shapes GitHub's REST API documents.

URLs point back at the fake itself (``base``), the way a GitHub Enterprise Server answer points at
its own host, so nothing a test follows ever leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
from typing import Any

from .state import App, Org, Repo, Runner, RunnerGroup, iso

JSON = dict[str, Any]


def node_id(kind: str, number: int) -> str:
    """A node id in GitHub's legacy format: base64 of '<len><Type><id>'."""
    raw = f"0{len(kind)}:{kind}{number}"
    return base64.b64encode(raw.encode()).decode().rstrip("=")


def simple_user(base: str, login: str, user_id: int, kind: str = "Organization") -> JSON:
    api = f"{base}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": node_id(kind, user_id),
        "avatar_url": f"{base}/_fake/avatars/{user_id}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{base}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": kind,
        "site_admin": False,
    }


def private_user(base: str, login: str, user_id: int, created_at: float) -> JSON:
    user = simple_user(base, login, user_id, "User")
    user.update(
        {
            "name": login,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso(created_at),
            "updated_at": iso(created_at),
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
            "plan": {
                "name": "free",
                "space": 976562499,
                "private_repos": 10000,
                "collaborators": 0,
            },
        }
    )
    return user


def organization(base: str, org: Org) -> JSON:
    api = f"{base}/orgs/{org.login}"
    public = sum(1 for repo in org.repos.values() if not repo.private)
    private = len(org.repos) - public
    return {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("Organization", org.id),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{base}/_fake/avatars/{org.id}",
        "description": None,
        "name": org.login,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": public,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{base}/{org.login}",
        "type": "Organization",
        "total_private_repos": private,
        "owned_private_repos": private,
        "created_at": iso(org.created_at),
        "updated_at": iso(org.created_at),
        "archived_at": None,
    }


_REPO_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository(base: str, repo: Repo, *, full: bool = False, admin: bool = True) -> JSON:
    """A repository; ``full`` adds the fields only ``GET /repos/{owner}/{repo}`` carries."""
    api = f"{base}/repos/{repo.full_name}"
    html = f"{base}/{repo.full_name}"
    host = base.split("://", 1)[-1]
    shape: JSON = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": simple_user(base, repo.owner, repo.owner_id),
        "html_url": html,
        "description": None,
        "fork": False,
        "url": api,
    }
    shape.update({key: api + suffix for key, suffix in _REPO_TEMPLATES.items()})
    shape.update(
        {
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.created_at),
            "pushed_at": iso(repo.created_at),
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": repo.visibility,
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": "main",
            "permissions": {
                "admin": admin,
                "maintain": admin,
                "push": admin,
                "triage": admin,
                "pull": True,
            },
        }
    )
    if full:
        shape.update(
            {
                "organization": simple_user(base, repo.owner, repo.owner_id),
                "network_count": 0,
                "subscribers_count": 0,
                "allow_squash_merge": True,
                "allow_merge_commit": True,
                "allow_rebase_merge": True,
                "delete_branch_on_merge": False,
            }
        )
    return shape


def runner(r: Runner) -> JSON:
    return {
        "id": r.id,
        "name": r.name,
        "os": r.os,
        "status": r.status,
        "busy": r.busy,
        "ephemeral": r.ephemeral,
        "runner_group_id": r.group_id,
        "labels": [{"id": lb.id, "name": lb.name, "type": lb.type} for lb in r.labels],
    }


def runner_group(base: str, group: RunnerGroup) -> JSON:
    api = f"{base}/orgs/{group.org}/actions/runner-groups/{group.id}"
    shape: JSON = {
        "id": group.id,
        "name": group.name,
        "visibility": group.visibility,
        "default": group.default,
        "runners_url": f"{api}/runners",
        "hosted_runners_url": f"{api}/hosted-runners",
        "inherited": False,
        "allows_public_repositories": group.allows_public_repositories,
        "restricted_to_workflows": group.restricted_to_workflows,
        "selected_workflows": list(group.selected_workflows),
        "workflow_restrictions_read_only": False,
    }
    if group.visibility == "selected":
        shape["selected_repositories_url"] = f"{api}/repositories"
    return shape


def installation(base: str, app: App, org: Org) -> JSON:
    return {
        "id": app.installation_id,
        "client_id": f"Iv1.{app.app_id:016x}",
        "account": simple_user(base, org.login, org.id),
        "repository_selection": app.repository_selection,
        "access_tokens_url": f"{base}/app/installations/{app.installation_id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": f"{base}/organizations/{org.login}/settings/installations/"
        f"{app.installation_id}",
        "app_id": app.app_id,
        "target_id": org.id,
        "target_type": "Organization",
        "permissions": dict(app.permissions),
        "events": [],
        "created_at": iso(app.created_at),
        "updated_at": iso(app.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "app_slug": app.slug,
        "suspended_by": None,
        "suspended_at": None,
    }


RUNNER_VERSION = "2.329.0"


def runner_downloads(base: str) -> list[JSON]:
    """Runner application downloads; the URLs point at the fake, which does not serve them."""
    platforms = [
        ("osx", "x64", "tar.gz"),
        ("osx", "arm64", "tar.gz"),
        ("linux", "x64", "tar.gz"),
        ("linux", "arm", "tar.gz"),
        ("linux", "arm64", "tar.gz"),
        ("win", "x64", "zip"),
        ("win", "arm64", "zip"),
    ]
    out = []
    for os_name, arch, ext in platforms:
        filename = f"actions-runner-{os_name}-{arch}-{RUNNER_VERSION}.{ext}"
        out.append(
            {
                "os": os_name,
                "architecture": arch,
                "download_url": f"{base}/_fake/downloads/v{RUNNER_VERSION}/{filename}",
                "filename": filename,
                "sha256_checksum": "0" * 64,
            }
        )
    return out
