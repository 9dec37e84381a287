"""Build the registry-free test base image: Debian bookworm laid out like the actions-runner image.

No image registry is reachable from tests or CI, so the image is built from Debian packages alone:

1. ``mmdebstrap --variant=minbase`` makes a bookworm root filesystem holding ``PACKAGES``, using the
   machine's own apt sources file (read at run time; no mirror is named here), and the tarball is
   imported as ``fleet-test-rootfs:<hash>``.
2. ``base_image/Dockerfile`` turns that into ``fleet-test-base:<hash>``: user ``runner`` (uid 1001,
   groups sudo and docker/123), passwordless sudo for the sudo group, the stand-in runner in
   /home/runner, ``USER runner``, no ENTRYPOINT.

Each tag is a hash of what went into it, and a build is skipped when its tag already exists, so
only the first run pays (about a minute for step 1, seconds for step 2). A file lock under
``.cache/`` keeps concurrent test sessions from building the same image twice.

``ensure_base_image()`` returns the tag for fixtures; ``python -m tests.fakes.base_image`` builds it
with progress output. Failures (no mmdebstrap, no Docker engine, no sources file, a failed build)
raise BaseImageError with one line saying what is missing and how to fix it.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import io
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from tests.fakes import standin_runner

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CACHE_DIR: Final = REPO_ROOT / ".cache" / "base-image"
DOCKERFILE: Final = Path(__file__).resolve().parent / "base_image" / "Dockerfile"

#: The apt sources the root filesystem is built from: this machine's own, read when building.
APT_SOURCES: Final = Path("/etc/apt/sources.list.d/debian.sources")
SUITE: Final = "bookworm"

ROOTFS_REPOSITORY: Final = "fleet-test-rootfs"
IMAGE_REPOSITORY: Final = "fleet-test-base"

#: What the official image ships that jobs and the entrypoint rely on, plus openssl and procps for
#: the entrypoint and Python's standard library for the stand-in runner only.
PACKAGES: Final = (
    "bash",
    "ca-certificates",
    "curl",
    "git",
    "jq",
    "libpython3-stdlib",
    "openssl",
    "procps",
    "python3-minimal",
    "sudo",
    "unzip",
)

#: Keep the image small: no manuals, no translations, no docs except the licences.
DPKG_OPTIONS: Final = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
)

Log = Callable[[str], None]


class BaseImageError(RuntimeError):
    """The base image cannot be built; the message names the missing piece and the fix."""


def _quiet(_line: str) -> None:
    pass


def mmdebstrap_command(target: Path, sources: Path = APT_SOURCES) -> list[str]:
    """The mmdebstrap call that writes the root filesystem tarball to ``target``."""
    return [
        "mmdebstrap",
        "--variant=minbase",
        "--format=tar",
        f"--include={','.join(PACKAGES)}",
        *(f"--dpkgopt={option}" for option in DPKG_OPTIONS),
        SUITE,
        str(target),
        str(sources),
    ]


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()[:16]


def rootfs_tag(sources: Path = APT_SOURCES) -> str:
    """``fleet-test-rootfs:<hash>`` of the mmdebstrap command and the sources file's content."""
    try:
        sources_text = sources.read_bytes()
    except OSError as error:
        raise BaseImageError(
            f"Cannot read the apt sources file {sources} ({error.strerror}): the base image is "
            "built from the machine's own Debian sources; run on a Debian bookworm host."
        ) from None
    command = "\0".join(mmdebstrap_command(Path("TARGET"), Path("SOURCES")))
    return f"{ROOTFS_REPOSITORY}:{_digest(command.encode(), sources_text)}"


def stage_context(context: Path) -> None:
    """Lay out the docker build context: the Dockerfile and the stand-in runner under runner/."""
    shutil.copyfile(DOCKERFILE, context / "Dockerfile")
    standin_runner.install(context / "runner")


def _context_digest(context: Path) -> bytes:
    parts: list[bytes] = []
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        mode = path.stat().st_mode & 0o777
        parts.append(f"{relative}:{mode:o}".encode() + b"\0" + path.read_bytes())
    return _digest(*parts).encode()


def image_tag(rootfs: str, context: Path) -> str:
    """``fleet-test-base:<hash>`` of the rootfs tag and every file of the build context."""
    return f"{IMAGE_REPOSITORY}:{_digest(rootfs.encode(), _context_digest(context))}"


