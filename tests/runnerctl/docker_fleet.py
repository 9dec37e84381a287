"""Real containers labelled the way RunnerFleet labels them, for runnerctl's Docker-side tests.

They run ``sleep`` in the registry-free test base image: runnerctl reads only their names,
labels, state, restart count, start time and image, so no runner needs to run inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components.runner_fleet import LABEL_PREFIX


class FleetContainers:
    def __init__(self, client: Any, image: str) -> None:
        self.client = client
        self.image = image
        self.made: list[Any] = []

    def add(self, name: str, stack: str, *, running: bool = True, mode: str = "org") -> Any:
        labels = {
            f"{LABEL_PREFIX}.managed-by": "pulumi",
            f"{LABEL_PREFIX}.stack": stack,
            f"{LABEL_PREFIX}.mode": mode,
            f"{LABEL_PREFIX}.organization": "acme",
        }
        container = self.client.containers.create(
            self.image,
            command=["sleep", "600"] if running else ["true"],
            name=name,
            labels=labels,
            network_mode="none",
        )
        self.made.append(container)
        container.start()
        if not running:
            container.wait(timeout=30)
        return container

    def remove_all(self) -> None:
        for container in self.made:
            try:
                container.remove(force=True)
            except Exception:  # already gone
                pass


@pytest.fixture
def fleet_containers(docker_client: Any, base_image: str) -> Iterator[FleetContainers]:
    made = FleetContainers(docker_client, base_image)
    try:
        yield made
    finally:
        made.remove_all()
