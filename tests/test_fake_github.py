"""Tests of the fake GitHub: GitHub's shapes (checked against githubkit's models of the 2022-11-28
REST description), status codes, pagination, credentials, job routing, faults and rate limits."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit_schemas.v2022_11_28 import models
from pydantic import BaseModel

from tests.fakes.fake_github import FakeGitHub, Job

ORG = "virtuoso902"
ADMIN = "ghp_fakeadminadminadminadminadmin0001"
RUNNER_KEYS = {"id", "name", "os", "status", "busy", "ephemeral", "runner_group_id", "labels"}
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(fake_github: FakeGitHub) -> FakeGitHub:
    """An org with a private repo 'coach', a private repo 'other', a public repo 'site', and a
    classic admin token."""
    fake_github.add_org(ORG)
    fake_github.add_repo(ORG, "coach")
    fake_github.add_repo(ORG, "other")
    fake_github.add_repo(ORG, "site", private=False)
    fake_github.add_token(ADMIN, scopes=["admin:org", "repo"])
    return fake_github


@pytest.fixture
def api(world: FakeGitHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.url, headers=_auth(ADMIN), timeout=30) as client:
        yield client


def _auth(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {
        "Authorization": f"{scheme} {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def _valid(model: type[BaseModel], data: Any, what: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError, reported with the payload
        pytest.fail(f"{what} does not match GitHub's {model.__name__} schema: {exc}\n{data}")


def _jit(
    api: httpx.Client,
    name: str = "r1",
    labels: list[str] | None = None,
    group: int = 1,
    prefix: str = f"/orgs/{ORG}",
) -> httpx.Response:
    body = {"name": name, "runner_group_id": group, "labels": labels or ["self-hosted", "linux"]}
    return api.post(f"{prefix}/actions/runners/generate-jitconfig", json=body)


def _decode_jit(encoded: str) -> tuple[dict[str, Any], str]:
    blob = json.loads(base64.b64decode(encoded))
    settings = json.loads(base64.b64decode(blob[".runner"]))
    credentials = json.loads(base64.b64decode(blob[".credentials"]))
    return settings, credentials["data"]["token"]


class StandIn:
    """The runner side of PROTOCOL.md, driven by hand."""

    def __init__(self, fake: FakeGitHub, credential: str) -> None:
        self.client = httpx.Client(base_url=fake.url, headers=_auth(credential), timeout=30)

    def start(self) -> None:
        response = self.client.post("/_fake/runner/sessions")
        assert response.status_code == 201, f"session should open with 201, got {response.text}"

    def next(self, wait: float = 0) -> dict[str, Any] | None:
        response = self.client.get("/_fake/runner/jobs/next", params={"wait": wait})
        assert response.status_code in (200, 204), f"jobs/next answered {response.text}"
        return response.json() if response.status_code == 200 else None

    def finish(self, job_id: int, exit_code: int = 0) -> httpx.Response:
        return self.client.post(
            f"/_fake/runner/jobs/{job_id}/result",
            json={
                "conclusion": "success" if exit_code == 0 else "failure",
                "exit_code": exit_code,
                "output": f"ran {job_id}\n",
            },
        )


def _standin(
    fake: FakeGitHub,
    api: httpx.Client,
    name: str,
    group: int = 1,
    labels: list[str] | None = None,
    prefix: str = f"/orgs/{ORG}",
) -> StandIn:
    response = _jit(api, name, labels, group, prefix)
    assert response.status_code == 201, f"jitconfig for {name} should be 201: {response.text}"
    _settings, credential = _decode_jit(response.json()["encoded_jit_config"])
    runner = StandIn(fake, credential)
    runner.start()
    return runner


# ------------------------------------------------------------------------------------ shapes
def test_jitconfig_runner_and_blob_match_github_and_protocol(
    world: FakeGitHub, api: httpx.Client
) -> None:
    response = _jit(api, "shape-1", ["self-hosted", "Linux", "gpu"])
    assert response.status_code == 201, f"generate-jitconfig should answer 201: {response.text}"
    body = response.json()
    _valid(models.OrgsOrgActionsRunnersGenerateJitconfigPostResponse201, body, "jitconfig")
    runner = body["runner"]
    _valid(models.Runner, runner, "jitconfig runner")
    assert set(runner) == RUNNER_KEYS, f"runner keys should be exactly {RUNNER_KEYS}: {runner}"
    assert runner["ephemeral"] is True and runner["status"] == "offline", f"JIT runner: {runner}"
    types = {label["name"]: label["type"] for label in runner["labels"]}
    assert types == {"self-hosted": "read-only", "Linux": "read-only", "gpu": "custom"}, (
        f"default labels should be read-only and others custom: {types}"
    )
    settings, credential = _decode_jit(body["encoded_jit_config"])
    assert settings["agentId"] == runner["id"] and settings["agentName"] == "shape-1", settings
    assert settings["serverUrl"] == world.url, f"serverUrl should be the fake: {settings}"
    assert settings["gitHubUrl"] == f"{world.url}/{ORG}", f"gitHubUrl of the org: {settings}"
    assert settings["poolName"] == "Default" and settings["ephemeral"] is True, settings
    assert credential.startswith("fakerunner_"), "the blob should carry the runner credential"


def test_runner_list_get_and_downloads_match_github(world: FakeGitHub, api: httpx.Client) -> None:
    created = _jit(api, "listed").json()["runner"]
    listing = api.get(f"/orgs/{ORG}/actions/runners").json()
    _valid(models.OrgsOrgActionsRunnersGetResponse200, listing, "runner list")
    assert listing["total_count"] == 1 and listing["runners"] == [created], (
        f"the list should hold exactly the created runner: {listing}"
    )
    one = api.get(f"/orgs/{ORG}/actions/runners/{created['id']}").json()
    assert one == created, f"GET runner should equal the created one: {one}"
    downloads = api.get(f"/orgs/{ORG}/actions/runners/downloads").json()
    for item in downloads:
        _valid(models.RunnerApplication, item, "runner download")
    assert {(d["os"], d["architecture"]) for d in downloads} >= {("linux", "x64")}, downloads


@pytest.mark.parametrize("kind", ["registration-token", "remove-token"])
@pytest.mark.parametrize("prefix", [f"/orgs/{ORG}", f"/repos/{ORG}/coach"])
def test_short_lived_tokens_match_github(api: httpx.Client, kind: str, prefix: str) -> None:
    response = api.post(f"{prefix}/actions/runners/{kind}")
    assert response.status_code == 201, f"{kind} should answer 201: {response.text}"
    token = _valid(models.AuthenticationToken, response.json(), kind)
    assert token.expires_at.timestamp() > time.time() + 3500, (  # type: ignore[attr-defined]
        f"{kind} should live about an hour: {response.json()}"
    )


def test_runner_groups_match_github(world: FakeGitHub, api: httpx.Client) -> None:
    coach = world.repo(f"{ORG}/coach")
    created = api.post(
        f"/orgs/{ORG}/actions/runner-groups",
        json={"name": "ci", "visibility": "selected", "selected_repository_ids": [coach.id]},
    )
    assert created.status_code == 201, f"create group should answer 201: {created.text}"
    group = created.json()
    _valid(models.RunnerGroupsOrg, group, "created runner group")
    assert group["selected_repositories_url"].endswith(
        f"/runner-groups/{group['id']}/repositories"
    ), f"selected group URL: {group}"
    listing = api.get(f"/orgs/{ORG}/actions/runner-groups").json()
    _valid(models.OrgsOrgActionsRunnerGroupsGetResponse200, listing, "group list")
    default = next(g for g in listing["runner_groups"] if g["default"])
    assert (default["id"], default["name"], default["visibility"]) == (1, "Default", "all"), (
        f"the default group should be id 1 'Default' visible to all: {default}"
    )
    repos = api.get(f"/orgs/{ORG}/actions/runner-groups/{group['id']}/repositories").json()
    _valid(
        models.OrgsOrgActionsRunnerGroupsRunnerGroupIdRepositoriesGetResponse200,
        repos,
        "group repositories",
    )
    assert [r["full_name"] for r in repos["repositories"]] == [f"{ORG}/coach"], repos


def test_org_repo_user_and_search_match_github(world: FakeGitHub, api: httpx.Client) -> None:
    org = api.get(f"/orgs/{ORG}").json()
    _valid(models.OrganizationFull, org, "organization")
    repo = api.get(f"/repos/{ORG}/coach").json()
    _valid(models.FullRepository, repo, "repository")
    assert (repo["name"], repo["full_name"], repo["private"], repo["visibility"]) == (
        "coach",
        f"{ORG}/coach",
        True,
        "private",
    ), f"repository identity: {repo}"
    assert repo["owner"]["login"] == ORG and repo["owner"]["type"] == "Organization", repo
    assert repo["id"] == world.repo(f"{ORG}/coach").id, "the id should be the fake's repo id"
    for item in api.get(f"/orgs/{ORG}/repos").json():
        _valid(models.MinimalRepository, item, "org repository")
    found = api.get("/search/repositories", params={"q": f"org:{ORG}"}).json()
    _valid(models.SearchRepositoriesGetResponse200, found, "repository search")
    assert found["total_count"] == 3, f"search org:{ORG} should find its 3 repos: {found}"
    _valid(models.PrivateUser, api.get("/user").json(), "authenticated user")


def test_error_bodies_match_github(world: FakeGitHub, api: httpx.Client) -> None:
    missing = api.get(f"/orgs/{ORG}/actions/runners/999999")
    assert missing.status_code == 404, f"unknown runner should be 404: {missing.text}"
    error = _valid(models.BasicError, missing.json(), "404 body")
    assert error.message == "Not Found", f"GitHub says 'Not Found': {missing.text}"  # type: ignore[attr-defined]
    assert api.get("/repos/nobody/nothing").status_code == 404, "unknown repo should be 404"


# ------------------------------------------------------------------------------------ status codes
def test_jitconfig_conflict_unknown_group_and_repo_scope(
    world: FakeGitHub, api: httpx.Client
) -> None:
    assert _jit(api, "dup").status_code == 201, "the first runner named dup should be created"
    conflict = _jit(api, "dup")
    assert conflict.status_code == 409, f"a taken name should answer 409: {conflict.text}"
    assert _jit(api, "DUP").status_code == 409, "runner names should be case-insensitive"
    assert _jit(api, "lost", group=4242).status_code == 404, "an unknown group should be 404"
    repo_runner = _jit(api, "dup", prefix=f"/repos/{ORG}/coach")
    assert repo_runner.status_code == 201, (
        f"a repository runner may reuse an org runner's name: {repo_runner.text}"
    )
    settings, _ = _decode_jit(repo_runner.json()["encoded_jit_config"])
    assert settings["gitHubUrl"] == f"{world.url}/{ORG}/coach", f"repo web URL: {settings}"
    assert _jit(api, "g2", group=2, prefix=f"/repos/{ORG}/coach").status_code == 404, (
        "repository runners have only the default group"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "runner_group_id": 1, "labels": []}, "labels"),
        ({"name": "x", "runner_group_id": 1, "labels": ["a"] * 101}, "labels"),
        ({"name": "x", "runner_group_id": 1, "labels": ["a,b"]}, "labels"),
        ({"name": "x", "runner_group_id": 1, "labels": [""]}, "labels"),
        ({"name": "x", "runner_group_id": 1}, "labels"),
        ({"name": "x", "labels": ["a"]}, "runner_group_id"),
        ({"runner_group_id": 1, "labels": ["a"]}, "name"),
    ],
)
def test_jitconfig_rejects_bad_input_with_422(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = api.post(f"/orgs/{ORG}/actions/runners/generate-jitconfig", json=body)
    assert response.status_code == 422, f"{body} should be refused with 422: {response.text}"
    fields = [e.get("field") for e in response.json().get("errors", [])]
    assert field in fields, f"the 422 for {body} should name {field!r}: {response.text}"


def test_delete_runner_204_and_422_when_busy(world: FakeGitHub, api: httpx.Client) -> None:
    runner = _standin(world, api, "busy-one")
    idle_id = _jit(api, "idle-one").json()["runner"]["id"]
    job = world.queue_job(f"{ORG}/coach", ["linux"])
    assert runner.next()["job_id"] == job.id, "the online runner should take the job"  # type: ignore[index]
    busy_id = job.runner_id
    refused = api.delete(f"/orgs/{ORG}/actions/runners/{busy_id}")
    assert refused.status_code == 422, f"deleting a busy runner should be 422: {refused.text}"
    assert api.delete(f"/orgs/{ORG}/actions/runners/{idle_id}").status_code == 204, (
        "deleting an idle runner should be 204"
    )
    assert api.get(f"/orgs/{ORG}/actions/runners/{idle_id}").status_code == 404, (
        "a deleted runner should be gone"
    )


def test_runner_group_crud_and_repository_membership(world: FakeGitHub, api: httpx.Client) -> None:
    base = f"/orgs/{ORG}/actions/runner-groups"
    group = api.post(base, json={"name": "crud"}).json()
    assert group["visibility"] == "all" and group["allows_public_repositories"] is False, (
        f"a new group should default to all, private repos only: {group}"
    )
    assert api.post(base, json={"name": "crud"}).status_code in (409, 422), "duplicate name"
    assert api.post(base, json={"visibility": "all"}).status_code == 422, "name is required"
    patched = api.patch(f"{base}/{group['id']}", json={"visibility": "selected"})
    assert patched.status_code == 200 and patched.json()["visibility"] == "selected", patched.text
    coach, other = world.repo(f"{ORG}/coach").id, world.repo(f"{ORG}/other").id
    assert (
        api.put(
            f"{base}/{group['id']}/repositories", json={"selected_repository_ids": [coach]}
        ).status_code
        == 204
    ), "put repos"
    assert api.put(f"{base}/{group['id']}/repositories/{other}").status_code == 204, "add one"
    assert api.delete(f"{base}/{group['id']}/repositories/{coach}").status_code == 204, "rm one"
    names = [
        r["name"] for r in api.get(f"{base}/{group['id']}/repositories").json()["repositories"]
    ]
    assert names == ["other"], f"the group should now allow only 'other': {names}"
    visible = api.get(base, params={"visible_to_repository": "coach"}).json()
    assert [g["id"] for g in visible["runner_groups"]] == [1], (
        f"only the default group should be visible to coach: {visible}"
    )
    assert api.delete(f"{base}/1").status_code == 422, "the default group cannot be deleted"
    assert api.delete(f"{base}/{group['id']}").status_code == 204, "delete group"
    assert api.get(f"{base}/{group['id']}").status_code == 404, "a deleted group is gone"


# ------------------------------------------------------------------------------------ pagination
def test_pagination_links_and_pages_cover_every_runner_once(
    world: FakeGitHub, api: httpx.Client
) -> None:
    world.add_runners(org=ORG, count=250)
    seen: list[int] = []
    url: str | None = f"/orgs/{ORG}/actions/runners?per_page=100"
    pages = 0
    while url:
        response = api.get(url)
        body = response.json()
        assert body["total_count"] == 250, f"total_count should count all runners: {body}"
        seen += [r["id"] for r in body["runners"]]
        pages += 1
        url = response.links.get("next", {}).get("url")
    assert pages == 3 and len(seen) == 250 and len(set(seen)) == 250, (
        f"3 pages should cover 250 runners once each: {pages} pages, {len(seen)} ids"
    )
    middle = api.get(f"/orgs/{ORG}/actions/runners", params={"per_page": 100, "page": 2})
    assert set(middle.links) == {"prev", "next", "last", "first"}, (
        f"page 2 of 3 should link prev/next/last/first: {middle.headers.get('link')}"
    )
    assert "page=3" in middle.links["last"]["url"], f"last page is 3: {middle.links}"
    capped = api.get(f"/orgs/{ORG}/actions/runners", params={"per_page": 1000}).json()
    assert len(capped["runners"]) == 100, "per_page above 100 should be capped at 100"
    beyond = api.get(f"/orgs/{ORG}/actions/runners", params={"page": 99}).json()
    assert beyond["runners"] == [] and beyond["total_count"] == 250, f"past the end: {beyond}"
    single = api.get(f"/orgs/{ORG}/actions/runners")
    assert "link" in single.headers and len(single.json()["runners"]) == 30, (
        "the default page size is 30 with a Link header"
    )


def test_name_filter_finds_one_runner_among_ten_thousand(
    world: FakeGitHub, api: httpx.Client
) -> None:
    made = world.add_runners(org=ORG, count=10_000, name_prefix="bulk")
    target = made[7_777]
    found = api.get(f"/orgs/{ORG}/actions/runners", params={"name": target.name}).json()
    assert found["total_count"] == 1 and found["runners"][0]["id"] == target.id, (
        f"name= should find exactly {target.name}: {found}"
    )
    last = api.get(f"/orgs/{ORG}/actions/runners", params={"per_page": 100, "page": 100})
    assert [r["id"] for r in last.json()["runners"]] == [r.id for r in made[9_900:]], (
        "page 100 of 100 should hold the last 100 runners in creation order"
    )
    assert "next" not in last.links, f"the last page has no next link: {last.links}"


def test_org_repos_paginate_with_type_filter(world: FakeGitHub, api: httpx.Client) -> None:
    for i in range(5):
        world.add_repo(ORG, f"extra-{i}")
    page = api.get(f"/orgs/{ORG}/repos", params={"per_page": 3, "type": "private"})
    assert len(page.json()) == 3 and "next" in page.links, f"first page: {page.headers}"
    everything = api.get(f"/orgs/{ORG}/repos", params={"per_page": 100, "type": "private"}).json()
    assert len(everything) == 7 and all(r["private"] for r in everything), (
        f"7 private repos expected: {[r['name'] for r in everything]}"
    )
    public = api.get(f"/orgs/{ORG}/repos", params={"type": "public"}).json()
    assert [r["name"] for r in public] == ["site"], f"only 'site' is public: {public}"


# ------------------------------------------------------------------------------------ credentials
def test_missing_bad_and_expired_credentials_answer_401(world: FakeGitHub) -> None:
    path = f"{world.url}/orgs/{ORG}/actions/runners"
    assert httpx.get(path).status_code == 401, "no credential should be 401"
    bad = httpx.get(path, headers=_auth("ghp_nottoken"))
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials", bad.text
    assert "documentation_url" in bad.json(), f"401 carries documentation_url: {bad.text}"
    world.add_token("ghp_soon", scopes=["admin:org"])
    assert httpx.get(path, headers=_auth("ghp_soon", "token")).status_code == 200, (
        "the 'token' scheme should be accepted"
    )
    world.expire_token("ghp_soon")
    assert httpx.get(path, headers=_auth("ghp_soon")).status_code == 401, "expired is 401"


def test_classic_token_scopes_header_and_missing_scope(world: FakeGitHub) -> None:
    world.add_token("ghp_reader", scopes=["read:org", "repo"])
    path = f"{world.url}/orgs/{ORG}/actions/runners"
    response = httpx.get(path, headers=_auth("ghp_reader"))
    assert response.status_code == 403, f"read:org is not enough for runners: {response.text}"
    assert response.json()["message"] == "Must have admin rights to Repository.", response.text
    assert response.headers["X-OAuth-Scopes"] == "read:org, repo", response.headers
    assert response.headers["X-Accepted-OAuth-Scopes"] == "admin:org", response.headers
    ok = httpx.post(
        f"{world.url}/repos/{ORG}/coach/actions/runners/registration-token",
        headers=_auth("ghp_reader"),
    )
    assert ok.status_code == 201, f"the repo scope suffices for repository runners: {ok.text}"


def test_fine_grained_permissions_read_versus_write(world: FakeGitHub) -> None:
    world.add_token("github_pat_read", permissions={"organization_self_hosted_runners": "read"})
    headers = _auth("github_pat_read")
    listing = httpx.get(f"{world.url}/orgs/{ORG}/actions/runners", headers=headers)
    assert listing.status_code == 200, f"read permission lists runners: {listing.text}"
    refused = httpx.post(
        f"{world.url}/orgs/{ORG}/actions/runners/registration-token", headers=headers
    )
    assert refused.status_code == 403, f"read cannot mint tokens: {refused.text}"
    assert refused.json()["message"] == "Resource not accessible by personal access token", (
        refused.text
    )
    assert refused.headers["X-Accepted-GitHub-Permissions"] == (
        "organization_self_hosted_runners=write"
    ), refused.headers
    repo = httpx.post(
        f"{world.url}/repos/{ORG}/coach/actions/runners/registration-token", headers=headers
    )
    assert repo.status_code == 403, f"repository runners need administration: {repo.text}"
    assert repo.headers["X-Accepted-GitHub-Permissions"] == "administration=write", repo.headers


def _app_jwt(app_id: int, pem: str, *, iat_offset: float = -60, lifetime: float = 600) -> str:
    now = time.time()
    claims = {
        "iat": int(now + iat_offset),
        "exp": int(now + iat_offset + lifetime),
        "iss": str(app_id),
    }
    return jwt.encode(claims, pem, algorithm="RS256")


@pytest.fixture
def app_key(world: FakeGitHub) -> str:
    return world.add_app(
        4242,
        77,
        ORG,
        {"organization_self_hosted_runners": "write", "administration": "write"},
    )


def test_app_jwt_mints_installation_token_that_works(world: FakeGitHub, app_key: str) -> None:
    token = _app_jwt(4242, app_key)
    installation = httpx.get(f"{world.url}/app/installations/77", headers=_auth(token))
    assert installation.status_code == 200, f"GET installation with JWT: {installation.text}"
    _valid(models.Installation, installation.json(), "installation")
    minted = httpx.post(f"{world.url}/app/installations/77/access_tokens", headers=_auth(token))
    assert minted.status_code == 201, f"access_tokens should answer 201: {minted.text}"
    body = minted.json()
    _valid(models.InstallationToken, body, "installation token")
    assert body["permissions"]["organization_self_hosted_runners"] == "write", body
    assert body["repository_selection"] == "all", body
    jit = httpx.post(
        f"{world.url}/orgs/{ORG}/actions/runners/generate-jitconfig",
        headers=_auth(body["token"]),
        json={"name": "app-runner", "runner_group_id": 1, "labels": ["x"]},
    )
    assert jit.status_code == 201, f"the installation token should register runners: {jit.text}"
    other = httpx.get(f"{world.url}/user", headers=_auth(body["token"]))
    assert other.status_code == 403, "installation tokens cannot read /user"
    assert other.json()["message"] == "Resource not accessible by integration", other.text
    world.expire_token(body["token"])
    after = httpx.get(f"{world.url}/orgs/{ORG}/actions/runners", headers=_auth(body["token"]))
    assert after.status_code == 401, "an expired installation token should be 401"


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("wrong key", lambda pem: _app_jwt(4242, _other_key())),
        ("expired", lambda pem: _app_jwt(4242, pem, iat_offset=-700)),
        ("too long", lambda pem: _app_jwt(4242, pem, lifetime=900)),
        ("wrong issuer", lambda pem: _app_jwt(4243, pem)),
        ("not a JWT", lambda pem: "ghp_not_a_jwt"),
    ],
)
def test_bad_app_jwts_answer_401(world: FakeGitHub, app_key: str, case: str, make: Any) -> None:
    response = httpx.post(
        f"{world.url}/app/installations/77/access_tokens", headers=_auth(make(app_key))
    )
    assert response.status_code == 401, f"a JWT with {case} should be refused: {response.text}"


def test_other_installation_is_404(world: FakeGitHub, app_key: str) -> None:
    token = _app_jwt(4242, app_key)
    missing = httpx.post(f"{world.url}/app/installations/78/access_tokens", headers=_auth(token))
    assert missing.status_code == 404, f"another App's installation should be 404: {missing.text}"


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# ------------------------------------------------------------------------------------ jobs
def test_job_goes_only_to_runners_whose_group_allows_the_repository(
    world: FakeGitHub, api: httpx.Client
) -> None:
    group = world.add_runner_group(
        ORG, "coach-only", visibility="selected", selected_repositories=[f"{ORG}/coach"]
    )
    runner = _standin(world, api, "coach-runner", group=group.id)
    denied = world.queue_job(f"{ORG}/other", ["linux"], "echo other")
    assert runner.next(wait=0.3) is None, "a runner must not get a job of a repo not allowlisted"
    allowed = world.queue_job(f"{ORG}/coach", ["linux"], "echo coach")
    got = runner.next(wait=5)
    assert got is not None and got["job_id"] == allowed.id, f"allowlisted job expected: {got}"
    assert got["script"] == "echo coach" and got["repository"] == f"{ORG}/coach", got
    assert runner.finish(allowed.id).status_code == 204, "result should be accepted"
    world.wait_for_job(allowed, timeout=5)
    assert (allowed.conclusion, allowed.exit_code, allowed.assignments) == ("success", 0, 1), (
        f"the job should have run once, successfully: {allowed}"
    )
    assert allowed.runner_name == "coach-runner", f"runner recorded: {allowed}"
    assert denied.status == "queued" and denied.runner_id is None, (
        f"the job of the non-allowlisted repo must stay queued: {denied}"
    )
    assert all(r.name != "coach-runner" for r in world.runners), (
        "an ephemeral runner should be deleted once its result arrives"
    )


def test_public_repositories_need_allows_public_and_labels_must_match(
    world: FakeGitHub, api: httpx.Client
) -> None:
    runner = _standin(world, api, "default-runner", labels=["self-hosted", "linux"])
    public = world.queue_job(f"{ORG}/site", ["linux"])
    gpu = world.queue_job(f"{ORG}/coach", ["linux", "gpu"])
    assert runner.next(wait=0.3) is None, (
        "neither a public repo's job nor one needing label gpu may reach this runner"
    )
    group = world.add_runner_group(ORG, "public-ok", allows_public_repositories=True)
    public_runner = _standin(world, api, "public-runner", group=group.id)
    got = public_runner.next(wait=5)
    assert got is not None and got["job_id"] == public.id, f"public job to public group: {got}"
    assert gpu.status == "queued", "the gpu job should wait for a runner labelled gpu"


def test_private_visibility_and_repository_runners(world: FakeGitHub, api: httpx.Client) -> None:
    group = world.add_runner_group(
        ORG, "private-only", visibility="private", allows_public_repositories=True
    )
    org_runner = _standin(world, api, "private-runner", group=group.id)
    repo_runner = _standin(world, api, "repo-runner", prefix=f"/repos/{ORG}/other")
    public = world.queue_job(f"{ORG}/site", ["linux"])
    assert org_runner.next(wait=0.2) is None, "visibility 'private' excludes public repos"
    assert repo_runner.next(wait=0.2) is None, "a repository runner serves only its repository"
    mine = world.queue_job(f"{ORG}/other", ["linux"])
    got = repo_runner.next(wait=5)
    assert got is not None and got["job_id"] == mine.id, f"the repo runner's own job: {got}"
    assert public.status == "queued", f"the public job stays queued: {public}"


def test_one_job_is_taken_exactly_once_by_competing_runners(
    world: FakeGitHub, api: httpx.Client
) -> None:
    runners = [_standin(world, api, f"racer-{i}") for i in range(8)]
    got: list[dict[str, Any] | None] = [None] * len(runners)

    def poll(index: int) -> None:
        got[index] = runners[index].next(wait=1)

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(len(runners))]
    for thread in threads:
        thread.start()
    job = world.queue_job(f"{ORG}/coach", ["linux"])
    for thread in threads:
        thread.join()
    winners = [g for g in got if g is not None]
    assert len(winners) == 1 and winners[0]["job_id"] == job.id, (
        f"exactly one of 8 runners should get the job: {got}"
    )
    assert job.assignments == 1, f"the job should be handed out once: {job}"


def test_results_sessions_and_offline_runners(world: FakeGitHub, api: httpx.Client) -> None:
    runner = _standin(world, api, "session-runner")
    job = world.queue_job(f"{ORG}/coach", ["linux"])
    assert runner.next(wait=5) is not None, "the runner should take the job"
    listed = api.get(f"/orgs/{ORG}/actions/runners", params={"name": "session-runner"}).json()
    assert listed["runners"][0]["busy"] is True, f"a runner with a job is busy: {listed}"
    assert runner.finish(job.id, exit_code=3).status_code == 204, "first result accepted"
    assert job.conclusion == "failure" and job.exit_code == 3, f"failure recorded: {job}"
    again = runner.finish(job.id)
    assert again.status_code == 401, f"the deleted ephemeral runner is unknown: {again.text}"
    second = _standin(world, api, "quitter")
    assert second.client.delete("/_fake/runner/sessions").status_code == 204, "close session"
    status = api.get(f"/orgs/{ORG}/actions/runners", params={"name": "quitter"}).json()
    assert status["runners"][0]["status"] == "offline", f"no session means offline: {status}"
    assert second.client.get("/_fake/runner/jobs/next").status_code == 409, (
        "polling without a session should be 409"
    )


def test_registration_token_flow_registers_and_removes(
    world: FakeGitHub, api: httpx.Client
) -> None:
    reg = api.post(f"/orgs/{ORG}/actions/runners/registration-token").json()["token"]
    body = {
        "url": f"{world.url}/{ORG}",
        "token": reg,
        "name": "cfg",
        "labels": ["gpu"],
        "runner_group": "Default",
        "work": "_work",
        "ephemeral": False,
        "replace": False,
        "no_default_labels": False,
    }
    made = httpx.post(f"{world.url}/_fake/runner/register", json=body)
    assert made.status_code == 201, f"register should answer 201: {made.text}"
    settings = made.json()[".runner"]
    labels = {
        lb["name"]
        for lb in api.get(f"/orgs/{ORG}/actions/runners/{settings['agentId']}").json()["labels"]
    }
    assert labels == {"self-hosted", "Linux", "X64", "gpu"}, f"defaults plus gpu: {labels}"
    dup = httpx.post(f"{world.url}/_fake/runner/register", json=body)
    assert dup.status_code == 409, f"same name without replace is 409: {dup.text}"
    bad = httpx.post(f"{world.url}/_fake/runner/register", json=body | {"token": "NOPE"})
    assert bad.status_code == 401, f"a bad registration token is 401: {bad.text}"
    rm = api.post(f"/orgs/{ORG}/actions/runners/remove-token").json()["token"]
    gone = httpx.post(
        f"{world.url}/_fake/runner/remove", json={"token": rm, "agent_id": settings["agentId"]}
    )
    assert gone.status_code == 204, f"remove should answer 204: {gone.text}"
    assert world.runners == [], f"the runner should be gone: {world.runners}"


# ------------------------------------------------------------------------------------ faults
def test_injected_faults_are_served_once_in_order(world: FakeGitHub, api: httpx.Client) -> None:
    world.inject(
        r"/actions/runners/generate-jitconfig$",
        "POST",
        [
            (500, {}, {"message": "Server Error"}),
            (500, {}, {"message": "Server Error"}),
            (500, {}, {"message": "Server Error"}),
            (403, {"Retry-After": "2"}, {"message": "You have exceeded a secondary rate limit."}),
            (429, {"Retry-After": "1"}, {"message": "Too Many Requests"}),
            (409, {}, {"message": "Conflict"}),
        ],
    )
    statuses = []
    retry_after = []
    for _ in range(7):
        response = _jit(api, "faulty")
        statuses.append(response.status_code)
        retry_after.append(response.headers.get("Retry-After"))
    assert statuses == [500, 500, 500, 403, 429, 409, 201], (
        f"faults in order, then real: {statuses}"
    )
    assert retry_after[3:5] == ["2", "1"], f"Retry-After should be served: {retry_after}"
    assert world.pending_faults() == 0, "every injected response should be used up"
    assert api.get(f"/orgs/{ORG}/actions/runners").status_code == 200, "GET was never faulted"
    assert world.count("POST", r"generate-jitconfig$", status=500) == 3, "3 logged 500s"


# ------------------------------------------------------------------------------------ rate limits
def test_rate_limit_headers_on_every_answer_and_exhaustion(
    world: FakeGitHub, api: httpx.Client
) -> None:
    answers = [
        api.get(f"/orgs/{ORG}"),
        api.post(f"/orgs/{ORG}/actions/runners/registration-token"),
        api.get(f"/orgs/{ORG}/actions/runners/1"),
        httpx.get(f"{world.url}/orgs/{ORG}", headers=_auth("ghp_wrong")),
    ]
    for response in answers:
        for header in ("Limit", "Remaining", "Reset", "Used", "Resource"):
            assert f"X-RateLimit-{header}" in response.headers, (
                f"{response.request.url} ({response.status_code}) lacks X-RateLimit-{header}"
            )
    used = [int(r.headers["X-RateLimit-Used"]) for r in answers[:3]]
    assert used == [1, 2, 3], f"each authenticated call should spend one request: {used}"
    world.exhaust_rate_limit(reset_in=30)
    limited = api.get(f"/orgs/{ORG}")
    assert limited.status_code == 403, f"an exhausted budget answers 403: {limited.text}"
    assert limited.headers["X-RateLimit-Remaining"] == "0", limited.headers
    assert int(limited.headers["X-RateLimit-Reset"]) >= int(time.time()) + 25, limited.headers
    assert "rate limit exceeded" in limited.json()["message"], limited.text


def test_configured_budget_runs_out(world: FakeGitHub) -> None:
    world.set_rate_limit(3)
    world.add_token("ghp_small", scopes=["admin:org"])
    statuses = [
        httpx.get(f"{world.url}/orgs/{ORG}", headers=_auth("ghp_small")).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 403], f"a budget of 3 allows 3 calls: {statuses}"
    search = httpx.get(
        f"{world.url}/search/repositories", params={"q": f"org:{ORG}"}, headers=_auth("ghp_small")
    )
    assert search.headers["X-RateLimit-Resource"] == "search", "search has its own budget"


# ------------------------------------------------------------------------------------ call log
def test_call_log_keeps_fingerprints_not_secrets(world: FakeGitHub, api: httpx.Client) -> None:
    api.get(f"/orgs/{ORG}/actions/runners", params={"per_page": 5})
    call = world.calls[-1]
    assert (call.method, call.path, call.query, call.status) == (
        "GET",
        f"/orgs/{ORG}/actions/runners",
        {"per_page": "5"},
        200,
    ), f"logged: {call}"
    assert call.credential is not None and call.credential.startswith("sha256:"), call
    assert ADMIN not in repr(world.calls), "the call log must never hold a token in clear"
    assert world.count("GET", r"/actions/runners$") == 1, "count() should find the one call"


# ------------------------------------------------------------------------------------ control
def test_control_api_over_http(world: FakeGitHub) -> None:
    control = httpx.Client(base_url=f"{world.url}/_fake/control", timeout=10)
    assert control.post("/repos", json={"org": ORG, "name": "ctl"}).status_code == 201, "repo"
    job = control.post("/jobs", json={"repository": f"{ORG}/ctl", "labels": ["x"]})
    assert job.status_code == 201 and job.json()["status"] == "queued", job.text
    bad = control.post("/jobs", json={"repository": "nope/nope", "labels": ["x"]})
    assert bad.status_code == 422 and "nope/nope" in bad.json()["message"], bad.text
    made = control.post("/runners", json={"org": ORG, "count": 3})
    assert made.json()["created"] == 3, made.text
    assert len(control.get("/runners").json()) == 3, "three runners listed"
    control.post(
        "/faults",
        json={
            "path_regex": "^/user$",
            "method": "GET",
            "responses": [{"status": 502, "body": "bad gateway"}],
        },
    )
    assert httpx.get(f"{world.url}/user", headers=_auth(ADMIN)).status_code == 502, "fault"
    calls = control.get("/calls").json()
    assert any(c["path"] == "/user" and c["status"] == 502 for c in calls), calls


def test_standalone_server_with_seed_file(tmp_path: Path) -> None:
    seed = {
        "orgs": [{"login": ORG, "repos": [{"name": "coach"}]}],
        "tokens": [{"token": "ghp_seeded", "scopes": ["admin:org"]}],
        "apps": [
            {
                "app_id": 9,
                "installation_id": 90,
                "org": ORG,
                "permissions": {"organization_self_hosted_runners": "write"},
                "private_key_file": "app.pem",
            }
        ],
        "runners": [{"org": ORG, "count": 5}],
    }
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.fake_github",
            "--port",
            "0",
            "--seed-file",
            str(tmp_path / "seed.json"),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        listing = httpx.get(
            f"{ready['url']}/orgs/{ORG}/actions/runners", headers=_auth("ghp_seeded")
        ).json()
        assert listing["total_count"] == 5, f"the seeded 5 runners should be listed: {listing}"
        pem = (tmp_path / "app.pem").read_text()
        minted = httpx.post(
            f"{ready['url']}/app/installations/90/access_tokens", headers=_auth(_app_jwt(9, pem))
        )
        assert minted.status_code == 201, f"the seeded App key should work: {minted.text}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0, f"SIGTERM should stop it cleanly: {proc.stderr.read()}"  # type: ignore[union-attr]


def test_standalone_server_rejects_bad_seed_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "seed.json").write_text(json.dumps({"orgz": []}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fakes.fake_github",
            "--seed-file",
            str(tmp_path / "seed.json"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env=os.environ | {"PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.returncode == 2, f"a bad seed should exit 2: {done.stderr}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "orgz" in lines[0], f"one line naming the key: {done.stderr}"


def test_python_api_rejects_misuse_with_clear_errors(world: FakeGitHub) -> None:
    with pytest.raises(ValueError, match="unknown repository 'virtuoso902/nope'"):
        world.queue_job(f"{ORG}/nope", ["x"])
    with pytest.raises(ValueError, match="labels must be a non-empty list"):
        world.queue_job(f"{ORG}/coach", [])
    with pytest.raises(ValueError, match="unknown organization 'ghost'"):
        world.add_repo("ghost", "x")
    with pytest.raises(ValueError, match="permission org_runners"):
        world.add_token("t", permissions={"org_runners": "write"})


def test_job_record_shape(world: FakeGitHub) -> None:
    job = world.queue_job(f"{ORG}/coach", ["linux"], "echo hi")
    assert isinstance(job, Job) and job.as_json()["status"] == "queued", job
    assert world.jobs == [job], "fake.jobs should list the queued job"


def test_runner_labels_endpoints(world: FakeGitHub, api: httpx.Client) -> None:
    runner_id = _jit(api, "labelled", ["self-hosted", "gpu"]).json()["runner"]["id"]
    base = f"/repos/{ORG}/coach/actions/runners"
    repo_runner = _jit(api, "repo-labelled", ["self-hosted"], prefix=f"/repos/{ORG}/coach")
    path = f"/orgs/{ORG}/actions/runners/{runner_id}/labels"
    listed = api.get(path).json()
    _valid(models.OrgsOrgActionsRunnersRunnerIdLabelsGetResponse200, listed, "runner labels")
    added = api.post(path, json={"labels": ["big"]}).json()
    assert [lb["name"] for lb in added["labels"]] == ["self-hosted", "gpu", "big"], added
    replaced = api.put(path, json={"labels": ["small"]}).json()
    assert [lb["name"] for lb in replaced["labels"]] == ["self-hosted", "small"], (
        f"PUT keeps read-only labels and replaces custom ones: {replaced}"
    )
    removed = api.delete(f"{path}/small")
    _valid(models.OrgsOrgActionsRunnersRunnerIdLabelsDeleteResponse200, removed.json(), "rm")
    assert api.delete(f"{path}/self-hosted").status_code == 422, "read-only labels stay"
    assert api.delete(f"{path}/absent").status_code == 404, "an absent label is 404"
    repo_id = repo_runner.json()["runner"]["id"]
    assert api.get(f"{base}/{repo_id}/labels").status_code == 200, "repo runner labels"
    assert api.get(f"{base}/{runner_id}/labels").status_code == 404, (
        "an org runner is not visible under a repository"
    )


def test_a_job_whose_runner_is_removed_fails_and_is_never_rerun(
    world: FakeGitHub, api: httpx.Client
) -> None:
    runner = _standin(world, api, "vanishing")
    spare = _standin(world, api, "spare")
    job = world.queue_job(f"{ORG}/coach", ["linux"])
    assert runner.next(wait=5) is not None, "the first runner should take the job"
    world.delete_runner(next(r for r in world.runners if r.name == "vanishing"))
    assert job.status == "completed" and job.conclusion == "failure", (
        f"a job whose runner vanished should fail: {job}"
    )
    assert spare.next(wait=0.2) is None, "the failed job must not be handed out again"
    assert job.assignments == 1, f"handed out once only: {job}"


def test_repository_runner_endpoints_match_github(world: FakeGitHub, api: httpx.Client) -> None:
    prefix = f"/repos/{ORG}/coach"
    made = _jit(api, "repo-shape", ["self-hosted"], prefix=prefix)
    assert made.status_code == 201, f"repo generate-jitconfig should be 201: {made.text}"
    _valid(models.OrgsOrgActionsRunnersGenerateJitconfigPostResponse201, made.json(), "repo jit")
    listing = api.get(f"{prefix}/actions/runners").json()
    _valid(models.ReposOwnerRepoActionsRunnersGetResponse200, listing, "repo runner list")
    assert [r["name"] for r in listing["runners"]] == ["repo-shape"], listing
    assert api.get(f"/orgs/{ORG}/actions/runners").json()["total_count"] == 0, (
        "a repository runner must not be listed among the organization's runners"
    )
    for item in api.get(f"{prefix}/actions/runners/downloads").json():
        _valid(models.RunnerApplication, item, "repo runner download")
