"""GitHub's documented REST endpoints, as the fake answers them.

Paths, status codes, messages and JSON shapes follow GitHub's REST API description 2022-11-28;
``tests/test_fake_github.py`` validates the shapes against githubkit's generated models.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from itertools import islice
from typing import Any

from . import shapes
from .handler import (
    ApiError,
    Request,
    Response,
    can_see_repo,
    link_header,
    not_found,
    page_args,
    require_org,
    require_repo,
    route,
    validation_failed,
)
from .state import Org, Repo, Runner, RunnerGroup, Token, fingerprint, iso

RUNNERS_PERMISSION = "organization_self_hosted_runners"
ADMIN_PERMISSION = "administration"
MAX_LABELS = 100


def _level(req: Request) -> str:
    return "read" if req.method == "GET" else "write"


def _org(req: Request) -> Org:
    org = req.fake.orgs.get(req.params["org"].lower())
    if org is None:
        raise not_found()
    return org


def _repo(req: Request) -> Repo:
    org = req.fake.orgs.get(req.params["owner"].lower())
    repo = org.repos.get(req.params["repo"].lower()) if org else None
    if repo is None or not can_see_repo(req, repo.owner, repo.id, repo.private):
        raise not_found()
    return repo


# --------------------------------------------------------------------------- runner scopes
class Scope:
    """Where runners live: an organization or one repository, with its access check done."""

    def __init__(self, req: Request, key: tuple[str, str], org: Org, repo: Repo | None) -> None:
        self.req = req
        self.key = key
        self.org = org
        self.repo = repo

    @property
    def web_url(self) -> str:
        return f"{self.req.base}/{self.repo.full_name if self.repo else self.org.login}"

    def group(self, group_id: int) -> RunnerGroup | None:
        if self.repo is not None:
            return self.org.groups[1] if group_id == 1 else None
        return self.org.groups.get(group_id)

    def runner(self) -> Runner:
        try:
            runner_id = int(self.req.params["runner_id"])
        except ValueError:
            raise not_found() from None
        runner = self.req.fake.runners_by_scope.get(self.key, {}).get(runner_id)
        if runner is None:
            raise not_found()
        return runner


def org_scope(req: Request) -> Scope:
    org = _org(req)
    require_org(req, org.login, RUNNERS_PERMISSION, _level(req), "admin:org")
    return Scope(req, ("org", org.login.lower()), org, None)


def repo_scope(req: Request) -> Scope:
    repo = _repo(req)
    require_repo(req, repo.owner, repo.id, ADMIN_PERMISSION, _level(req))
    return Scope(req, ("repo", str(repo.id)), req.fake.orgs[repo.owner.lower()], repo)


ScopeFn = Callable[[Request], Scope]
PREFIXES: list[tuple[str, ScopeFn]] = [
    ("/orgs/{org}/actions/runners", org_scope),
    ("/repos/{owner}/{repo}/actions/runners", repo_scope),
]


def _short_lived(req: Request, scope: Scope, kind: str) -> Response:
    value = secrets.token_hex(15).upper()[:29]
    expires = time.time() + 3600
    with req.fake.lock:
        req.fake.tokens[fingerprint(value)] = Token(
            value_fingerprint=fingerprint(value),
            kind="registration" if kind == "registration" else "remove",
            login=req.who().login,
            expires_at=expires,
            target=scope.key,
        )
    return Response(201, {"token": value, "expires_at": iso(expires)})


def _bad_labels(labels: Any) -> str | None:
    if not isinstance(labels, list) or not 1 <= len(labels) <= MAX_LABELS:
        return f"labels must be an array of 1 to {MAX_LABELS} names"
    for label in labels:
        if not isinstance(label, str) or not label.strip() or "," in label or len(label) > 256:
            return f"label {label!r} is not a valid runner label"
    return None


def jit_config(
    req: Request, runner: Runner, credential: str, group: RunnerGroup, web: str, work_folder: str
) -> str:
    """The encoded JIT config: base64 JSON of base64 files, as PROTOCOL.md describes."""
    settings = {
        "agentId": runner.id,
        "agentName": runner.name,
        "poolId": group.id,
        "poolName": group.name,
        "serverUrl": req.base,
        "gitHubUrl": web,
        "workFolder": work_folder,
        "ephemeral": True,
    }
    credentials = {"scheme": "OAuthAccessToken", "data": {"token": credential}}

    def b64(data: str) -> str:
        return base64.b64encode(data.encode()).decode()

    blob = {
        ".runner": b64(json.dumps(settings)),
        ".credentials": b64(json.dumps(credentials)),
        ".credentials_rsaparams": b64("{}"),
    }
    return b64(json.dumps(blob))


def _generate_jitconfig(req: Request, scope: Scope) -> Response:
    body = req.json()
    name, group_id = body.get("name"), body.get("runner_group_id")
    labels, work_folder = body.get("labels"), body.get("work_folder", "_work")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise validation_failed(
            "Invalid input: name must be a string of 1 to 64 characters", "name"
        )
    if isinstance(group_id, bool) or not isinstance(group_id, int):
        raise validation_failed(
            "Invalid input: object is missing required key: runner_group_id",
            "runner_group_id",
            "missing_field",
        )
    problem = _bad_labels(labels)
    if problem:
        raise validation_failed(f"Invalid input: {problem}", "labels")
    if not isinstance(work_folder, str) or not work_folder:
        raise validation_failed("Invalid input: work_folder must be a string", "work_folder")
    fake = req.fake
    with fake.lock:
        group = scope.group(group_id)
        if group is None:
            raise ApiError(404, "Not Found")
        if fake.runner_by_name(scope.key, name) is not None:
            raise ApiError(409, f"Already exists - A runner with the name {name} already exists.")
        runner, credential = fake.create_runner(scope.key, name, group.id, list(labels or []), True)
        encoded = jit_config(req, runner, credential, group, scope.web_url, work_folder)
        fake.changed.notify_all()
        return Response(201, {"runner": shapes.runner(runner), "encoded_jit_config": encoded})


def _list_runners(req: Request, scope: Scope) -> Response:
    per_page, page = page_args(req)
    fake = req.fake
    with fake.lock:
        name = req.query.get("name")
        if name is not None:
            found = fake.runner_by_name(scope.key, name)
            everything: list[Runner] = [found] if found is not None else []
            total = len(everything)
            chosen = everything[(page - 1) * per_page : page * per_page]
        else:
            pool = fake.runners_by_scope.get(scope.key, {})
            total = len(pool)
            start = (page - 1) * per_page
            chosen = list(islice(pool.values(), start, start + per_page)) if start < total else []
        body = {"total_count": total, "runners": [shapes.runner(r) for r in chosen]}
    return Response(200, body, link_header(req, page, per_page, total))


def _get_runner(req: Request, scope: Scope) -> Response:
    with req.fake.lock:
        return Response(200, shapes.runner(scope.runner()))


def _delete_runner(req: Request, scope: Scope) -> Response:
    fake = req.fake
    with fake.lock:
        runner = scope.runner()
        if runner.busy:
            raise ApiError(
                422,
                f'Bad request - Runner "{runner.name}" is still running a job"',
            )
        fake.delete_runner(runner)
    return Response(204)


def _downloads(req: Request, scope: Scope) -> Response:
    return Response(200, shapes.runner_downloads(req.base))


def _labels_answer(runner: Runner) -> Response:
    labels = shapes.runner(runner)["labels"]
    return Response(200, {"total_count": len(labels), "labels": labels})


def _list_labels(req: Request, scope: Scope) -> Response:
    with req.fake.lock:
        return _labels_answer(scope.runner())


def _change_labels(req: Request, scope: Scope) -> Response:
    """POST adds custom labels, PUT replaces them; read-only labels always stay."""
    names = req.json().get("labels")
    if (
        not isinstance(names, list)
        or not all(isinstance(n, str) and n.strip() and "," not in n for n in names)
        or len(names) > MAX_LABELS
        or (req.method == "POST" and not names)
    ):
        raise validation_failed("Invalid input: labels must be an array of label names", "labels")
    with req.fake.lock:
        runner = scope.runner()
        keep = [lb.name for lb in runner.labels if lb.type == "read-only"]
        if req.method == "POST":
            keep += [lb.name for lb in runner.labels if lb.type == "custom"]
        runner.labels = req.fake.label_objects([*keep, *names])
        req.fake.changed.notify_all()
        return _labels_answer(runner)


def _delete_label(req: Request, scope: Scope) -> Response:
    with req.fake.lock:
        runner = scope.runner()
        name = req.params["name"].lower()
        label = next((lb for lb in runner.labels if lb.name.lower() == name), None)
        if label is None:
            raise not_found()
        if label.type == "read-only":
            raise validation_failed(f"Cannot remove read-only label {label.name}", "name")
        runner.labels = [lb for lb in runner.labels if lb is not label]
        req.fake.changed.notify_all()
        return _labels_answer(runner)


def _register_runner_routes() -> None:
    for prefix, scope_fn in PREFIXES:

        def bind(fn: Callable[[Request, Scope], Response], sf: ScopeFn = scope_fn) -> Any:
            return lambda req: fn(req, sf(req))

        route("POST", f"{prefix}/registration-token")(
            bind(lambda req, sc: _short_lived(req, sc, "registration"))
        )
        route("POST", f"{prefix}/remove-token")(
            bind(lambda req, sc: _short_lived(req, sc, "remove"))
        )
        route("POST", f"{prefix}/generate-jitconfig")(bind(_generate_jitconfig))
        route("GET", f"{prefix}/downloads")(bind(_downloads))
        route("GET", prefix)(bind(_list_runners))
        route("GET", f"{prefix}/{{runner_id}}")(bind(_get_runner))
        route("DELETE", f"{prefix}/{{runner_id}}")(bind(_delete_runner))
        route("GET", f"{prefix}/{{runner_id}}/labels")(bind(_list_labels))
        route("POST", f"{prefix}/{{runner_id}}/labels")(bind(_change_labels))
        route("PUT", f"{prefix}/{{runner_id}}/labels")(bind(_change_labels))
        route("DELETE", f"{prefix}/{{runner_id}}/labels/{{name}}")(bind(_delete_label))


_register_runner_routes()

# --------------------------------------------------------------------------- runner groups
GROUPS = "/orgs/{org}/actions/runner-groups"


def _group_scope(req: Request) -> tuple[Org, RunnerGroup | None]:
    org = _org(req)
    require_org(req, org.login, RUNNERS_PERMISSION, _level(req), "admin:org")
    if "group_id" not in req.params:
        return org, None
    try:
        group = org.groups.get(int(req.params["group_id"]))
    except ValueError:
        group = None
    if group is None:
        raise not_found()
    return org, group


def _group_fields(req: Request, org: Org, body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validate a create/update body; 422 names the offending field."""
    out: dict[str, Any] = {}

    def bad(field_name: str, why: str) -> ApiError:
        return ApiError(
            422,
            "Validation Failed",
            errors=[
                {"resource": "RunnerGroup", "field": field_name, "code": "invalid", "message": why}
            ],
        )

    if "name" in body or creating:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("name", "name is required and must be a non-empty string")
        out["name"] = name
    if "visibility" in body:
        if body["visibility"] not in ("all", "selected", "private"):
            raise bad("visibility", "visibility must be one of all, selected, private")
        out["visibility"] = body["visibility"]
    for flag in ("allows_public_repositories", "restricted_to_workflows"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise bad(flag, f"{flag} must be a boolean")
            out[flag] = body[flag]
    if "selected_workflows" in body:
        flows = body["selected_workflows"]
        if not isinstance(flows, list) or not all(isinstance(f, str) and f for f in flows):
            raise bad("selected_workflows", "selected_workflows must be an array of strings")
        out["selected_workflows"] = list(flows)
    if "selected_repository_ids" in body:
        out["selected_repository_ids"] = _repository_ids(req, org, body["selected_repository_ids"])
    return out


def _repository_ids(req: Request, org: Org, ids: Any) -> list[int]:
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {"resource": "RunnerGroup", "field": "selected_repository_ids", "code": "invalid"}
            ],
        )
    for repo_id in ids:
        repo = req.fake.repos_by_id.get(repo_id)
        if repo is None or repo.owner.lower() != org.login.lower():
            raise ApiError(422, f"Repository with id {repo_id} is not in {org.login}.")
    return list(dict.fromkeys(ids))


