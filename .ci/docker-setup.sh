#!/usr/bin/env bash
# Make a Docker engine and mmdebstrap available for the Docker tests (CI, or a fresh machine).
#
# Idempotent: installs Debian's docker.io and mmdebstrap only when missing, and starts dockerd in
# the background only when `docker info` fails, logging to .cache/dockerd.log in the repository
# (an ignored folder). Then waits, bounded, until the engine answers. Needs root for the install
# and for dockerd. Nothing is pulled from any image registry; the tests build their own base image.
#
# Environment: DOCKERD_WAIT_SECONDS (default 60) bounds the wait for the engine.
#
# Exit codes:
#   0  docker answers and mmdebstrap is installed
#   1  not root when something has to be installed or started, or DOCKERD_WAIT_SECONDS is malformed
#   2  apt-get failed to install docker.io or mmdebstrap
#   3  dockerd did not answer within DOCKERD_WAIT_SECONDS (the log's tail is printed)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${repo_root}/.cache"
dockerd_log="${cache_dir}/dockerd.log"
wait_seconds="${DOCKERD_WAIT_SECONDS:-60}"

log() {
    printf 'docker-setup: %s\n' "$*" >&2
}

die() {
    local code="$1"
    shift
    log "error: $*"
    exit "${code}"
}

require_root() {
    [[ "$(id -u)" -eq 0 ]] || die 1 "$1 needs root; run this script as root (e.g. with sudo)."
}

missing_packages() {
    command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1 || echo docker.io
    command -v mmdebstrap >/dev/null 2>&1 || echo mmdebstrap
}

install_missing() {
    local -a packages
    mapfile -t packages < <(missing_packages)
    if [[ "${#packages[@]}" -eq 0 ]]; then
        log "docker and mmdebstrap are installed."
        return 0
    fi
    require_root "installing ${packages[*]}"
    log "installing ${packages[*]} with apt-get..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || die 2 "apt-get update failed; check the machine's apt sources."
    apt-get install -y -q --no-install-recommends "${packages[@]}" \
        || die 2 "apt-get install ${packages[*]} failed; see the apt output above."
}

engine_answers() {
    docker info >/dev/null 2>&1
}

start_dockerd() {
    if engine_answers; then
        log "the Docker engine answers."
        return 0
    fi
    require_root "starting dockerd"
    mkdir -p "${cache_dir}"
    log "starting dockerd in the background (log: ${dockerd_log})..."
    nohup dockerd >>"${dockerd_log}" 2>&1 &
    disown || true
}

wait_for_engine() {
    local waited=0
    until engine_answers; do
        if [[ "${waited}" -ge "${wait_seconds}" ]]; then
            log "dockerd log tail:"
            tail -n 20 "${dockerd_log}" >&2 || true
            die 3 "the Docker engine did not answer within ${wait_seconds}s; see ${dockerd_log}."
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "the Docker engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))."
}

main() {
    [[ "${wait_seconds}" =~ ^[0-9]+$ ]] \
        || die 1 "DOCKERD_WAIT_SECONDS must be a whole number of seconds, not '${wait_seconds}'."
    install_missing
    start_dockerd
    wait_for_engine
}

main "$@"
