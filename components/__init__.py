"""Pulumi components of the runner fleet: RunnerGroup, RunnerImage and RunnerFleet."""
