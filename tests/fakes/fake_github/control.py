"""``/_fake/control/``: the Python control API over HTTP, for benchmarks and other processes.

Also ``apply_seed``, which builds a world from a JSON seed (used by ``python -m`` and by
``POST /_fake/control/seed``). Bad input answers 422 with a message naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import shapes
from .handler import ApiError, Request, Response, not_found, route
from .state import DEFAULT_LABELS

C = "/_fake/control"


def _control(path: str, method: str = "POST") -> Callable[[Callable[[Request], Any]], Any]:
    """Register a control route; ValueError/KeyError/TypeError become a 422 naming the cause."""

    def register(fn: Callable[[Request], Any]) -> Any:
        def wrapped(req: Request) -> Response:
            try:
                result = fn(req)
            except (ValueError, TypeError) as exc:
                raise ApiError(422, str(exc)) from None
            except KeyError as exc:
                raise ApiError(422, f"missing field {exc}") from None
            return result if isinstance(result, Response) else Response(200, result)

        route(method, C + path, kind="control")(wrapped)
        return fn

    return register


def _runner_json(runner: Any) -> dict[str, Any]:
    kind, key = runner.scope
    return shapes.runner(runner) | {"scope": kind, "scope_key": key, "job_id": runner.job_id}


@_control("/health", "GET")
def health(req: Request) -> dict[str, Any]:
    return {"url": req.base}


def apply_seed(fake: Any, seed: dict[str, Any], base_dir: Path | None = None) -> dict[str, Any]:
    """Create what ``seed`` describes; returns ``{"apps": {app_id: private_key_pem}}``.

    Seed keys (all optional): ``rate_limit``; ``orgs``: [{login, repos: [{name, private}]}];
    ``runner_groups``: [{org, name, visibility, selected_repositories, ...}]; ``tokens``:
    [{token, scopes | permissions, login, orgs, repositories, expires_in}]; ``apps``: [{app_id,
    installation_id, org, permissions, repositories, private_key_file}]; ``runners``: [{org |
    repository, count, group_id, labels, name_prefix, online}].
    """
    if not isinstance(seed, dict):
        raise ValueError("seed must be a JSON object")
    unknown = set(seed) - {"rate_limit", "orgs", "runner_groups", "tokens", "apps", "runners"}
    if unknown:
        raise ValueError(f"seed: unknown keys {sorted(unknown)}")
    if "rate_limit" in seed:
        fake.set_rate_limit(int(seed["rate_limit"]))
    for org in seed.get("orgs", []):
        fake.add_org(org["login"])
        for repo in org.get("repos", []):
            fake.add_repo(org["login"], repo["name"], private=bool(repo.get("private", True)))
    for group in seed.get("runner_groups", []):
        fake.add_runner_group(**group)
    for token in seed.get("tokens", []):
        fake.add_token(**token)
    keys: dict[str, str] = {}
    for app in seed.get("apps", []):
        app = dict(app)
        key_file = app.pop("private_key_file", None)
        pem = fake.add_app(**app)
        keys[str(app["app_id"])] = pem
        if key_file:
            path = Path(key_file) if base_dir is None else base_dir / key_file
            path.touch(mode=0o600)
            path.write_text(pem)
    for runners in seed.get("runners", []):
        runners = dict(runners)
        runners["labels"] = tuple(runners.get("labels", DEFAULT_LABELS))
        fake.add_runners(**runners)
    return {"apps": keys}


@_control("/seed")
def seed(req: Request) -> dict[str, Any]:
    return apply_seed(req.fake, req.json())


@_control("/orgs")
def add_org(req: Request) -> Response:
    org = req.fake.add_org(req.json()["login"])
    return Response(201, {"login": org.login, "id": org.id})


@_control("/repos")
def add_repo(req: Request) -> Response:
    body = req.json()
    repo = req.fake.add_repo(body["org"], body["name"], private=bool(body.get("private", True)))
    return Response(201, shapes.repository(req.base, repo))


@_control("/tokens")
def add_token(req: Request) -> Response:
    req.fake.add_token(**req.json())
    return Response(204)


@_control("/tokens/expire")
def expire_token(req: Request) -> Response:
    req.fake.expire_token(req.json()["token"])
    return Response(204)


@_control("/apps")
def add_app(req: Request) -> Response:
    return Response(201, {"private_key_pem": req.fake.add_app(**req.json())})


@_control("/runner-groups")
def add_group(req: Request) -> Response:
    group = req.fake.add_runner_group(**req.json())
    return Response(201, shapes.runner_group(req.base, group))


@_control("/runners")
def add_runners(req: Request) -> Response:
    body = req.json()
    if "labels" in body:
        body["labels"] = tuple(body["labels"])
    made = req.fake.add_runners(**body)
    return Response(201, {"created": len(made), "ids": [r.id for r in made]})


@_control("/runners", "GET")
def list_runners(req: Request) -> list[dict[str, Any]]:
    with req.fake.lock:
        return [_runner_json(r) for r in req.fake.runners_by_id.values()]


@_control("/jobs")
def queue_job(req: Request) -> Response:
    body = req.json()
    job = req.fake.queue_job(
        body["repository"], body["labels"], body.get("script", ""), workflow=body.get("workflow")
    )
    return Response(201, job.as_json())


@_control("/jobs", "GET")
def list_jobs(req: Request) -> list[dict[str, Any]]:
    with req.fake.lock:
        return [job.as_json() for job in req.fake.jobs_by_id.values()]


@_control("/jobs/{job_id}", "GET")
def get_job(req: Request) -> dict[str, Any]:
    with req.fake.lock:
        job = req.fake.jobs_by_id.get(int(req.params["job_id"]))
        if job is None:
            raise not_found()
        return job.as_json()


@_control("/faults")
def inject(req: Request) -> Response:
    body = req.json()
    responses = [
        (int(r["status"]), dict(r.get("headers", {})), r.get("body")) for r in body["responses"]
    ]
    req.fake.inject(body["path_regex"], body.get("method", "*"), responses)
    return Response(204)


@_control("/calls", "GET")
def calls(req: Request) -> list[dict[str, Any]]:
    since = int(req.query.get("since", "0"))
    return [call._asdict() for call in req.fake.calls[since:]]


@_control("/rate-limit")
def rate_limit(req: Request) -> Response:
    body = req.json()
    req.fake.set_rate_limit(int(body["limit"]), body.get("resource", "core"))
    return Response(204)


@_control("/rate-limit/exhaust")
def exhaust(req: Request) -> Response:
    req.fake.exhaust_rate_limit(float(req.json().get("reset_in", 60)))
    return Response(204)
