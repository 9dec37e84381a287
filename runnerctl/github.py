"""A small GitHub REST client for runnerctl: token or GitHub App auth, pagination, bounded retries.

Every call goes through ``GitHubClient.request``, which retries transport errors, 5xx answers and
rate limits with bounded exponential backoff (tenacity), honouring ``Retry-After`` and, when the
budget is spent, ``X-RateLimit-Reset``. A wait longer than ``max_wait`` is not slept through: the
client fails at once with a line saying when the limit resets. Anything else GitHub refuses becomes
one ``GitHubError`` line naming the call and what to do; the credential never appears in a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import jwt
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from runnerctl import __version__
from runnerctl.errors import GitHubError

API_VERSION: Final = "2022-11-28"
PER_PAGE: Final = 100
#: Secondary rate limits come without a reset time; GitHub asks clients to wait a minute.
SECONDARY_LIMIT_WAIT: Final = 60.0
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


class _Retryable(Exception):
    """An answer or transport failure worth another try; ``delay`` is GitHub's own hint."""

    def __init__(self, message: str, status: int, delay: float | None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.delay = delay


def _message_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return ""


def _rate_limit_delay(response: httpx.Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or None when the answer is not a rate limit."""
    headers = response.headers
    retry_after = headers.get("Retry-After")
    remaining = headers.get("X-RateLimit-Remaining")
    limited = response.status_code == 429 or (
        response.status_code == 403
        and (retry_after is not None or remaining == "0" or "rate limit" in _message_of(response))
    )
    if not limited:
        return None
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    reset = headers.get("X-RateLimit-Reset")
    if remaining == "0" and reset is not None:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    return SECONDARY_LIMIT_WAIT


def _explain(method: str, path: str, response: httpx.Response) -> str:
    status = response.status_code
    message = _message_of(response) or response.reason_phrase
    call = f"{method} {path}"
    if status == 401:
        return (
            f"GitHub refused the credential ({status} {message}) on {call}; "
            "check it with `runnerctl doctor`"
        )
    if status == 403:
        needed = response.headers.get("X-Accepted-GitHub-Permissions") or response.headers.get(
            "X-Accepted-OAuth-Scopes"
        )
        hint = f"; the credential needs {needed}" if needed else ""
        return f"GitHub denied {call} ({status} {message}){hint}"
    if status == 404:
        return f"GitHub has no {path} (404), or the credential cannot see it"
    return f"GitHub answered {status} to {call}: {message}"


class GitHubClient:
    """GitHub's REST API as one credential sees it.

    ``credential`` is a token, or the App's private key (PEM) when ``app_id`` is set; then the
    client signs a JWT and exchanges it for an installation token on first use.
    """

    def __init__(
        self,
        api_url: str,
        credential: str,
        *,
        app_id: int = 0,
        installation_id: int = 0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._credential = credential.strip()
        self.app_id = app_id
        self.installation_id = installation_id
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._sleep = sleep
        self._token: str | None = None if app_id else self._credential
        self._token_expires = 0.0
        #: Installation permissions (App auth), from the access-token answer.
        self.installation_permissions: dict[str, str] | None = None
        #: Requests sent, retries included.
        self.requests_sent = 0
        #: Waits slept between tries, in seconds (for tests and progress).
        self.waits: list[float] = []
        self._http = httpx.Client(
            timeout=timeout,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"runnerctl/{__version__}",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ auth
    def _app_jwt(self) -> str:
        now = int(time.time())
        claims = {"iat": now - 60, "exp": now + 540, "iss": str(self.app_id)}
        try:
            return jwt.encode(claims, self._credential, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            raise GitHubError(
                "the credential is not a usable GitHub App private key (PEM); "
                "give the App's .pem file with --credential-file"
            ) from None

    def token(self) -> str:
        """The bearer token: the credential itself, or a fresh installation token."""
        if self._token is not None and (not self.app_id or time.time() < self._token_expires):
            return self._token
        path = f"/app/installations/{self.installation_id}/access_tokens"
        response = self._send("POST", self.api_url + path, self._app_jwt(), None, None)
        if response.status_code != 201:
            raise GitHubError(_explain("POST", path, response), response.status_code)
        body = response.json()
        self._token = str(body["token"])
        self._token_expires = time.time() + 50 * 60
        permissions = body.get("permissions")
        self.installation_permissions = dict(permissions) if isinstance(permissions, dict) else {}
        return self._token

    # ------------------------------------------------------------------ requests
    def _send(
        self,
        method: str,
        url: str,
        bearer: str,
        params: Mapping[str, Any] | None,
        body: Any,
    ) -> httpx.Response:
        """One logical request with bounded retries; returns the final non-retryable answer."""
        path = url.removeprefix(self.api_url).split("?", 1)[0] or "/"

        def attempt() -> httpx.Response:
            self.requests_sent += 1
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {bearer}"},
                )
            except httpx.TransportError as error:
                reason = type(error).__name__
                raise _Retryable(
                    f"GitHub at {self.api_url} could not be reached ({reason})", 0, None
                ) from None
            delay = _rate_limit_delay(response, time.time())
            if delay is not None:
                if delay > self.max_wait:
                    resets = datetime.fromtimestamp(time.time() + delay, UTC)
                    raise GitHubError(
                        f"GitHub's rate limit is exhausted for this credential until "
                        f"{resets:%H:%M:%S} UTC (in {delay:.0f}s); try again then",
                        response.status_code,
                    )
                raise _Retryable(
                    f"GitHub rate-limited {method} {path} ({response.status_code})",
                    response.status_code,
                    delay,
                )
            if response.status_code >= 500:
                raise _Retryable(_explain(method, path, response), response.status_code, None)
            return response

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            hint = error.delay if isinstance(error, _Retryable) else None
            seconds = hint if hint is not None else min(8.0, 0.5 * 2 ** (state.attempt_number - 1))
            self.waits.append(seconds)
            return seconds

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as error:
            raise GitHubError(
                f"{error.message}; gave up after {self.max_attempts} tries", error.status
            ) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        expected: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send ``method path``; any status outside ``expected`` raises ``GitHubError``."""
        url = path if path.startswith("http") else self.api_url + path
        response = self._send(method, url, self.token(), params, body)
        if response.status_code not in expected:
            raise GitHubError(_explain(method, path, response), response.status_code)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).json()

    def paginate(self, path: str, key: str | None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a listing, 100 per page, following GitHub's ``Link: rel="next"``."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **params}
        while url is not None:
            response = self.request("GET", url, params=query)
            data = response.json()
            items = data.get(key, []) if key is not None else data
            yield from items
            found = _NEXT_LINK.search(response.headers.get("Link", ""))
            url, query = (found.group(1), None) if found else (None, None)
