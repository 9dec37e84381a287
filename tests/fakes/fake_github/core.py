"""``FakeGitHub``: the fake's world, its Python control API and its HTTP server's lifetime.

Every method is thread-safe: one re-entrant lock (with a condition for long-polling runners) guards
the whole world. Misuse from a test (an unknown org, a duplicate repository) raises ``ValueError``
naming the bad argument; what HTTP clients do wrong is answered the way GitHub answers it.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .state import (
    DEFAULT_LABELS,
    App,
    Job,
    Label,
    Org,
    Repo,
    Runner,
    RunnerGroup,
    Token,
    Visibility,
    fingerprint,
    label_type,
)

#: One injected answer: (status, headers, body). A dict/list body is sent as JSON, str as text.
FaultResponse = tuple[int, Mapping[str, str], Any]


class Call(NamedTuple):
    """One request the fake answered. The credential is a fingerprint, never the secret."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    timestamp: float
    credential: str | None


@dataclass
class Fault:
    pattern: re.Pattern[str]
    method: str
    responses: deque[FaultResponse]


@dataclass
class Bucket:
    limit: int
    used: int = 0
    reset_at: float = field(default_factory=lambda: time.time() + 3600)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeGitHub


class FakeGitHub:
    """A fake GitHub REST API (2022-11-28) on 127.0.0.1, plus the private /_fake/ protocol.

    Use as a context manager, or call ``start()`` and ``stop()``. ``url`` is the API base URL to
    give the code under test, like ``https://api.github.com``.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        rate_limit: int = 5000,
        search_rate_limit: int = 30,
        user_login: str = "fake-admin",
    ) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.user_login = user_login
        self.user_id = 583231
        self.started_at = time.time()
        self.rate_limits = {"core": rate_limit, "search": search_rate_limit}
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.stopping = False

        self.orgs: dict[str, Org] = {}
        self.repos_by_id: dict[int, Repo] = {}
        self.tokens: dict[str, Token] = {}
        self.apps: dict[int, App] = {}
        self.apps_by_installation: dict[int, App] = {}
        self.runners_by_id: dict[int, Runner] = {}
        self.runners_by_scope: dict[tuple[str, str], dict[int, Runner]] = {}
        self.runner_names: dict[tuple[str, str], dict[str, int]] = {}
        self.runners_by_credential: dict[str, int] = {}
        self.jobs_by_id: dict[int, Job] = {}
        self.queue: list[int] = []
        self.label_ids: dict[str, int] = {}
        self.faults: list[Fault] = []
        self.call_log: list[Call] = []
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.exhausted_until: float = 0.0

        self._org_ids = itertools.count(9_100_001)
        self._repo_ids = itertools.count(700_000_001)
        self._runner_ids = itertools.count(1)
        self._job_ids = itertools.count(1)
        self._run_ids = itertools.count(5_000_001)
        self._label_ids = itertools.count(1)

    # ----------------------------------------------------------------------------- lifetime
    def start(self) -> FakeGitHub:
        if self._server is not None:
            return self
        from . import control, private, rest  # noqa: F401  (importing registers their routes)
        from .handler import Handler

        server = _Server(("127.0.0.1", self._port), Handler)
        server.fake = self
        self._server = server
        self.stopping = False
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"fake-github:{server.server_address[1]}"
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        with self.lock:
            self.stopping = True
            self.changed.notify_all()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeGitHub is not started; call start() or use it in a with block")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    # ----------------------------------------------------------------------------- the world
    def add_org(self, login: str) -> Org:
        if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", login):
            raise ValueError(f"add_org: login {login!r} is not a valid GitHub login")
        with self.lock:
            if login.lower() in self.orgs:
                raise ValueError(f"add_org: organization {login!r} already exists")
            org = Org(login=login, id=next(self._org_ids), created_at=time.time())
            org.groups[1] = RunnerGroup(id=1, org=login, name="Default", default=True)
            self.orgs[login.lower()] = org
            return org

    def org(self, login: str) -> Org:
        with self.lock:
            try:
                return self.orgs[login.lower()]
            except KeyError:
                raise ValueError(f"unknown organization {login!r}; add it with add_org") from None

    def add_repo(self, org: str, name: str, private: bool = True) -> Repo:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name):
            raise ValueError(f"add_repo: repository name {name!r} is not valid")
        with self.lock:
            owner = self.org(org)
            if name.lower() in owner.repos:
                raise ValueError(f"add_repo: repository {org}/{name} already exists")
            repo = Repo(
                id=next(self._repo_ids),
                owner=owner.login,
                owner_id=owner.id,
                name=name,
                private=private,
                created_at=time.time(),
            )
            owner.repos[name.lower()] = repo
            self.repos_by_id[repo.id] = repo
            return repo

    def repo(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        with self.lock:
            found = self.orgs.get(owner.lower())
            repo = found.repos.get(name.lower()) if found else None
            if repo is None:
                raise ValueError(
                    f"unknown repository {full_name!r}; expected 'owner/name' added with add_repo"
                )
            return repo

    def add_token(
        self,
        token: str,
        *,
        scopes: Sequence[str] | None = None,
        permissions: Mapping[str, str] | None = None,
        login: str | None = None,
        orgs: Iterable[str] | None = None,
        repositories: Iterable[str] | None = None,
        expires_in: float | None = None,
    ) -> None:
        """Accept ``token``: a classic PAT with ``scopes``, or a fine-grained one with
        ``permissions`` (e.g. ``{"organization_self_hosted_runners": "write"}``), limited to
        ``orgs``/``repositories`` ('owner/name') when given."""
        if scopes is not None and permissions is not None:
            raise ValueError("add_token: give scopes (classic PAT) or permissions, not both")
        if not token or token != token.strip():
            raise ValueError("add_token: token must be non-empty without surrounding spaces")
        _check_permissions("add_token", permissions or {})
        with self.lock:
            repo_ids = (
                frozenset(self.repo(name).id for name in repositories)
                if repositories is not None
                else None
            )
            self.tokens[fingerprint(token)] = Token(
                value_fingerprint=fingerprint(token),
                kind="classic" if permissions is None else "fine_grained",
                login=login or self.user_login,
                scopes=tuple(scopes or ()),
                permissions=dict(permissions or {}),
                orgs=frozenset(o.lower() for o in orgs) if orgs is not None else None,
                repository_ids=repo_ids,
                expires_at=time.time() + expires_in if expires_in is not None else None,
            )

    def expire_token(self, token: str) -> None:
        """Make ``token`` (any kind, including minted ones) answer 401 from now on."""
        with self.lock:
            found = self.tokens.get(fingerprint(token))
            if found is None:
                raise ValueError("expire_token: the fake does not know that token")
            found.expires_at = time.time() - 1

    def add_app(
        self,
        app_id: int,
        installation_id: int,
        org: str,
        permissions: Mapping[str, str],
        *,
        repositories: Iterable[str] | None = None,
        slug: str | None = None,
    ) -> str:
        """Register a GitHub App installed on ``org``; returns its new private key (PEM)."""
        _check_permissions("add_app", permissions)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with self.lock:
            owner = self.org(org)
            if app_id in self.apps or installation_id in self.apps_by_installation:
                raise ValueError(f"add_app: app {app_id} or installation {installation_id} exists")
            repo_ids = (
                frozenset(self.repo(name).id for name in repositories)
                if repositories is not None
                else None
            )
            app = App(
                app_id=app_id,
                slug=slug or f"fake-app-{app_id}",
                installation_id=installation_id,
                org=owner.login,
                permissions=dict(permissions),
                public_key_pem=public,
                repository_selection="all" if repo_ids is None else "selected",
                repository_ids=repo_ids,
            )
            self.apps[app_id] = app
            self.apps_by_installation[installation_id] = app
        return pem

    def add_runner_group(
        self,
        org: str,
        name: str,
        *,
        visibility: Visibility = "all",
        selected_repositories: Iterable[str] = (),
        allows_public_repositories: bool = False,
        restricted_to_workflows: bool = False,
        selected_workflows: Iterable[str] = (),
    ) -> RunnerGroup:
        if visibility not in ("all", "selected", "private"):
            raise ValueError(
                f"add_runner_group: visibility {visibility!r} is not all/selected/private"
            )
        with self.lock:
            owner = self.org(org)
            ids = [self.repo(full).id for full in selected_repositories]
            return self.create_group(
                owner,
                name=name,
                visibility=visibility,
                selected_repository_ids=ids,
                allows_public_repositories=allows_public_repositories,
                restricted_to_workflows=restricted_to_workflows,
                selected_workflows=list(selected_workflows),
            )

    def create_group(self, owner: Org, **fields: Any) -> RunnerGroup:
        with self.lock:
            if any(g.name.lower() == str(fields["name"]).lower() for g in owner.groups.values()):
                raise ValueError(f"runner group {fields['name']!r} already exists in {owner.login}")
            group_id = max(owner.groups) + 1
            group = RunnerGroup(id=group_id, org=owner.login, **fields)
            owner.groups[group_id] = group
            self.changed.notify_all()
            return group

    def add_runners(
        self,
        *,
        org: str | None = None,
        repository: str | None = None,
        count: int = 1,
        group_id: int = 1,
        labels: Sequence[str] = DEFAULT_LABELS,
        name_prefix: str = "runner",
        online: bool = False,
        ephemeral: bool = False,
    ) -> list[Runner]:
        """Create ``count`` runners directly (no registration calls), e.g. 10,000 for a benchmark.
        They are offline unless ``online``; their credentials are not retrievable."""
        if (org is None) == (repository is None):
            raise ValueError("add_runners: give exactly one of org= or repository=")
        with self.lock:
            scope = self.scope_of(org=org, repository=repository)
            made = []
            for _ in range(count):
                name = f"{name_prefix}-{secrets.token_hex(6)}"
                runner, _credential = self.create_runner(scope, name, group_id, labels, ephemeral)
                if online:
                    runner.status = "online"
                    runner.session_id = secrets.token_hex(8)
                made.append(runner)
            self.changed.notify_all()
            return made

    def scope_of(self, *, org: str | None = None, repository: str | None = None) -> tuple[str, str]:
        if org is not None:
            return ("org", self.org(org).login.lower())
        assert repository is not None
        return ("repo", str(self.repo(repository).id))

    @property
    def runners(self) -> list[Runner]:
        """A snapshot of every registered runner, oldest first."""
        with self.lock:
            return list(self.runners_by_id.values())

    @property
    def jobs(self) -> list[Job]:
        """Every job ever queued, in queue order (the objects update as jobs run)."""
        with self.lock:
            return list(self.jobs_by_id.values())

    # ----------------------------------------------------------------------------- runners
    def label_objects(self, names: Iterable[str]) -> list[Label]:
        out: list[Label] = []
        seen: set[str] = set()
        for name in names:
            key = name.lower()
            if key in seen:
                continue
            seen.add(key)
            if key not in self.label_ids:
                self.label_ids[key] = next(self._label_ids)
            out.append(Label(id=self.label_ids[key], name=name, type=label_type(name)))
        return out

    def create_runner(
        self,
        scope: tuple[str, str],
        name: str,
        group_id: int,
        labels: Iterable[str],
        ephemeral: bool,
    ) -> tuple[Runner, str]:
        """Register a runner; returns it and its fresh credential (known only to the caller)."""
        with self.lock:
            names = self.runner_names.setdefault(scope, {})
            if name.lower() in names:
                raise ValueError(f"runner name {name!r} is taken")
            credential = "fakerunner_" + secrets.token_urlsafe(24)
            runner = Runner(
                id=next(self._runner_ids),
                name=name,
                scope=scope,
                group_id=group_id,
                labels=self.label_objects(labels),
                ephemeral=ephemeral,
                credential_fingerprint=fingerprint(credential),
            )
            self.runners_by_id[runner.id] = runner
            self.runners_by_scope.setdefault(scope, {})[runner.id] = runner
            names[name.lower()] = runner.id
            self.runners_by_credential[runner.credential_fingerprint] = runner.id
            return runner, credential

    def runner_by_name(self, scope: tuple[str, str], name: str) -> Runner | None:
        with self.lock:
            runner_id = self.runner_names.get(scope, {}).get(name.lower())
            return self.runners_by_id.get(runner_id) if runner_id is not None else None

    def delete_runner(self, runner: Runner) -> None:
        with self.lock:
            self.runners_by_id.pop(runner.id, None)
            self.runners_by_scope.get(runner.scope, {}).pop(runner.id, None)
            names = self.runner_names.get(runner.scope, {})
            if names.get(runner.name.lower()) == runner.id:
                del names[runner.name.lower()]
            self.runners_by_credential.pop(runner.credential_fingerprint, None)
            job = self.jobs_by_id.get(runner.job_id) if runner.job_id is not None else None
            if job is not None and job.status == "in_progress":
                # GitHub fails a job whose runner vanished; it never hands it to another runner.
                job.status = "completed"
                job.conclusion = "failure"
                job.output = "The runner was removed before it reported a result."
                job.completed_at = time.time()
            runner.status = "offline"
            runner.session_id = None
            runner.busy = False
            runner.job_id = None
            self.changed.notify_all()

    # ----------------------------------------------------------------------------- jobs
    def queue_job(
        self,
        repository: str,
        labels: Sequence[str],
        script: str = "",
        *,
        workflow: str | None = None,
    ) -> Job:
        """Queue a job of ``repository`` ('owner/name') for a runner carrying all ``labels``.
        ``workflow`` (``owner/repo/.github/workflows/x.yml@ref``) matters for groups restricted
        to workflows."""
        if not labels or not all(isinstance(lb, str) and lb for lb in labels):
            raise ValueError("queue_job: labels must be a non-empty list of non-empty strings")
        with self.lock:
            repo = self.repo(repository)
            job = Job(
                id=next(self._job_ids),
                run_id=next(self._run_ids),
                repository=repo.full_name,
                repository_id=repo.id,
                labels=list(labels),
                script=script,
                workflow=workflow,
            )
            self.jobs_by_id[job.id] = job
            self.queue.append(job.id)
            self.changed.notify_all()
            return job

    def eligible(self, runner: Runner, job: Job) -> bool:
        """GitHub's routing rule: labels, then the group's allowlist or the runner's repository."""
        have = {label.name.lower() for label in runner.labels}
        if not all(label.lower() in have for label in job.labels):
            return False
        repo = self.repos_by_id[job.repository_id]
        kind, key = runner.scope
        if kind == "repo":
            return int(key) == repo.id
        org = self.orgs.get(key)
        group = org.groups.get(runner.group_id) if org else None
        return group is not None and group.allows(repo, job.workflow)

    def take_job(self, runner: Runner, wait: float) -> Job | None:
        """Long-poll for the oldest queued job this runner may run; None after ``wait``."""
        deadline = time.monotonic() + wait
        with self.changed:
            while not self.stopping and runner.id in self.runners_by_id:
                if (
                    runner.status == "online"
                    and not runner.busy
                    and not (runner.ephemeral and runner.jobs_taken)
                ):
                    for job_id in self.queue:
                        job = self.jobs_by_id[job_id]
                        if self.eligible(runner, job):
                            self.queue.remove(job_id)
                            job.status = "in_progress"
                            job.runner_id = runner.id
                            job.runner_name = runner.name
                            job.started_at = time.time()
                            job.assignments += 1
                            runner.busy = True
                            runner.job_id = job.id
                            runner.jobs_taken += 1
                            self.changed.notify_all()
                            return job
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.changed.wait(remaining)
            return None

    def finish_job(
        self, runner: Runner, job: Job, conclusion: str, exit_code: int, output: str
    ) -> None:
        with self.lock:
            job.results += 1
            job.status = "completed"
            job.conclusion = conclusion
            job.exit_code = exit_code
            job.output = output
            job.completed_at = time.time()
            runner.busy = False
            runner.job_id = None
            if runner.ephemeral:
                self.delete_runner(runner)
            self.changed.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Block until ``predicate()`` (evaluated under the lock) holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(min(remaining, 0.5))
            return True

    def wait_for_job(self, job: Job, timeout: float = 30.0) -> Job:
        """Wait until ``job`` completes; raises TimeoutError naming the job and its state."""
        if not self.wait_until(lambda: job.status == "completed", timeout):
            raise TimeoutError(
                f"job {job.id} of {job.repository} labels {job.labels} still {job.status} "
                f"after {timeout}s"
            )
        return job

    # ----------------------------------------------------------------------------- faults, log
    def inject(self, path_regex: str, method: str, responses: Sequence[FaultResponse]) -> None:
        """Answer the next requests whose path matches ``path_regex`` (re.search) and whose
        method is ``method`` ("*" for any) with ``responses``, each used once, in order."""
        try:
            pattern = re.compile(path_regex)
        except re.error as exc:
            raise ValueError(f"inject: path_regex {path_regex!r} is not a regex: {exc}") from None
        for status, headers, _body in responses:
            if not 100 <= int(status) <= 599 or not isinstance(headers, Mapping):
                raise ValueError(
                    f"inject: ({status}, {headers!r}, ...) is not (status, headers, body)"
                )
        with self.lock:
            self.faults.append(Fault(pattern, method.upper(), deque(responses)))

    def take_fault(self, method: str, path: str) -> FaultResponse | None:
        with self.lock:
            for fault in self.faults:
                if fault.responses and fault.method in ("*", method) and fault.pattern.search(path):
                    response = fault.responses.popleft()
                    if not fault.responses:
                        self.faults.remove(fault)
                    return response
            return None

    def pending_faults(self) -> int:
        with self.lock:
            return sum(len(fault.responses) for fault in self.faults)

    @property
    def calls(self) -> list[Call]:
        """A snapshot of the call log, oldest first."""
        with self.lock:
            return list(self.call_log)

    def count(self, method: str, path_regex: str, status: int | None = None) -> int:
        """How many logged calls used ``method`` ("*" for any) on a path matching the regex."""
        pattern = re.compile(path_regex)
        with self.lock:
            return sum(
                1
                for call in self.call_log
                if method.upper() in ("*", call.method)
                and pattern.search(call.path)
                and (status is None or call.status == status)
            )

    def clear_calls(self) -> None:
        with self.lock:
            self.call_log.clear()

    def log_call(self, call: Call) -> None:
        with self.lock:
            self.call_log.append(call)

    # ----------------------------------------------------------------------------- rate limits
    def set_rate_limit(self, limit: int, resource: str = "core") -> None:
        """Budget per credential per hour for ``resource`` ("core" or "search")."""
        if limit < 0 or resource not in self.rate_limits:
            raise ValueError(
                f"set_rate_limit: need limit >= 0 and resource core/search, "
                f"got {limit}, {resource!r}"
            )
        with self.lock:
            self.rate_limits[resource] = limit
            for (_key, res), bucket in self.buckets.items():
                if res == resource:
                    bucket.limit = limit

    def exhaust_rate_limit(self, reset_in: float = 60.0) -> None:
        """Every credential has 0 requests left until ``reset_in`` seconds from now."""
        with self.lock:
            self.exhausted_until = time.time() + reset_in

    def limit_for(self, resource: str, *, anonymous: bool = False) -> int:
        """GitHub's budgets: 60 core / 10 search requests for anonymous callers."""
        limit = self.rate_limits[resource]
        return min(limit, 10 if resource == "search" else 60) if anonymous else limit

    def spend(self, key: str, resource: str, *, anonymous: bool = False) -> tuple[Bucket, bool]:
        """Charge one request; returns the bucket and whether the request is allowed."""
        now = time.time()
        with self.lock:
            bucket = self.buckets.get((key, resource))
            if bucket is None or now >= bucket.reset_at:
                window = 60 if resource == "search" else 3600
                limit = self.limit_for(resource, anonymous=anonymous)
                bucket = Bucket(limit=limit, reset_at=now + window)
                self.buckets[(key, resource)] = bucket
            if now < self.exhausted_until:
                bucket.used = bucket.limit
                bucket.reset_at = max(bucket.reset_at, self.exhausted_until)
            if bucket.used >= bucket.limit:
                return bucket, False
            bucket.used += 1
            return bucket, True


#: Permission names the fake understands, with the levels GitHub allows.
KNOWN_PERMISSIONS = {
    "organization_self_hosted_runners": ("read", "write"),
    "administration": ("read", "write"),
    "metadata": ("read", "write"),
    "actions": ("read", "write"),
    "members": ("read", "write"),
    "organization_administration": ("read", "write"),
    "contents": ("read", "write"),
}


def _check_permissions(where: str, permissions: Mapping[str, str]) -> None:
    for name, level in permissions.items():
        if name not in KNOWN_PERMISSIONS or level not in KNOWN_PERMISSIONS[name]:
            raise ValueError(
                f"{where}: permission {name}={level!r} unknown; use one of "
                f"{sorted(KNOWN_PERMISSIONS)} with 'read' or 'write'"
            )
