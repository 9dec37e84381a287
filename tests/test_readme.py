"""README.md stays true: every config key documented, the two set-up commands present."""

from __future__ import annotations

import re

import yaml

from tests.pulumi_harness import ROOT

README = (ROOT / "README.md").read_text()


def test_every_config_key_is_in_the_readme_table() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    documented = set(re.findall(r"^\| `([A-Za-z]+)` \|", README, flags=re.MULTILINE))
    assert documented == set(declared), (
        f"README's key table and Pulumi.yaml disagree: missing {sorted(set(declared) - documented)}"
        f", extra {sorted(documented - set(declared))}"
    )


def test_readme_gives_exactly_the_two_set_up_commands() -> None:
    section = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["pulumi up --stack org", "bash .ci/run"], commands


def test_ci_runs_the_readme_test_command_target() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pytest" in ci and "tests" in ci, ".ci/run must run the test suite"
