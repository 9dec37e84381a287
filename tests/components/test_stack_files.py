"""Reading a stack's config from the project files, as the Pulumi CLI merges it."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.stack_files import StackFileError, read_stack_config
from tests.pulumi_harness import ROOT


def test_defaults_are_overlaid_by_the_stack_file() -> None:
    config = read_stack_config(ROOT, "org")
    assert config["runner-fleet:mode"] == "org", "the stack file's value wins"
    assert config["runner-fleet:memory"] == "4g", "Pulumi.yaml's default fills the gap"
    assert config["runner-fleet:runnerCount"] == "4", "numbers arrive as the engine's strings"
    assert config["runner-fleet:allowedRepositories"].startswith('["coach"'), "lists as JSON"


def test_unknown_stack_names_the_stacks_that_exist() -> None:
    with pytest.raises(StackFileError, match=r"unknown stack 'prod' \(stack files here: org, repo"):
        read_stack_config(ROOT, "prod")


def test_encrypted_values_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: runner-fleet\nconfig: {}\n")
    (tmp_path / "Pulumi.x.yaml").write_text(
        "config:\n  runner-fleet:githubCredential:\n    secure: v1:abc\n  runner-fleet:mode: org\n"
    )
    config = read_stack_config(tmp_path, "x")
    assert config == {"runner-fleet:mode": "org"}, config


def test_broken_yaml_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: [unclosed\n")
    (tmp_path / "Pulumi.x.yaml").write_text("config: {}\n")
    with pytest.raises(StackFileError, match="Pulumi.yaml is not valid YAML"):
        read_stack_config(tmp_path, "x")
