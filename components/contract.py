"""The one documented contract between the RunnerFleet component and the runner image.

The fleet hands the image everything it needs through the environment variables below plus one
credential file. Nothing secret is ever an environment variable: the GitHub credential (a token,
or a GitHub App private key in PEM form) is uploaded to ``CREDENTIAL_PATH`` with mode 0400 owned by
root, and ``docker/entrypoint.sh`` re-asserts that mode before anything else runs.

``docker/entrypoint.sh`` reads exactly these names; ``tests/test_contract.py`` fails when the two
drift apart. The prefix ``FLEET_`` keeps clear of the ``RUNNER_*`` and ``GITHUB_*`` names that the
actions runner itself sets for jobs.
"""

from __future__ import annotations

from typing import Final

#: Where the fleet uploads the credential inside every runner container (root-only, mode 0400).
CREDENTIAL_PATH: Final = "/run/fleet/credential"

#: Environment variables the image reads, with what each means. Values are never secret.
ENVIRONMENT: Final[dict[str, str]] = {
    "FLEET_MODE": "'org' registers organization runners in a runner group; 'repo' registers "
    "repository runners.",
    "FLEET_ORGANIZATION": "The organization login (org mode), e.g. 'virtuoso902'.",
    "FLEET_REPOSITORY": "The repository as 'owner/name' (repo mode only).",
    "FLEET_RUNNER_GROUP_ID": "Numeric id of the runner group the runner joins (org mode only).",
    "FLEET_RUNNER_GROUP": "Name of that runner group, used by the registration-token path.",
    "FLEET_LABELS": "Comma-separated runner labels, e.g. 'self-hosted,Linux,X64'.",
    "FLEET_NAME_PREFIX": "Runner names are '<prefix>-<random>'; the prefix is the container name, "
    "so operators can join a GitHub runner to its container.",
    "FLEET_API_URL": "GitHub REST API base URL: 'https://api.github.com' or "
    "'https://<host>/api/v3' for GitHub Enterprise Server.",
    "FLEET_SERVER_URL": "Optional web URL the registration-token path passes to config.sh; "
    "derived from FLEET_API_URL when empty.",
    "FLEET_AUTH": "'app' (GitHub App: the credential file holds the private key) or 'token' "
    "(the credential file holds a token).",
    "FLEET_APP_ID": "GitHub App id (auth 'app' only).",
    "FLEET_APP_INSTALLATION_ID": "GitHub App installation id (auth 'app' only).",
    "FLEET_REGISTRATION": "'jit' (default: generate-jitconfig, one API call per job) or 'token' "
    "(registration token + config.sh, for servers without JIT).",
    "FLEET_EPHEMERAL": "'true' (default): one job per runner registration.",
    "FLEET_JOB_SUDO": "'true' grants jobs passwordless sudo; default 'false'.",
    "FLEET_CREDENTIAL_FILE": "Path of the credential file; defaults to CREDENTIAL_PATH.",
}

#: Exit codes of docker/entrypoint.sh (documented at the top of that file as well).
EXIT_CODES: Final[dict[int, str]] = {
    0: "the runner finished its job, or was stopped and deregistered cleanly",
    64: "a setting is missing or malformed (the message names the variable)",
    65: "the credential file is missing, empty or unreadable",
    66: "GitHub refused the credential (401), or it lacks a permission (403; the message names it)",
    67: "GitHub could not be reached or kept failing after bounded retries",
    68: "the runner exited with an error",
}
