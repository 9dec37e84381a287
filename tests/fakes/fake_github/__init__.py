"""A faithful fake of GitHub's REST API (2022-11-28) for tests and benchmarks.

``FakeGitHub`` serves GitHub's documented runner, runner-group, label, organization, repository,
search, user and App endpoints on 127.0.0.1 from a background thread, plus the private
``/_fake/`` protocol of ``tests/fakes/PROTOCOL.md``. In short::

    with FakeGitHub() as fake:                      # or the ``fake_github`` pytest fixture
        fake.add_org("virtuoso902")
        fake.add_repo("virtuoso902", "coach")        # private by default
        fake.add_token("ghp_x", scopes=["admin:org"])  # or permissions={...}
        pem = fake.add_app(1, 2, "virtuoso902", {"organization_self_hosted_runners": "write"})
        job = fake.queue_job("virtuoso902/coach", ["self-hosted"], "echo hi")
        ...                                          # code under test talks to fake.url
        fake.wait_for_job(job)                       # then job.runner_id, .exit_code, .output

Faults: ``inject(path_regex, method, [(status, headers, body), ...])``, ``expire_token``,
``set_rate_limit``, ``exhaust_rate_limit``. Records: ``calls`` (credentials as fingerprints),
``count``, ``runners``, ``jobs``. Standalone: ``python -m tests.fakes.fake_github --port 0``.
"""

from .core import Call, FakeGitHub, FaultResponse
from .state import App, Job, Label, Org, Repo, Runner, RunnerGroup

__all__ = [
    "App",
    "Call",
    "FakeGitHub",
    "FaultResponse",
    "Job",
    "Label",
    "Org",
    "Repo",
    "Runner",
    "RunnerGroup",
]
