"""HTTP plumbing of the fake: parse, inject faults, authenticate, charge the rate limit, route,
answer with GitHub's headers, and log the call (with a credential fingerprint, never the secret).

A handler that raises ``ApiError`` becomes GitHub's error body; any other exception becomes a 500
whose message names the exception type, so a fake bug shows up as a failing call, not a hang.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt

from .core import Call, FakeGitHub
from .state import App, Token, fingerprint

API_VERSION = "2022-11-28"
DOCS = "https://docs.github.com/rest"
_IMPLIED_SCOPES = {
    "admin:org": ("admin:org", "write:org", "read:org"),
    "write:org": ("write:org", "read:org"),
    "repo": ("repo", "repo:status", "repo_deployment", "public_repo", "repo:invite"),
}


class ApiError(Exception):
    """An error answer in GitHub's shape: ``{message, documentation_url, status}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
        doc: str = DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.errors = errors
        self.doc = doc

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "documentation_url": self.doc}
        if self.errors is not None:
            body["errors"] = self.errors
        body["status"] = str(self.status)
        return body


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(message: str, field_name: str, code: str = "invalid") -> ApiError:
    return ApiError(
        422,
        message,
        errors=[{"resource": "Runner", "field": field_name, "code": code, "message": message}],
    )


@dataclass
class Principal:
    """Who is calling: a PAT (classic or fine-grained), an installation token, or an App JWT."""

    kind: str
    fingerprint: str
    login: str
    rate_key: str
    token: Token | None = None
    app: App | None = None

    @property
    def scopes(self) -> set[str]:
        granted: set[str] = set()
        for scope in self.token.scopes if self.token else ():
            granted.update(_IMPLIED_SCOPES.get(scope, (scope,)))
        return granted

    def level(self, permission: str) -> str | None:
        if self.token is None:
            return None
        if permission == "metadata" and self.kind in ("fine_grained", "installation"):
            return self.token.permissions.get("metadata", "read")
        return self.token.permissions.get(permission)


@dataclass
class Request:
    fake: FakeGitHub
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    raw_body: bytes
    base: str
    params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    credential: str | None = None

    def json(self) -> dict[str, Any]:
        if not self.raw_body.strip():
            return {}
        try:
            body = json.loads(self.raw_body)
        except ValueError:
            raise ApiError(400, "Problems parsing JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Problems parsing JSON")
        return body

    def who(self) -> Principal:
        if self.principal is None:
            raise ApiError(401, "Requires authentication")
        return self.principal


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


RouteFn = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    fn: RouteFn
    #: "rest" (token or anonymous), "app" (JWT only), "search", "runner" or "control".
    kind: str = "rest"


ROUTES: list[Route] = []