def docker_sdk() -> Any:
    """The Docker SDK module, untyped (it ships no types).

    Imported by name at run time because the repository's own docker/ folder shadows the SDK for
    mypy, which then reports its attributes as missing.
    """
    return importlib.import_module("docker")


def docker_client() -> Any:
    """A Docker SDK client that has answered a ping; BaseImageError when no engine answers."""
    try:
        client = docker_sdk().from_env(timeout=600)
        client.ping()
    except Exception as error:  # Any failure here means the same: no usable engine.
        raise BaseImageError(
            f"No Docker engine answers ({type(error).__name__}): start one "
            "(CI: .ci/docker-setup.sh)."
        ) from None
    return client


def _has_image(client: Any, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker_sdk().errors.ImageNotFound:
        return False
    return True


@contextmanager
def _build_lock() -> Iterator[None]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / "build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_rootfs(client: Any, tag: str, sources: Path, log: Log) -> None:
    if shutil.which("mmdebstrap") is None:
        raise BaseImageError(
            "mmdebstrap is not installed: install it (apt-get install mmdebstrap, or run "
            ".ci/docker-setup.sh) to build the test base image."
        )
    repository, _, version = tag.partition(":")
    with tempfile.TemporaryDirectory(dir=CACHE_DIR, prefix="rootfs-") as scratch:
        tarball = Path(scratch) / "rootfs.tar"
        command = mmdebstrap_command(tarball, sources)
        log(f"Building the {SUITE} root filesystem with mmdebstrap (about a minute)...")
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        ) as process:
            tail: list[str] = []
            for line in process.stdout or io.StringIO():
                log("  " + line.rstrip())
                tail = [*tail[-19:], line.rstrip()]
        if process.returncode != 0:
            detail = " | ".join(tail[-3:])
            raise BaseImageError(
                f"mmdebstrap failed with exit code {process.returncode} ({detail}); check that the "
                f"apt sources in {sources} are reachable and run as root."
            )
        log(f"Importing the root filesystem as {tag}...")
        try:
            client.api.import_image_from_file(str(tarball), repository=repository, tag=version)
        except docker_sdk().errors.APIError as error:
            raise BaseImageError(f"docker import of {tag} failed: {error.explanation}") from None


def _build_image(client: Any, tag: str, rootfs: str, context: Path, log: Log) -> None:
    log(f"Building {tag} on {rootfs}...")
    try:
        for chunk in client.api.build(
            path=str(context),
            tag=tag,
            buildargs={"ROOTFS_IMAGE": rootfs},
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        ):
            if "error" in chunk:
                raise BaseImageError(f"docker build of {tag} failed: {str(chunk['error']).strip()}")
            text = str(chunk.get("stream", "")).rstrip()
            if text:
                log("  " + text)
    except docker_sdk().errors.APIError as error:
        raise BaseImageError(f"docker build of {tag} failed: {error.explanation}") from None
    # A stable alias for people building by hand; fixtures always use the hashed tag.
    client.images.get(tag).tag(IMAGE_REPOSITORY, "latest")


def ensure_base_image(log: Log = _quiet, sources: Path = APT_SOURCES) -> str:
    """Return the tag of the test base image, building whatever part of it is missing."""
    rootfs = rootfs_tag(sources)
    client = docker_client()
    with tempfile.TemporaryDirectory(prefix="base-image-context-") as scratch:
        context = Path(scratch)
        stage_context(context)
        tag = image_tag(rootfs, context)
        if _has_image(client, tag):
            log(f"{tag} is up to date.")
            return tag
        with _build_lock():
            if _has_image(client, tag):  # Built by another session while we waited.
                log(f"{tag} is up to date.")
                return tag
            if _has_image(client, rootfs):
                log(f"{rootfs} is up to date.")
            else:
                _build_rootfs(client, rootfs, sources, log)
            _build_image(client, tag, rootfs, context, log)
    log(f"Built {tag}.")
    return tag


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(
            "usage: python -m tests.fakes.base_image   (builds the test base image, prints its tag)"
        )
        return 0
    if argv:
        print(
            f"error: unexpected arguments {' '.join(argv)}; this command takes none.",
            file=sys.stderr,
        )
        return 2

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        tag = ensure_base_image(progress)
    except BaseImageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
