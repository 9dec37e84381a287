"""RunnerImage: the runner image, built from docker/ with pinned build arguments, or prebuilt.

Containers reference the image by its ID (``image_id``), so a rebuilt image rolls the fleet and an
unchanged one does not. The build is triggered by a hash of the build context and arguments, which
keeps previews free of spurious diffs.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker

TYPE_TOKEN = "runner-fleet:index:RunnerImage"
DOCKER_CONTEXT = Path(__file__).resolve().parent.parent / "docker"


@dataclass(frozen=True)
class RunnerImageArgs:
    """Inputs of a RunnerImage: either a prebuilt reference or build arguments."""

    #: Local name and tag the built image gets, e.g. 'runner-fleet-runner:2.334.0'.
    image_name: str
    #: A prebuilt image reference; when set nothing is built.
    prebuilt_image: str = ""
    #: Build arguments (pinned versions), e.g. RUNNER_VERSION and BASE_IMAGE.
    build_args: Mapping[str, str] = field(default_factory=dict)
    #: The build context; the repository's docker/ folder by default.
    context: Path = DOCKER_CONTEXT


def context_hash(context: Path, build_args: Mapping[str, str]) -> str:
    """A stable digest of every file in the build context and of the build arguments."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(path.relative_to(context).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for key in sorted(build_args):
        digest.update(f"{key}={build_args[key]}\n".encode())
    return digest.hexdigest()


class RunnerImage(pulumi.ComponentResource):
    """The image every runner container of the stack runs."""

    image_id: pulumi.Output[str]
    """The image ID ('sha256:...') containers reference."""
    image_name: pulumi.Output[str]
    """The human-readable reference (name:tag)."""

    def __init__(
        self, name: str, args: RunnerImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.prebuilt_image:
            image = docker.RemoteImage(
                f"{name}-image", name=args.prebuilt_image, keep_locally=True, opts=child
            )
        else:
            image = docker.RemoteImage(
                f"{name}-image",
                name=args.image_name,
                build=docker.RemoteImageBuildArgs(
                    # Relative to the project root (the program's working directory), so the
                    # same checkout previews identically on every machine.
                    context=os.path.relpath(args.context),
                    dockerfile="Dockerfile",
                    build_args=dict(args.build_args),
                    labels={"org.opencontainers.image.title": "runner-fleet runner"},
                ),
                triggers={"context": context_hash(args.context, args.build_args)},
                keep_locally=True,
                opts=child,
            )
        self.image_id = image.image_id
        self.image_name = image.name
        self.register_outputs({"image_id": self.image_id, "image_name": self.image_name})
