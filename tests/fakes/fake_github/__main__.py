"""Run the fake GitHub standalone: ``python -m tests.fakes.fake_github --port 0 --seed-file F``.

Prints one JSON line ``{"url": ..., "port": ...}`` on stdout once it is serving (and writes it to
``--ready-file`` if given), then serves until SIGINT/SIGTERM. Bad arguments or a bad seed file
end it with exit code 2 and a one-line message naming the problem.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .control import apply_seed
from .core import FakeGitHub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.fake_github", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    parser.add_argument("--seed-file", type=Path, help="JSON world to create (see apply_seed)")
    parser.add_argument("--ready-file", type=Path, help="also write the ready line here")
    parser.add_argument("--rate-limit", type=int, default=5000, help="requests/hour per token")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"fake_github: --port {args.port} is not 0..65535", file=sys.stderr)
        return 2
    seed: dict[str, object] = {}
    if args.seed_file is not None:
        try:
            seed = json.loads(args.seed_file.read_text())
        except (OSError, ValueError) as exc:
            print(f"fake_github: --seed-file {args.seed_file}: {exc}", file=sys.stderr)
            return 2
    fake = FakeGitHub(port=args.port, rate_limit=args.rate_limit)
    try:
        fake.start()
    except OSError as exc:
        print(f"fake_github: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        base = args.seed_file.parent if args.seed_file else None
        apply_seed(fake, seed, base)
    except (ValueError, TypeError, KeyError) as exc:
        fake.stop()
        print(f"fake_github: --seed-file {args.seed_file}: {exc}", file=sys.stderr)
        return 2
    ready = json.dumps({"url": fake.url, "port": fake.port})
    if args.ready_file is not None:
        args.ready_file.write_text(ready + "\n")
    print(ready, flush=True)
    done = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