def route(method: str, path: str, kind: str = "rest") -> Callable[[RouteFn], RouteFn]:
    """Register a handler for ``path`` ('{name}' segments match one path segment)."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)

    def register(fn: RouteFn) -> RouteFn:
        ROUTES.append(Route(method, re.compile(f"^{regex}$"), fn, kind))
        return fn

    return register


def _looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("eyJ")


def verify_app_jwt(fake: FakeGitHub, value: str) -> App:
    """Check an App JWT the way GitHub does: RS256 by a known App's key, iss = App id,
    exp in the future and at most ten minutes after iat."""
    try:
        claims = jwt.decode(value, options={"verify_signature": False})
        app = fake.apps.get(int(claims.get("iss", "")))
    except (jwt.PyJWTError, ValueError, TypeError):
        raise ApiError(401, "A JSON web token could not be decoded") from None
    if app is None:
        raise ApiError(401, "Integration not found")
    try:
        claims = jwt.decode(
            value,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise ApiError(401, "A JSON web token could not be decoded") from None
    now = time.time()
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise ApiError(401, "A JSON web token could not be decoded")
    if exp <= now:
        raise ApiError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        )
    if iat > now + 60:
        raise ApiError(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time "
            "that the assertion was issued",
        )
    if exp - iat > 600:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
    return app


def authenticate(req: Request, kind: str) -> None:
    """Resolve ``Authorization`` into ``req.principal``; 401 for bad or expired credentials."""
    header = req.headers.get("authorization", "").strip()
    if not header:
        if kind == "app":
            raise ApiError(401, "A JSON web token could not be decoded")
        return
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() not in ("bearer", "token") or not value:
        raise ApiError(401, "Bad credentials")
    req.credential = fingerprint(value)
    fake = req.fake
    if kind == "app" or _looks_like_jwt(value):
        if kind != "app" and not _looks_like_jwt(value):
            raise ApiError(401, "A JSON web token could not be decoded")
        with fake.lock:
            app = verify_app_jwt(fake, value)
        req.principal = Principal("app", req.credential, app.slug, f"app:{app.app_id}", app=app)
        return
    with fake.lock:
        token = fake.tokens.get(req.credential)
    if token is None or token.expired() or token.kind in ("registration", "remove"):
        raise ApiError(401, "Bad credentials")
    rate_key = (
        f"installation:{token.installation_id}"
        if token.kind == "installation"
        else f"user:{token.login}"
    )
    req.principal = Principal(token.kind, req.credential, token.login, rate_key, token=token)


def _denied(req: Request, scope: str, permission: str, level: str) -> ApiError:
    who = req.who()
    if who.kind == "classic":
        return ApiError(
            403,
            "Must have admin rights to Repository.",
            headers={"X-Accepted-OAuth-Scopes": scope},
        )
    by = "personal access token" if who.kind == "fine_grained" else "integration"
    return ApiError(
        403,
        f"Resource not accessible by {by}",
        headers={"X-Accepted-GitHub-Permissions": f"{permission}={level}"},
    )


def _satisfies(have: str | None, need: str) -> bool:
    return have == "write" or (have == "read" and need == "read")


def require_org(req: Request, org_login: str, permission: str, level: str, scope: str) -> None:
    """403 unless the caller may use ``permission`` at ``level`` on the organization."""
    who = req.who()
    if who.kind == "app":
        raise ApiError(403, "Resource not accessible by integration")
    token = who.token
    assert token is not None
    if token.orgs is not None and org_login.lower() not in token.orgs:
        raise _denied(req, scope, permission, level)
    if who.kind == "classic":
        if scope not in who.scopes:
            raise _denied(req, scope, permission, level)
    elif not _satisfies(who.level(permission), level):
        raise _denied(req, scope, permission, level)


def can_see_repo(req: Request, owner: str, repo_id: int, private: bool) -> bool:
    """Whether the repository exists for this caller (GitHub answers 404 otherwise)."""
    who = req.principal
    if who is None or who.kind == "app":
        return not private
    token = who.token
    assert token is not None
    if who.kind == "classic":
        return not private or "repo" in who.scopes
    if token.orgs is not None and owner.lower() not in token.orgs:
        return not private
    return token.repository_ids is None or repo_id in token.repository_ids or not private


def require_repo(req: Request, owner: str, repo_id: int, permission: str, level: str) -> None:
    """403 unless the caller has ``permission`` at ``level`` on the repository (classic: repo)."""
    who = req.who()
    if who.kind == "app":
        raise ApiError(403, "Resource not accessible by integration")
    token = who.token
    assert token is not None
    if who.kind == "classic":
        if "repo" not in who.scopes:
            raise _denied(req, "repo", permission, level)
        return
    in_scope = (token.orgs is None or owner.lower() in token.orgs) and (
        token.repository_ids is None or repo_id in token.repository_ids
    )
    if not in_scope or not _satisfies(who.level(permission), level):
        raise _denied(req, "repo", permission, level)


def page_args(req: Request) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        try:
            return max(1, int(req.query.get(name, default)))
        except ValueError:
            return default

    return min(number("per_page", 30), 100), number("page", 1)


def link_header(req: Request, page: int, per_page: int, total: int) -> dict[str, str]:
    """GitHub's ``Link`` header (prev, next, last, first) for a page of ``total`` items."""
    last = max(1, -(-total // per_page))
    if last == 1 and page == 1:
        return {}
    query = {k: v for k, v in req.query.items() if k not in ("page", "per_page")}

    def url(number: int) -> str:
        parts = [f"{k}={v}" for k, v in query.items()]
        parts += [f"per_page={per_page}", f"page={number}"]
        return f"<{req.base}{req.path}?{'&'.join(parts)}>"

    links = []
    if page > 1:
        links.append(f'{url(min(page - 1, last))}; rel="prev"')
    if page < last:
        links.append(f'{url(page + 1)}; rel="next"')
        links.append(f'{url(last)}; rel="last"')
    if page > 1:
        links.append(f'{url(1)}; rel="first"')
    return {"Link": ", ".join(links)} if links else {}


class Handler(BaseHTTPRequestHandler):
    """Turns one HTTP request into a routed call; every method goes through ``_handle``."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each keep-alive answer would
    # wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "GitHub.com"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: the fake's call log is the record, and stderr noise would hide test output."""

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        fake: FakeGitHub = self.server.fake  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        req = Request(
            fake=fake,
            method=method,
            path=path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            raw_body=raw,
            base=fake.url,
        )
        is_control = path.startswith("/_fake/control")
        is_github = not path.startswith("/_fake/")
        extra: dict[str, str] = {}
        try:
            fault = None if is_control else fake.take_fault(method, path)
            if fault is not None:
                status, headers, body = fault
                response = Response(int(status), body, dict(headers))
                if is_github:
                    response.headers = (
                        self._rate_headers(fake, "core", anonymous=False) | response.headers
                    )
                self._send(req, response)
                return
            response = self._dispatch(req, extra, is_github)
        except ApiError as err:
            response = Response(err.status, err.body(), err.headers)
        except Exception as exc:  # a bug in the fake must surface as an answer, not a hang
            response = Response(500, {"message": f"fake GitHub error: {type(exc).__name__}: {exc}"})
        response.headers = extra | response.headers
        self._send(req, response)

    def _dispatch(self, req: Request, extra: dict[str, str], is_github: bool) -> Response:
        fake = req.fake
        matched: Route | None = None
        for candidate in ROUTES:
            if candidate.method == req.method:
                found = candidate.pattern.match(req.path)
                if found:
                    matched = candidate
                    req.params = {k: unquote(v) for k, v in found.groupdict().items()}
                    break
        if not is_github:
            if matched is None:
                raise not_found()
            return matched.fn(req)
        version = req.headers.get("x-github-api-version")
        if version is not None and version != API_VERSION:
            raise ApiError(400, f"API version '{version}' is not supported.")
        kind = matched.kind if matched else "rest"
        resource = "search" if kind == "search" else "core"
        # A 401 charges nothing but still carries the (anonymous) rate-limit headers.
        extra.update(self._rate_headers(fake, resource, anonymous=True))
        authenticate(req, kind)
        who = req.principal
        if who is not None and who.kind == "classic" and who.token is not None:
            extra["X-OAuth-Scopes"] = ", ".join(who.token.scopes)
        if kind == "free":  # GET /rate_limit costs nothing, as on GitHub
            return matched.fn(req) if matched else Response(404)
        key = who.rate_key if who else f"ip:{self.client_address[0]}"
        bucket, allowed = fake.spend(key, resource, anonymous=who is None)
        extra.update(self._bucket_headers(bucket, resource))
        if not allowed:
            if who is None:
                subject = str(self.client_address[0])
            elif who.token is not None and who.token.installation_id is not None:
                subject = f"installation ID {who.token.installation_id}"
            else:
                subject = f"user ID {fake.user_id}"
            raise ApiError(
                403,
                f"API rate limit exceeded for {subject}.",
                doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            )
        if matched is None:
            raise not_found()
        return matched.fn(req)

    @staticmethod
    def _bucket_headers(bucket: Any, resource: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(0, bucket.limit - bucket.used)),
            "X-RateLimit-Reset": str(int(bucket.reset_at)),
            "X-RateLimit-Used": str(bucket.used),
            "X-RateLimit-Resource": resource,
        }

    @staticmethod
    def _rate_headers(fake: FakeGitHub, resource: str, *, anonymous: bool) -> dict[str, str]:
        """Headers for answers that charged nothing (401s, injected faults)."""
        limit = fake.limit_for(resource, anonymous=anonymous)
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": "0",
            "X-RateLimit-Resource": resource,
        }

    def _send(self, req: Request, response: Response) -> None:
        body = response.body
        if body is None or response.status == 204:
            payload = b""
            content_type = None
        elif isinstance(body, bytes | str):
            payload = body.encode() if isinstance(body, str) else body
            content_type = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(body).encode()
            content_type = "application/json; charset=utf-8"
        # Logged before the answer leaves, so a client that reads the log after the answer
        # always finds its own call there.
        req.fake.log_call(
            Call(req.method, req.path, req.query, response.status, time.time(), req.credential)
        )
        self.send_response(response.status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if not req.path.startswith("/_fake/"):
            self.send_header("X-GitHub-Api-Version-Selected", API_VERSION)
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            self.send_header("X-GitHub-Request-Id", secrets.token_hex(8).upper())
        for name, value in response.headers.items():
            self.send_header(name, str(value))
        self.end_headers()
        if req.method != "HEAD" and payload:
            self.wfile.write(payload)
