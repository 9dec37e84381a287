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
