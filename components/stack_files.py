"""Reads a stack's configuration from the project files, as the Pulumi CLI would merge it.

The operators' tool (runnerctl) and the tests use this to see the same settings the program sees
without running Pulumi: ``Pulumi.yaml``'s declared defaults, overlaid by ``Pulumi.<stack>.yaml``.
Encrypted values (``{secure: ...}``) cannot be read here and are left out; callers supply the
credential separately.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from components.config import PROJECT


class StackFileError(Exception):
    """A stack that does not exist, or a project or stack file that cannot be read."""


def engine_string(value: Any) -> str:
    """How the engine hands a config value to the program: strings as they are, the rest JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise StackFileError(f"cannot read {path.name}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path.name} must be a YAML mapping")
    return data


def available_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def read_stack_config(root: Path, stack: str) -> dict[str, str]:
    """``{'runner-fleet:key': engine string}`` for ``stack``; secure values are omitted."""
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = ", ".join(available_stacks(root)) or "none"
        raise StackFileError(f"unknown stack '{stack}' (stack files here: {known})")
    project = _load_yaml(root / "Pulumi.yaml")
    values: dict[str, Any] = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            values[f"{PROJECT}:{key}"] = declaration["default"]
    for key, value in (_load_yaml(stack_file).get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            continue
        values[key if ":" in key else f"{PROJECT}:{key}"] = value
    return {key: engine_string(value) for key, value in values.items()}
