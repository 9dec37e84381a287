#!/usr/bin/env python3
"""A recording stand-in for the ``pulumi`` CLI, for runnerctl's rollback tests.

Pulumi's Automation API shells out to ``pulumi``; the tests put this file on PATH under that name.
Each call appends ``{"argv": [...], "time": epoch}`` to the file named by ``PULUMI_STANDIN_LOG``
and answers the commands the Automation API sends the way the real CLI does: ``version``,
``stack select``, ``up``, ``destroy``, ``config set-all``, ``stack output``, ``stack history``.

``PULUMI_STANDIN_PLAN`` names a JSON file saying what ``up`` does per stack:
``{"<stack>": {"fail": false, "runners": [{"path": "/orgs/acme/actions/runners", "name": ...,
"group_id": 1}]}}``. Each runner is registered at the fake GitHub (``PULUMI_STANDIN_API``) with a
JIT config and brought online through the fake's runner protocol, as a fleet container would. The
admin token is read from the file ``PULUMI_STANDIN_TOKEN_FILE``; it never travels in argv.
Standard library only.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any


def record(argv: list[str]) -> None:
    with open(os.environ["PULUMI_STANDIN_LOG"], "a") as log:
        log.write(json.dumps({"argv": argv, "time": time.time()}) + "\n")


def call(method: str, path: str, body: Any, bearer: str) -> Any:
    request = urllib.request.Request(
        os.environ["PULUMI_STANDIN_API"] + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
    return json.loads(text) if text else None


def bring_up(runners: list[dict[str, Any]]) -> None:
    token = Path(os.environ["PULUMI_STANDIN_TOKEN_FILE"]).read_text().strip()
    for runner in runners:
        body = {
            "name": runner["name"],
            "runner_group_id": runner.get("group_id", 1),
            "labels": ["self-hosted"],
        }
        answer = call("POST", runner["path"] + "/generate-jitconfig", body, token)
        blob = json.loads(base64.b64decode(answer["encoded_jit_config"]))
        credentials = json.loads(base64.b64decode(blob[".credentials"]))
        call("POST", "/_fake/runner/sessions", {}, credentials["data"]["token"])
        print(f"  + docker:index:Container {runner['name']} created")


def stack_of(argv: list[str]) -> str:
    return argv[argv.index("--stack") + 1] if "--stack" in argv else ""


def main() -> int:
    argv = sys.argv[1:]
    record(argv)
    words = [word for word in argv if word != "--non-interactive"]
    stack = stack_of(words)
    plan = json.loads(Path(os.environ.get("PULUMI_STANDIN_PLAN", "/dev/null")).read_text() or "{}")
    if words[:1] == ["version"]:
        print("v3.272.0")
    elif words[:2] == ["stack", "select"]:
        if not Path(f"Pulumi.{stack}.yaml").exists():
            print(f"error: no stack named '{stack}' found", file=sys.stderr)
            return 255
    elif words[:1] == ["up"]:
        step = plan.get(stack, {})
        print(f"Updating ({stack})")
        if step.get("fail"):
            print("error: update failed: docker host refused the container", file=sys.stderr)
            return 255
        bring_up(step.get("runners", []))
        print("Resources: 3 created")
    elif words[:1] == ["destroy"]:
        print(f"Destroying ({stack})")
        print("Resources: 3 deleted")
    elif words[:2] == ["stack", "output"]:
        print("{}")
    elif words[:2] == ["stack", "history"]:
        summary = {
            "kind": "update",
            "startTime": "2025-01-01T00:00:00.000Z",
            "message": "",
            "environment": {},
            "config": {},
            "result": "succeeded",
            "endTime": "2025-01-01T00:00:01.000Z",
            "resourceChanges": {},
        }
        print(json.dumps([summary]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
