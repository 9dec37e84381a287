"""Entry point Pulumi runs for ``--policy-pack policy``: the pack and nothing else.

The policies themselves live in runner_policies.py so that tests import and call them directly.
"""

from pulumi_policy import PolicyPack

from runner_policies import POLICIES

PolicyPack(
    name="runner-fleet-guardrails",
    policies=POLICIES,
    description=(
        "Stops unsafe runner groups, runner containers, Swarm services and ARC Helm releases "
        "before they are deployed."
    ),
)
