"""runnerctl's GitHub client against the fake: pagination, bounded retries, rate limits, Apps."""

from __future__ import annotations

import pytest

from runnerctl.errors import GitHubError
from runnerctl.github import GitHubClient
from tests.fakes.fake_github import FakeGitHub

TOKEN = "ghp_client_tests_token_0000000000000"


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_org("acme")
    fake_github.add_token(TOKEN, scopes=["admin:org", "repo"])
    return fake_github


def client(fake: FakeGitHub, waits: list[float]) -> GitHubClient:
    return GitHubClient(fake.url, TOKEN, sleep=waits.append, max_attempts=4)


def test_pagination_costs_one_call_per_100_items(fake: FakeGitHub) -> None:
    fake.add_runners(org="acme", count=250)
    with client(fake, []) as github:
        items = list(github.paginate("/orgs/acme/actions/runners", "runners"))
    assert len(items) == 250, f"expected every runner, got {len(items)}"
    calls = fake.count("GET", r"^/orgs/acme/actions/runners$")
    assert calls == 3, f"expected 3 pages of 100, got {calls} calls"


def test_retry_after_is_honoured_then_the_call_succeeds(fake: FakeGitHub) -> None:
    fake.inject(r"^/orgs/acme$", "GET", [(429, {"Retry-After": "7"}, {"message": "slow down"})])
    waits: list[float] = []
    with client(fake, waits) as github:
        body = github.get("/orgs/acme")
    assert body["login"] == "acme", f"expected the org after the retry, got {body}"
    assert waits == [7.0], f"expected one wait of Retry-After's 7 s, got {waits}"


def test_server_errors_back_off_exponentially_and_give_up_with_one_line(fake: FakeGitHub) -> None:
    fake.inject(r"^/orgs/acme$", "GET", [(502, {}, {"message": "Bad gateway"})] * 4)
    waits: list[float] = []
    with client(fake, waits) as github, pytest.raises(GitHubError, match="gave up after 4") as err:
        github.get("/orgs/acme")
    assert waits == [0.5, 1.0, 2.0], f"expected bounded exponential waits, got {waits}"
    assert "\n" not in str(err.value), f"expected one line, got {err.value!s}"


def test_exhausted_rate_limit_fails_at_once_naming_the_reset(fake: FakeGitHub) -> None:
    fake.exhaust_rate_limit(reset_in=3600)
    waits: list[float] = []
    with client(fake, waits) as github, pytest.raises(GitHubError, match="UTC") as err:
        github.get("/orgs/acme")
    assert "rate limit is exhausted" in str(err.value), f"expected the cause named: {err.value}"
    assert waits == [], f"expected no hour-long sleep, got {waits}"


def test_app_key_is_exchanged_for_an_installation_token(fake: FakeGitHub) -> None:
    pem = fake.add_app(9, 99, "acme", {"organization_self_hosted_runners": "write"})
    with GitHubClient(fake.url, pem, app_id=9, installation_id=99) as github:
        groups = github.get("/orgs/acme/actions/runner-groups")
        permissions = github.installation_permissions
    assert groups["total_count"] == 1, f"expected the Default group, got {groups}"
    assert permissions == {"organization_self_hosted_runners": "write"}, f"got {permissions}"
    assert fake.count("POST", r"/app/installations/99/access_tokens") == 1, "expected one exchange"


def test_a_bad_app_key_is_one_clear_line(fake: FakeGitHub) -> None:
    with (
        GitHubClient(fake.url, "not a pem", app_id=9, installation_id=99) as github,
        pytest.raises(GitHubError, match="not a usable GitHub App private key"),
    ):
        github.get("/orgs/acme")


def test_unreachable_github_is_one_line_after_bounded_tries() -> None:
    waits: list[float] = []
    github = GitHubClient("http://127.0.0.1:9", TOKEN, sleep=waits.append, max_attempts=2)
    with github, pytest.raises(GitHubError, match="could not be reached"):
        github.get("/orgs/acme")
    assert len(waits) == 1, f"expected one wait between two tries, got {waits}"