@route("GET", GROUPS)
def list_groups(req: Request) -> Response:
    org, _ = _group_scope(req)
    per_page, page = page_args(req)
    with req.fake.lock:
        groups = list(org.groups.values())
        visible_to = req.query.get("visible_to_repository")
        if visible_to is not None:
            repo = org.repos.get(visible_to.lower())
            groups = [g for g in groups if repo is not None and g.allows(repo)] if repo else []
        total = len(groups)
        chosen = groups[(page - 1) * per_page : page * per_page]
        body = {
            "total_count": total,
            "runner_groups": [shapes.runner_group(req.base, g) for g in chosen],
        }
    return Response(200, body, link_header(req, page, per_page, total))


@route("POST", GROUPS)
def create_group(req: Request) -> Response:
    org, _ = _group_scope(req)
    body = req.json()
    with req.fake.lock:
        fields = _group_fields(req, org, body, creating=True)
        runners = body.get("runners", [])
        if any(g.name.lower() == fields["name"].lower() for g in org.groups.values()):
            raise ApiError(409, f"A runner group named {fields['name']} already exists.")
        group = req.fake.create_group(org, **fields)
        for runner_id in runners if isinstance(runners, list) else []:
            runner = req.fake.runners_by_scope.get(("org", org.login.lower()), {}).get(runner_id)
            if runner is not None:
                runner.group_id = group.id
        return Response(201, shapes.runner_group(req.base, group))


