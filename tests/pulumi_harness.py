"""Runs the real ``__main__.py`` under Pulumi's unit-test mocks, with a committed stack's config.

``run_program("org")`` reads ``Pulumi.yaml``'s declared defaults, overlays ``Pulumi.org.yaml`` as
the Pulumi CLI would, adds a test credential marked secret, and records every resource and every
provider call the program makes. The mocks model GitHub's repository search over a fake
organization and give images an ID derived from their build triggers, so "rebuilt image rolls the
fleet" can be asserted.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from components.stack_files import engine_string, read_stack_config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "runner-fleet"
TEST_TOKEN = "ghp_" + "T3stT0kenNotRealxxxxxxxxxxxxxxxxxxxx"
#: The marker Pulumi's engine wraps secret values in, as the mocks hand them over.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
WORKED_EXAMPLE_REPOSITORIES = {"coach": 101, "mcp": 102, "personal": 103, "ghActions": 104}


@dataclass
class DeclaredResource:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str = ""
    parent: str = ""


@dataclass
class ProgramRun:
    resources: list[DeclaredResource] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def of_type(self, type_token: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> DeclaredResource:
        found = self.of_type(type_token)
        assert len(found) == 1, f"expected exactly one {type_token}, found {len(found)}"
        return found[0]


class RecordingMocks(pulumi.runtime.Mocks):
    """Records resources and calls; answers like the providers would."""

    def __init__(self, run: ProgramRun, org_repositories: Mapping[str, int]) -> None:
        self.run = run
        self.org_repositories = dict(org_repositories)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        self.run.resources.append(
            DeclaredResource(args.typ, args.name, dict(args.inputs), args.provider or "")
        )
        state = dict(args.inputs)
        if args.typ == "github:index/actionsRunnerGroup:ActionsRunnerGroup":
            return "42", state
        if args.typ == "docker:index/remoteImage:RemoteImage":
            seed = json.dumps(
                [args.inputs.get("name"), args.inputs.get("triggers")], sort_keys=True
            )
            state["imageId"] = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
            return f"{args.inputs.get('name')}-id", state
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        self.run.calls.append((args.token, dict(args.args)))
        if args.token == "github:index/getRepositories:getRepositories":
            org = str(args.args.get("query", "")).split()[0].removeprefix("org:")
            names = sorted(self.org_repositories)
            return {
                "id": "search",
                "query": args.args.get("query"),
                "fullNames": [f"{org}/{n}" for n in names],
                "names": names,
                "repoIds": [self.org_repositories[n] for n in names],
            }, []
        return {}, []


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The config the Pulumi CLI would hand the program, plus a test credential and overrides."""
    values: dict[str, str] = read_stack_config(ROOT, stack) if stack in ("org", "repo") else {}
    values[f"{PROJECT}:githubCredential"] = TEST_TOKEN
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = engine_string(value)
    return values


def run_program(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    preview: bool = False,
    org_repositories: Mapping[str, int] | None = None,
    secret_keys: list[str] | None = None,
) -> ProgramRun:
    """Run ``__main__.py`` for ``stack``; raises what the program raises (e.g. pulumi.RunError)."""
    run = ProgramRun()
    mocks = RecordingMocks(run, org_repositories or WORKED_EXAMPLE_REPOSITORIES)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview)
    config = stack_config(stack, overrides)
    pulumi.runtime.set_all_config(
        config, secret_keys if secret_keys is not None else [f"{PROJECT}:githubCredential"]
    )
    exported: dict[str, Any] = {}
    original_export = pulumi.export

    def capture(name: str, value: Any) -> None:
        exported[name] = value
        original_export(name, value)

    @pulumi.runtime.test
    def program() -> None:
        cwd = os.getcwd()
        os.chdir(ROOT)
        pulumi.export = capture
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = original_export
            os.chdir(cwd)

    try:
        program()
        for name, value in exported.items():
            run.outputs[name], is_secret = resolve(value)
            if is_secret:
                run.secret_outputs.add(name)
    finally:
        pulumi.runtime.set_all_config({}, [])
    return run


def resolve(value: Any) -> tuple[Any, bool]:
    """The plain value of an Output (or a plain value), and whether it is secret."""
    if not isinstance(value, pulumi.Output):
        return value, False
    result: dict[str, Any] = {}

    @pulumi.runtime.test
    def read() -> pulumi.Output[None]:
        def keep(v: Any) -> None:
            result["v"] = v

        return value.apply(keep)

    read()
    is_secret = pulumi.runtime.sync_await._sync_await(value.is_secret())
    return result.get("v"), bool(is_secret)


def unwrap(value: Any) -> Any:
    """Declared inputs as plain data, with Pulumi's secret wrappers removed at every depth."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def declare_component(stack: str, build: Callable[[], object]) -> ProgramRun:
    """Run ``build`` (which declares one component) under the recording mocks."""
    run = ProgramRun()
    pulumi.runtime.set_mocks(
        RecordingMocks(run, WORKED_EXAMPLE_REPOSITORIES), project=PROJECT, stack=stack
    )

    @pulumi.runtime.test
    def declare() -> None:
        build()

    declare()
    return run
