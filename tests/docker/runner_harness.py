"""Builds the runner image on the test base and runs it the way the fleet does, against the fake.

``build_runner_image`` builds ``docker/Dockerfile`` with ``BASE_IMAGE`` set to the registry-free
test base and tags it by a hash of its inputs, so repeated runs reuse it. ``RunnerContainer``
creates one container from the settings the RunnerFleet component declares
(tests/docker/fleet_settings.py), puts the credential in as a root-only file before the first
start (never as an environment variable), and offers the few operations the tests need.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.docker.fleet_settings import FleetContainer
from tests.fakes.fake_github import FakeGitHub, Runner

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKER_DIR = ROOT / "docker"
IMAGE_REPOSITORY = "fleet-runner-test"


def runner_image_tag(base_image: str) -> str:
    digest = hashlib.sha256(base_image.encode())
    for name in ("Dockerfile", ".dockerignore", "entrypoint.sh"):
        path = DOCKER_DIR / name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        digest.update(oct(path.stat().st_mode & 0o777).encode())
    return f"{IMAGE_REPOSITORY}:{digest.hexdigest()[:16]}"


def build_runner_image(client: Any, base_image: str) -> str:
    """Build docker/Dockerfile on ``base_image`` unless an image of the same inputs exists."""
    import docker.errors

    tag = runner_image_tag(base_image)
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    client.images.build(
        path=str(DOCKER_DIR),
        buildargs={"BASE_IMAGE": base_image},
        tag=tag,
        rm=True,
        forcerm=True,
        pull=False,
    )
    return tag


def credential_archive(path: str, content: str, mode: int) -> bytes:
    """A tar holding ``path`` (root:root, ``mode``) and its parent directories (root, 0755)."""
    buffer = io.BytesIO()
    parts = Path(path.lstrip("/")).parts
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for depth in range(1, len(parts)):
            directory = tarfile.TarInfo("/".join(parts[:depth]))
            directory.type = tarfile.DIRTYPE
            directory.mode = 0o755
            archive.addfile(directory)
        data = content.encode()
        info = tarfile.TarInfo("/".join(parts))
        info.size = len(data)
        info.mode = mode
        info.uid = info.gid = 0
        info.mtime = int(time.time())
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class RunnerContainer:
    """One runner container, created as the fleet declares it; removed by ``remove``."""

    def __init__(self, client: Any, settings: FleetContainer, credential: str) -> None:
        self.client = client
        self.settings = settings
        self.container = client.containers.create(**settings.create_kwargs)
        self.container.put_archive(
            "/",
            credential_archive(settings.credential_path, credential, settings.credential_mode),
        )

    @property
    def name_prefix(self) -> str:
        return self.settings.environment["FLEET_NAME_PREFIX"]

    def start(self) -> float:
        """Start (or restart after an exit); returns the wall-clock time just before."""
        started = time.time()
        self.container.start()
        return started

    def wait(self, timeout: float) -> int:
        """Wait for the container to exit; its exit code. Raises when it runs past ``timeout``."""
        try:
            result = self.container.wait(timeout=timeout)
        except Exception as error:  # requests' ReadTimeout / ConnectionError
            raise AssertionError(
                f"container {self.settings.name} still running after {timeout}s; "
                f"its log:\n{self.logs()}"
            ) from error
        return int(result["StatusCode"])

    def signal(self, name: str) -> float:
        sent = time.time()
        self.container.kill(signal=name)
        return sent

    def logs(self) -> str:
        try:
            return bytes(self.container.logs(stdout=True, stderr=True)).decode(errors="replace")
        except Exception as error:  # the container may be gone
            return f"(no log: {error})"

    def inspect(self) -> dict[str, Any]:
        return dict(self.client.api.inspect_container(self.container.id))

    def remove(self) -> None:
        try:
            self.container.remove(force=True)
        except Exception:  # already removed
            pass


def wait_for(
    fake: FakeGitHub, predicate: Callable[[], bool], timeout: float, what: str, log: str = ""
) -> None:
    if not fake.wait_until(predicate, timeout):
        raise AssertionError(f"expected {what} within {timeout}s; it did not happen\n{log}")


def runners_named(fake: FakeGitHub, prefix: str) -> list[Runner]:
    return [runner for runner in fake.runners if runner.name.startswith(prefix + "-")]


def online_runner(fake: FakeGitHub, container: RunnerContainer, timeout: float = 30.0) -> Runner:
    """The container's runner once it is online at the fake."""
    found: list[Runner] = []

    def online() -> bool:
        found[:] = [r for r in runners_named(fake, container.name_prefix) if r.status == "online"]
        return bool(found)

    deadline = time.monotonic() + timeout
    while not fake.wait_until(online, 0.5):
        container.container.reload()
        if container.container.status == "exited" or time.monotonic() > deadline:
            break
    if not found:
        raise AssertionError(
            f"expected a runner named {container.name_prefix}-* online within {timeout}s; "
            f"runners: {[(r.name, r.status) for r in fake.runners]}\n{container.logs()}"
        )
    return found[0]