@route("GET", GROUPS + "/{group_id}")
def get_group(req: Request) -> Response:
    _org_obj, group = _group_scope(req)
    assert group is not None
    return Response(200, shapes.runner_group(req.base, group))


@route("PATCH", GROUPS + "/{group_id}")
def update_group(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    body = req.json()
    with req.fake.lock:
        fields = _group_fields(req, org, body, creating=False)
        if "name" in fields and any(
            g.name.lower() == fields["name"].lower() and g.id != group.id
            for g in org.groups.values()
        ):
            raise ApiError(409, f"A runner group named {fields['name']} already exists.")
        for key, value in fields.items():
            setattr(group, key, value)
        req.fake.changed.notify_all()
        return Response(200, shapes.runner_group(req.base, group))


@route("DELETE", GROUPS + "/{group_id}")
def delete_group(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    with req.fake.lock:
        if group.default:
            raise ApiError(422, "The default runner group cannot be deleted.")
        # GitHub moves the runners of a deleted group back to the default group.
        for runner in req.fake.runners_by_scope.get(("org", org.login.lower()), {}).values():
            if runner.group_id == group.id:
                runner.group_id = 1
        del org.groups[group.id]
        req.fake.changed.notify_all()
    return Response(204)


@route("GET", GROUPS + "/{group_id}/repositories")
def list_group_repos(req: Request) -> Response:
    _org_obj, group = _group_scope(req)
    assert group is not None
    per_page, page = page_args(req)
    with req.fake.lock:
        repos = [
            req.fake.repos_by_id[i]
            for i in group.selected_repository_ids
            if i in req.fake.repos_by_id
        ]
        total = len(repos)
        chosen = repos[(page - 1) * per_page : page * per_page]
        body = {
            "total_count": total,
            "repositories": [shapes.repository(req.base, r) for r in chosen],
        }
    return Response(200, body, link_header(req, page, per_page, total))


@route("PUT", GROUPS + "/{group_id}/repositories")
def set_group_repos(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    body = req.json()
    if "selected_repository_ids" not in body:
        raise ApiError(422, 'Invalid request.\n\n"selected_repository_ids" wasn\'t supplied.')
    with req.fake.lock:
        group.selected_repository_ids = _repository_ids(req, org, body["selected_repository_ids"])
        req.fake.changed.notify_all()
    return Response(204)


def _one_repo(req: Request, org: Org) -> int:
    try:
        repo_id = int(req.params["repository_id"])
    except ValueError:
        raise not_found() from None
    repo = req.fake.repos_by_id.get(repo_id)
    if repo is None or repo.owner.lower() != org.login.lower():
        raise not_found()
    return repo_id


@route("PUT", GROUPS + "/{group_id}/repositories/{repository_id}")
def add_group_repo(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    with req.fake.lock:
        repo_id = _one_repo(req, org)
        if repo_id not in group.selected_repository_ids:
            group.selected_repository_ids.append(repo_id)
        req.fake.changed.notify_all()
    return Response(204)


@route("DELETE", GROUPS + "/{group_id}/repositories/{repository_id}")
def remove_group_repo(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    with req.fake.lock:
        repo_id = _one_repo(req, org)
        if repo_id in group.selected_repository_ids:
            group.selected_repository_ids.remove(repo_id)
        req.fake.changed.notify_all()
    return Response(204)


@route("GET", GROUPS + "/{group_id}/runners")
def list_group_runners(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    per_page, page = page_args(req)
    with req.fake.lock:
        pool = req.fake.runners_by_scope.get(("org", org.login.lower()), {}).values()
        members = [r for r in pool if r.group_id == group.id]
        total = len(members)
        chosen = members[(page - 1) * per_page : page * per_page]
        body = {"total_count": total, "runners": [shapes.runner(r) for r in chosen]}
    return Response(200, body, link_header(req, page, per_page, total))


@route("PUT", GROUPS + "/{group_id}/runners/{runner_id}")
def add_group_runner(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    with req.fake.lock:
        runner = Scope(req, ("org", org.login.lower()), org, None).runner()
        runner.group_id = group.id
        req.fake.changed.notify_all()
    return Response(204)


@route("DELETE", GROUPS + "/{group_id}/runners/{runner_id}")
def remove_group_runner(req: Request) -> Response:
    org, group = _group_scope(req)
    assert group is not None
    with req.fake.lock:
        runner = Scope(req, ("org", org.login.lower()), org, None).runner()
        if runner.group_id == group.id:
            runner.group_id = 1
        req.fake.changed.notify_all()
    return Response(204)


# --------------------------------------------------------------------------- orgs, repos, user
@route("GET", "/orgs/{org}")
def get_org(req: Request) -> Response:
    with req.fake.lock:
        return Response(200, shapes.organization(req.base, _org(req)))


_SORTS: dict[str, Callable[[Repo], Any]] = {
    "created": lambda r: (r.created_at, r.id),
    "updated": lambda r: (r.created_at, r.id),
    "pushed": lambda r: (r.created_at, r.id),
    "full_name": lambda r: r.full_name.lower(),
}


@route("GET", "/orgs/{org}/repos")
def list_org_repos(req: Request) -> Response:
    per_page, page = page_args(req)
    kind = req.query.get("type", "all")
    sort = req.query.get("sort", "created")
    if kind not in ("all", "public", "private", "forks", "sources", "member") or sort not in _SORTS:
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "Repository",
                    "field": "type" if sort in _SORTS else "sort",
                    "code": "invalid",
                }
            ],
        )
    direction = req.query.get("direction", "asc" if sort == "full_name" else "desc")
    with req.fake.lock:
        org = _org(req)
        repos = [r for r in org.repos.values() if can_see_repo(req, r.owner, r.id, r.private)]
        if kind == "public":
            repos = [r for r in repos if not r.private]
        elif kind == "private":
            repos = [r for r in repos if r.private]
        elif kind == "forks":
            repos = []
        repos.sort(key=_SORTS[sort], reverse=direction == "desc")
        total = len(repos)
        chosen = repos[(page - 1) * per_page : page * per_page]
        body = [shapes.repository(req.base, r) for r in chosen]
    return Response(200, body, link_header(req, page, per_page, total))


@route("GET", "/repos/{owner}/{repo}")
def get_repo(req: Request) -> Response:
    with req.fake.lock:
        return Response(200, shapes.repository(req.base, _repo(req), full=True))


@route("GET", "/search/repositories", kind="search")
def search_repos(req: Request) -> Response:
    query = req.query.get("q", "").strip()
    if not query:
        raise ApiError(
            422,
            "Validation Failed",
            errors=[{"resource": "Search", "field": "q", "code": "missing"}],
        )
    per_page, page = page_args(req)
    owners: list[str] = []
    words: list[str] = []
    privacy: str | None = None
    for term in query.split():
        key, sep, value = term.partition(":")
        if sep and key.lower() in ("org", "user"):
            owners.append(value.lower())
        elif sep and key.lower() == "is" and value.lower() in ("public", "private"):
            privacy = value.lower()
        elif not sep:
            words.append(term.lower())
    with req.fake.lock:
        pool = [r for org in req.fake.orgs.values() for r in org.repos.values()]
        hits = [
            r
            for r in pool
            if (not owners or r.owner.lower() in owners)
            and (privacy is None or r.visibility == privacy)
            and all(w in r.name.lower() for w in words)
            and can_see_repo(req, r.owner, r.id, r.private)
        ]
        total = len(hits)
        chosen = hits[(page - 1) * per_page : page * per_page]
        items = [shapes.repository(req.base, r) | {"score": 1.0} for r in chosen]
    body = {"total_count": total, "incomplete_results": False, "items": items}
    return Response(200, body, link_header(req, page, per_page, min(total, 1000)))


@route("GET", "/user")
def get_user(req: Request) -> Response:
    who = req.who()
    if who.kind in ("installation", "app"):
        raise ApiError(403, "Resource not accessible by integration")
    return Response(
        200, shapes.private_user(req.base, who.login, req.fake.user_id, req.fake.started_at)
    )


# --------------------------------------------------------------------------- GitHub Apps
def _installation(req: Request) -> Any:
    app = req.who().app
    assert app is not None
    try:
        installation_id = int(req.params["installation_id"])
    except ValueError:
        raise not_found() from None
    if installation_id != app.installation_id:
        raise not_found()
    return app


@route("GET", "/app/installations/{installation_id}", kind="app")
def get_installation(req: Request) -> Response:
    with req.fake.lock:
        app = _installation(req)
        return Response(200, shapes.installation(req.base, app, req.fake.orgs[app.org.lower()]))


@route("POST", "/app/installations/{installation_id}/access_tokens", kind="app")
def create_installation_token(req: Request) -> Response:
    body = req.json()
    fake = req.fake
    with fake.lock:
        app = _installation(req)
        org = fake.orgs[app.org.lower()]
        permissions = dict(app.permissions)
        asked = body.get("permissions")
        if asked is not None:
            if not isinstance(asked, dict) or any(
                app.permissions.get(k) not in (v, "write") for k, v in asked.items()
            ):
                raise ApiError(
                    422, "The permissions requested are not granted to this installation."
                )
            permissions = dict(asked)
        repo_ids = app.repository_ids
        names = body.get("repositories")
        ids = body.get("repository_ids")
        if names is not None or ids is not None:
            chosen: set[int] = set()
            for name in names or []:
                repo = org.repos.get(str(name).lower())
                if repo is None:
                    raise ApiError(
                        422,
                        "There is at least one repository that does not exist "
                        "or is not accessible to the parent installation.",
                    )
                chosen.add(repo.id)
            for repo_id in ids or []:
                if repo_id not in fake.repos_by_id:
                    raise ApiError(
                        422,
                        "There is at least one repository that does not exist "
                        "or is not accessible to the parent installation.",
                    )
                chosen.add(repo_id)
            if repo_ids is not None and not chosen <= repo_ids:
                raise ApiError(
                    422,
                    "There is at least one repository that does not exist or "
                    "is not accessible to the parent installation.",
                )
            repo_ids = frozenset(chosen)
        value = "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "b")[:36]
        expires = time.time() + 3600
        fake.tokens[fingerprint(value)] = Token(
            value_fingerprint=fingerprint(value),
            kind="installation",
            login=f"{app.slug}[bot]",
            permissions=permissions,
            orgs=frozenset({app.org.lower()}),
            repository_ids=repo_ids,
            expires_at=expires,
            installation_id=app.installation_id,
        )
        answer: dict[str, Any] = {
            "token": value,
            "expires_at": iso(expires),
            "permissions": permissions,
            "repository_selection": "all" if repo_ids is None else "selected",
        }
        if repo_ids is not None:
            answer["repositories"] = [
                shapes.repository(req.base, fake.repos_by_id[i], admin=False)
                for i in sorted(repo_ids)
            ]
        return Response(201, answer)


@route("GET", "/rate_limit", kind="free")
def rate_limit(req: Request) -> Response:
    fake = req.fake
    who = req.principal
    key = who.rate_key if who else "ip:127.0.0.1"
    resources = {}
    with fake.lock:
        for resource in ("core", "search"):
            bucket = fake.buckets.get((key, resource))
            limit = bucket.limit if bucket else fake.limit_for(resource, anonymous=who is None)
            used = bucket.used if bucket else 0
            reset = int(bucket.reset_at) if bucket else int(time.time()) + 3600
            if time.time() < fake.exhausted_until:
                used, reset = limit, int(fake.exhausted_until)
            resources[resource] = {
                "limit": limit,
                "used": used,
                "remaining": max(0, limit - used),
                "reset": reset,
            }
    return Response(200, {"resources": resources, "rate": resources["core"]})
