"""The stand-in runner's side of the private ``/_fake/runner/`` protocol (see PROTOCOL.md).

These paths are not GitHub's: the real runner talks to a broker nobody can fake from public
documents. Answers use GitHub's error shape so the stand-in can report them the same way.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from .handler import ApiError, Request, Response, not_found, route
from .rest import _bad_labels
from .state import DEFAULT_LABELS, Job, Runner, fingerprint

MAX_WAIT_SECONDS = 60.0


def _runner(req: Request) -> Runner:
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value.strip():
        raise ApiError(401, "Requires authentication")
    req.credential = fingerprint(value.strip())
    with req.fake.lock:
        runner_id = req.fake.runners_by_credential.get(req.credential)
        runner = req.fake.runners_by_id.get(runner_id) if runner_id is not None else None
    if runner is None:
        raise ApiError(401, "Bad credentials")
    return runner


def _scope_from_url(req: Request, url: Any) -> tuple[str, str] | None:
    """Map a config.sh --url (web URL of an org or repository) to a runner scope."""
    if not isinstance(url, str):
        return None
    parts = [p for p in urlsplit(url).path.split("/") if p]
    fake = req.fake
    if len(parts) == 1 and parts[0].lower() in fake.orgs:
        return ("org", parts[0].lower())
    if len(parts) == 2:
        org = fake.orgs.get(parts[0].lower())
        repo = org.repos.get(parts[1].lower()) if org else None
        if repo is not None:
            return ("repo", str(repo.id))
    return None


def settings(req: Request, runner: Runner, web_url: str, work: str) -> dict[str, Any]:
    kind, key = runner.scope
    group_name = "Default"
    if kind == "org":
        group = req.fake.orgs[key].groups.get(runner.group_id)
        group_name = group.name if group else "Default"
    return {
        "agentId": runner.id,
        "agentName": runner.name,
        "poolId": runner.group_id,
        "poolName": group_name,
        "serverUrl": req.base,
        "gitHubUrl": web_url,
        "workFolder": work,
        "ephemeral": runner.ephemeral,
    }


@route("POST", "/_fake/runner/register", kind="runner")
def register(req: Request) -> Response:
    body = req.json()
    fake = req.fake
    token_value = body.get("token")
    with fake.lock:
        token = fake.tokens.get(fingerprint(token_value)) if isinstance(token_value, str) else None
        scope = _scope_from_url(req, body.get("url"))
        if (
            token is None
            or token.kind != "registration"
            or token.expired()
            or (scope is not None and token.target != scope)
        ):
            raise ApiError(401, "Bad credentials")
        if scope is None:
            raise ApiError(404, f"No organization or repository at url {body.get('url')!r}")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ApiError(422, "name must be a string of 1 to 64 characters")
        extra = body.get("labels") or []
        labels = list(extra) if body.get("no_default_labels") else [*DEFAULT_LABELS, *extra]
        problem = _bad_labels(labels)
        if problem:
            raise ApiError(422, problem)
        group_name = body.get("runner_group") or "Default"
        kind, key = scope
        groups = fake.orgs[key].groups.values() if kind == "org" else []
        group = next((g for g in groups if g.name.lower() == str(group_name).lower()), None)
        if kind == "repo" and str(group_name).lower() == "default":
            group_id = 1
        elif group is None:
            raise ApiError(
                404, f'Could not find any self-hosted runner group named "{group_name}".'
            )
        else:
            group_id = group.id
        existing = fake.runner_by_name(scope, name)
        if existing is not None:
            if not body.get("replace"):
                raise ApiError(409, f"A runner exists with the same name {name}.")
            fake.delete_runner(existing)
        runner, credential = fake.create_runner(
            scope, name, group_id, labels, bool(body.get("ephemeral"))
        )
        work = body.get("work") if isinstance(body.get("work"), str) else "_work"
        web_url = str(body["url"]).rstrip("/")
        fake.changed.notify_all()
        return Response(
            201,
            {
                ".runner": settings(req, runner, web_url, work or "_work"),
                ".credentials": {"scheme": "OAuthAccessToken", "data": {"token": credential}},
            },
        )


@route("POST", "/_fake/runner/remove", kind="runner")
def remove(req: Request) -> Response:
    body = req.json()
    fake = req.fake
    token_value = body.get("token")
    with fake.lock:
        token = fake.tokens.get(fingerprint(token_value)) if isinstance(token_value, str) else None
        if token is None or token.kind != "remove" or token.expired():
            raise ApiError(401, "Bad credentials")
        runner = fake.runners_by_id.get(body.get("agent_id"))  # type: ignore[arg-type]
        if runner is None or runner.scope != token.target:
            raise not_found()
        if runner.busy:
            raise ApiError(422, f'Bad request - Runner "{runner.name}" is still running a job"')
        fake.delete_runner(runner)
    return Response(204)


@route("POST", "/_fake/runner/sessions", kind="runner")
def open_session(req: Request) -> Response:
    runner = _runner(req)
    with req.fake.lock:
        if runner.session_id is not None:
            raise ApiError(409, f"A session for runner {runner.name} already exists.")
        runner.session_id = secrets.token_hex(8)
        runner.status = "online"
        req.fake.changed.notify_all()
        return Response(201, {"session_id": runner.session_id})


@route("DELETE", "/_fake/runner/sessions", kind="runner")
def close_session(req: Request) -> Response:
    runner = _runner(req)
    with req.fake.lock:
        runner.session_id = None
        runner.status = "offline"
        req.fake.changed.notify_all()
    return Response(204)


@route("GET", "/_fake/runner/jobs/next", kind="runner")
def next_job(req: Request) -> Response:
    runner = _runner(req)
    try:
        wait = min(max(float(req.query.get("wait", "0")), 0.0), MAX_WAIT_SECONDS)
    except ValueError:
        raise ApiError(400, "wait must be a number of seconds") from None
    if runner.session_id is None:
        raise ApiError(409, "The runner has no session; POST /_fake/runner/sessions first.")
    job = req.fake.take_job(runner, wait)
    if job is None:
        return Response(204)
    return Response(
        200,
        {
            "job_id": job.id,
            "run_id": job.run_id,
            "repository": job.repository,
            "labels": list(job.labels),
            "script": job.script,
        },
    )


@route("POST", "/_fake/runner/jobs/{job_id}/result", kind="runner")
def job_result(req: Request) -> Response:
    runner = _runner(req)
    body = req.json()
    conclusion, exit_code, output = (
        body.get("conclusion"),
        body.get("exit_code"),
        body.get("output", ""),
    )
    if conclusion not in ("success", "failure", "cancelled"):
        raise ApiError(422, "conclusion must be one of success, failure, cancelled")
    if isinstance(exit_code, bool) or not isinstance(exit_code, int) or not isinstance(output, str):
        raise ApiError(422, "exit_code must be an integer and output a string")
    fake = req.fake
    with fake.lock:
        try:
            job: Job | None = fake.jobs_by_id.get(int(req.params["job_id"]))
        except ValueError:
            job = None
        if job is None or job.runner_id != runner.id:
            raise not_found()
        if job.status == "completed":
            job.results += 1
            raise ApiError(409, f"Job {job.id} already has a result.")
        fake.finish_job(runner, job, conclusion, exit_code, output)
    return Response(204)
