#!/usr/bin/env bash
# Stand-in for the actions runner's run.sh, installed at /home/runner/run.sh in the test base image.
# `run.sh` runs with the settings config.sh wrote; `run.sh --jitconfig BASE64` (or the environment
# variable ACTIONS_RUNNER_INPUT_JITCONFIG) runs a just-in-time runner without any files.
#
# Exit codes: those of bin/Runner.Listener: 0 done, 1 error, 2 retryable, 5 session conflict.
set -euo pipefail

runner_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${runner_root}/bin/Runner.Listener" run "$@"
