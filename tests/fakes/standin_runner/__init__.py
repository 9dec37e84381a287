"""The stand-in actions runner: ``config.sh``, ``run.sh`` and ``bin/Runner.Listener``.

``install(root)`` lays the three files out under ``root`` exactly as the test base image holds them
under ``/home/runner``, so host tests and the image run the same code in the same layout.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

SOURCE_DIR: Final = Path(__file__).resolve().parent

#: Source file -> where it lives under the runner's directory.
LAYOUT: Final[dict[str, str]] = {
    "config.sh": "config.sh",
    "run.sh": "run.sh",
    "listener.py": "bin/Runner.Listener",
}


def install(root: Path) -> Path:
    """Copy the stand-in into ``root`` (created if missing) with executable modes; return root."""
    for source, target in LAYOUT.items():
        destination = root / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOURCE_DIR / source, destination)
        destination.chmod(0o755)
    return root
