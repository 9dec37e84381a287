"""A faithful fake of GitHub's REST API (2022-11-28) for tests and benchmarks.

``FakeGitHub`` serves GitHub's documented runner, runner-group, organization, repository and App
endpoints on 127.0.0.1 from a background thread, plus the private ``/_fake/`` protocol of
``tests/fakes/PROTOCOL.md``. Run it standalone with ``python -m tests.fakes.fake_github``.
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
