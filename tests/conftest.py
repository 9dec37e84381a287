"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from typing import Any

import pytest

# --- Docker -------------------------------------------------------------------------------------
# Docker tests carry @pytest.mark.docker. They fail, never skip, when no engine answers: CI runs
# them all, and a silent skip would hide a broken setup (.ci/docker-setup.sh makes one).


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A Docker SDK client that has answered a ping."""
    from tests.fakes.base_image import BaseImageError
    from tests.fakes.base_image import docker_client as connect

    try:
        return connect()
    except BaseImageError as error:
        pytest.fail(f"Docker tests need a running engine: {error}", pytrace=False)


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """Tag of the registry-free test base image, built on first use (about a minute)."""
    from tests.fakes.base_image import BaseImageError, ensure_base_image

    try:
        return ensure_base_image()
    except BaseImageError as error:
        pytest.fail(f"Cannot build the test base image: {error}", pytrace=False)


@pytest.fixture(scope="session")
def runner_image(docker_client: Any, base_image: str) -> str:
    """docker/Dockerfile built on the test base image (cached by the Dockerfile's inputs)."""
    from tests.docker.runner_harness import build_runner_image

    return build_runner_image(docker_client, base_image)


# --- Fake GitHub --------------------------------------------------------------------------------
# An empty fake GitHub REST API on 127.0.0.1; each test adds the orgs, repos, tokens and apps it
# needs (see tests/fakes/fake_github). One per test, so call logs and job queues never leak.


@pytest.fixture
def fake_github() -> Any:
    """A started ``FakeGitHub``; ``fake_github.url`` is the API base URL."""
    from tests.fakes.fake_github import FakeGitHub

    with FakeGitHub() as fake:
        yield fake
