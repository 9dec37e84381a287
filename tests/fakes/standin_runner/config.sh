#!/usr/bin/env bash
# Stand-in for the actions runner's config.sh, installed at /home/runner/config.sh in the test base
# image. `config.sh [flags]` registers the runner and writes .runner/.credentials next to this file;
# `config.sh remove --token T` deregisters it and deletes them. Like the real one it refuses to run
# as root unless RUNNER_ALLOW_RUNASROOT is set.
#
# Exit codes: those of bin/Runner.Listener (0 done, 1 error, 2 retryable); 1 when run as root.
set -euo pipefail

runner_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "$(id -u)" -eq 0 && -z "${RUNNER_ALLOW_RUNASROOT:-}" ]]; then
    echo "Must not run with sudo" >&2
    exit 1
fi

if [[ "${1:-}" == "remove" ]]; then
    shift
    exec "${runner_root}/bin/Runner.Listener" remove "$@"
fi
exec "${runner_root}/bin/Runner.Listener" configure "$@"
