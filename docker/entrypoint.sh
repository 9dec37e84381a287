#!/usr/bin/env bash
# fleet-entrypoint: registers one just-in-time GitHub Actions runner, runs exactly one job with it
# as the unprivileged `runner` user, and deregisters it when the container is stopped.
#
# Interface (the contract lives in components/contract.py): the FLEET_* environment variables listed
# there, plus one credential file (FLEET_CREDENTIAL_FILE, default /run/fleet/credential) holding a
# GitHub token (FLEET_AUTH=token) or a GitHub App private key in PEM form (FLEET_AUTH=app).
#
# Exit codes:
#   0   the runner finished its job, or was stopped and deregistered cleanly
#   64  a setting is missing or malformed (the message names the variable)
#   65  the credential file is missing, empty or unreadable
#   66  GitHub refused the credential (401), or it lacks a permission (403; the message names it)
#   67  GitHub could not be reached or kept failing after bounded retries
#   68  the runner exited with an error
#
# Secrets (the credential, installation tokens, JWTs, registration tokens, the JIT config) never
# reach argv, the log, or a file the runner user can read: curl reads its headers from stdin, the
# runner receives its one-time config through its environment, and every log line is masked.
set -euo pipefail
umask 077
# A stop that arrives before the supervisor's handlers exist is remembered and honoured.
EARLY_STOP=""
trap 'EARLY_STOP=TERM' TERM
trap 'EARLY_STOP=INT' INT

readonly EXIT_BAD_SETTING=64
readonly EXIT_BAD_CREDENTIAL=65
readonly EXIT_REFUSED=66
readonly EXIT_UNREACHABLE=67
readonly EXIT_RUNNER_FAILED=68

readonly RUNNER_USER=runner
readonly RUNNER_ROOT=/home/runner
# Top-level entries of the runner's home as the image shipped them; anything else is left over.
readonly RUNNER_HOME_MANIFEST=/usr/local/share/fleet/runner-home.list
# Root-only state that deliberately survives a container restart: the cached installation token.
readonly STATE_DIR=/var/lib/fleet
# Root-only scratch space for one start: curl's request bodies and response headers.
readonly SCRATCH_DIR=/run/fleet-entrypoint
# Root-only hand-over between the supervisor (which takes stop signals) and the worker: the stop
# flag and the runner's pid. Made by the supervisor, never cleaned by the worker.
readonly CONTROL_DIR=/run/fleet-control
readonly USER_AGENT="fleet-entrypoint/1"
readonly MAX_ATTEMPTS=6
readonly MAX_NAME_ATTEMPTS=5
# How long a stopped runner may take to cancel its job before it is killed.
readonly RUNNER_STOP_GRACE_SECONDS=12

declare -a SECRETS=()
CREDENTIAL=""
API_TOKEN=""
API_TOKEN_IS_CACHED=false
RUNNER_ID=""
RUNNER_PID=""
RUNNER_TOKEN=""
JIT_CONFIG=""
HTTP_STATUS=""
HTTP_BODY=""

# --- logging ---------------------------------------------------------------------------------

# Replaces every known secret, and anything shaped like a GitHub token or a PEM block, with ***.
mask() {
    local text=$1 secret
    for secret in "${SECRETS[@]+"${SECRETS[@]}"}"; do
        [[ -n $secret ]] && text=${text//"$secret"/***}
    done
    text=$(sed -E -e 's/(gh[pousr]_|github_pat_)[A-Za-z0-9_]+/***/g' \
        -e 's/-----BEGIN [A-Z ]*-----.*(-----END [A-Z ]*-----)?/***/g' <<<"$text")
    printf '%s' "$text"
}

log() {
    printf '%s fleet-entrypoint: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(mask "$*")" >&2
}

die() {
    local code=$1
    shift
    log "error: $*"
    exit "$code"
}

remember_secret() {
    SECRETS+=("$1")
}

# --- settings --------------------------------------------------------------------------------

load_settings() {
    MODE=${FLEET_MODE:-}
    ORGANIZATION=${FLEET_ORGANIZATION:-}
    REPOSITORY=${FLEET_REPOSITORY:-}
    RUNNER_GROUP_ID=${FLEET_RUNNER_GROUP_ID:-}
    RUNNER_GROUP=${FLEET_RUNNER_GROUP:-}
    LABELS=${FLEET_LABELS:-}
    NAME_PREFIX=${FLEET_NAME_PREFIX:-}
    API_URL=${FLEET_API_URL:-https://api.github.com}
    API_URL=${API_URL%/}
    SERVER_URL=${FLEET_SERVER_URL:-}
    SERVER_URL=${SERVER_URL%/}
    AUTH=${FLEET_AUTH:-}
    APP_ID=${FLEET_APP_ID:-}
    APP_INSTALLATION_ID=${FLEET_APP_INSTALLATION_ID:-}
    REGISTRATION=${FLEET_REGISTRATION:-jit}
    EPHEMERAL=${FLEET_EPHEMERAL:-true}
    JOB_SUDO=${FLEET_JOB_SUDO:-false}
    CREDENTIAL_FILE=${FLEET_CREDENTIAL_FILE:-/run/fleet/credential}
}

# Prints one line per bad setting, then exits 64 if there was any.
validate_settings() {
    local -a problems=()
    local label
    case $MODE in
        org)
            [[ $ORGANIZATION =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,38})$ ]] ||
                problems+=("FLEET_ORGANIZATION='$ORGANIZATION' is not an organization login; set it to the login, e.g. 'my-org'")
            if [[ $REGISTRATION == jit ]]; then
                [[ $RUNNER_GROUP_ID =~ ^[1-9][0-9]*$ ]] ||
                    problems+=("FLEET_RUNNER_GROUP_ID='$RUNNER_GROUP_ID' is not a runner group id; set it to the group's numeric id (the default group is 1)")
            else
                [[ -n $RUNNER_GROUP && $RUNNER_GROUP != *[,\"\\]* ]] ||
                    problems+=("FLEET_RUNNER_GROUP='$RUNNER_GROUP' is not a runner group name; set it to the group's name for FLEET_REGISTRATION=token")
            fi
            ;;
        repo)
            [[ $REPOSITORY =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$ ]] ||
                problems+=("FLEET_REPOSITORY='$REPOSITORY' is not 'owner/name'; set it to the repository, e.g. 'my-org/my-repo'")
            ;;
        *) problems+=("FLEET_MODE='$MODE' is not 'org' or 'repo'; set it to one of them") ;;
    esac
    if [[ -z $LABELS ]]; then
        problems+=("FLEET_LABELS is empty; set comma-separated labels, e.g. 'self-hosted,Linux,X64'")
    else
        IFS=, read -r -a LABEL_LIST <<<"$LABELS"
        for label in "${LABEL_LIST[@]}"; do
            [[ $label =~ ^[A-Za-z0-9._:-]{1,100}$ ]] ||
                problems+=("FLEET_LABELS='$LABELS' has the bad label '$label'; use letters, digits, '.', '_', ':' or '-', separated by commas")
        done
        ((${#LABEL_LIST[@]} <= 100)) || problems+=("FLEET_LABELS has more than 100 labels; GitHub accepts at most 100")
    fi
    [[ $NAME_PREFIX =~ ^[A-Za-z0-9._-]{1,55}$ ]] ||
        problems+=("FLEET_NAME_PREFIX='$NAME_PREFIX' is not a usable name prefix; use 1 to 55 letters, digits, '.', '_' or '-'")
    check_url FLEET_API_URL "$API_URL" || problems+=("$URL_PROBLEM")
    if [[ -n $SERVER_URL ]]; then
        check_url FLEET_SERVER_URL "$SERVER_URL" || problems+=("$URL_PROBLEM")
    fi
    case $AUTH in
        app)
            [[ $APP_ID =~ ^[1-9][0-9]*$ ]] ||
                problems+=("FLEET_APP_ID='$APP_ID' is not a GitHub App id; set the App's numeric id")
            [[ $APP_INSTALLATION_ID =~ ^[1-9][0-9]*$ ]] ||
                problems+=("FLEET_APP_INSTALLATION_ID='$APP_INSTALLATION_ID' is not an installation id; set the App installation's numeric id")
            ;;
        token) ;;
        *) problems+=("FLEET_AUTH='$AUTH' is not 'app' or 'token'; set it to how the credential file authenticates") ;;
    esac
    [[ $REGISTRATION == jit || $REGISTRATION == token ]] ||
        problems+=("FLEET_REGISTRATION='$REGISTRATION' is not 'jit' or 'token'; use 'jit' unless the server lacks generate-jitconfig")
    [[ $EPHEMERAL == true || $EPHEMERAL == false ]] ||
        problems+=("FLEET_EPHEMERAL='$EPHEMERAL' is not 'true' or 'false'")
    if [[ $EPHEMERAL == false && $REGISTRATION == jit ]]; then
        problems+=("FLEET_EPHEMERAL=false needs FLEET_REGISTRATION=token: just-in-time runners always take exactly one job")
    fi
    [[ $JOB_SUDO == true || $JOB_SUDO == false ]] ||
        problems+=("FLEET_JOB_SUDO='$JOB_SUDO' is not 'true' or 'false'")
    [[ $CREDENTIAL_FILE == /* ]] ||
        problems+=("FLEET_CREDENTIAL_FILE='$CREDENTIAL_FILE' is not an absolute path; leave it unset for /run/fleet/credential")
    local problem
    for problem in "${problems[@]+"${problems[@]}"}"; do
        log "error: $problem"
    done
    ((${#problems[@]} == 0)) || exit "$EXIT_BAD_SETTING"
}

# Accepts https URLs, and plain http only for this machine (tests), so a credential is never sent
# in clear text over a network.
check_url() {
    local name=$1 url=$2
    URL_PROBLEM=""
    if [[ $url =~ ^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]]; then
        return 0
    fi
    if [[ $url =~ ^http://(127\.0\.0\.1|localhost)(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]]; then
        return 0
    fi
    URL_PROBLEM="$name='$url' is not an https URL; use e.g. 'https://api.github.com' or 'https://<host>/api/v3'"
    return 1
}

# --- the credential --------------------------------------------------------------------------

# Runs before anything else touches the credential: makes it root-only, then reads it.
secure_credential() {
    local file=$CREDENTIAL_FILE
    [[ -f $file && -s $file ]] ||
        die "$EXIT_BAD_CREDENTIAL" "the credential file $file (FLEET_CREDENTIAL_FILE) is missing or empty; upload the token or App private key there"
    if ! chown root:root "$file" 2>/dev/null || ! chmod 0400 "$file" 2>/dev/null; then
        [[ $(stat -c '%u %a' "$file") == "0 400" ]] ||
            die "$EXIT_BAD_CREDENTIAL" "the credential file $file cannot be made root-only (mode 0400); upload it writable by root"
    fi
    CREDENTIAL=$(<"$file") ||
        die "$EXIT_BAD_CREDENTIAL" "the credential file $file cannot be read"
    if [[ $AUTH == token ]]; then
        CREDENTIAL=${CREDENTIAL//[$' \t\r\n']/}
        [[ $CREDENTIAL =~ ^[A-Za-z0-9_.-]+$ ]] ||
            die "$EXIT_BAD_CREDENTIAL" "the credential file $file does not hold a token (FLEET_AUTH=token); upload just the token, or set FLEET_AUTH=app for an App private key"
    else
        [[ $CREDENTIAL == *"-----BEGIN "*"PRIVATE KEY-----"* ]] ||
            die "$EXIT_BAD_CREDENTIAL" "the credential file $file does not hold a PEM private key (FLEET_AUTH=app); upload the App's private key, or set FLEET_AUTH=token"
    fi
    remember_secret "$CREDENTIAL"
    # Mask a PEM key line by line too, should a fragment of it ever reach a message.
    local line
    while IFS= read -r line; do
        ((${#line} < 16)) || remember_secret "$line"
    done <<<"$CREDENTIAL"
}

# --- HTTP --------------------------------------------------------------------------------------

# One request. Sets HTTP_STATUS (000 when GitHub could not be reached) and HTTP_BODY. The bearer
# secret travels on curl's stdin, never in its argv.
http_once() {
    local method=$1 url=$2 bearer=$3 body=${4:-}
    local -a args=(--silent --show-error --config - --request "$method" --connect-timeout 5
        --max-time 30 --output "$SCRATCH_DIR/body" --dump-header "$SCRATCH_DIR/headers"
        --write-out '%{http_code}')
    if [[ -n $body ]]; then
        printf '%s' "$body" >"$SCRATCH_DIR/request"
        args+=(--header 'Content-Type: application/json' --data-binary "@$SCRATCH_DIR/request")
    fi
    : >"$SCRATCH_DIR/body"
    : >"$SCRATCH_DIR/headers"
    HTTP_STATUS=$(curl "${args[@]}" -- "$url" 2>"$SCRATCH_DIR/curl-error" <<EOF
header = "Authorization: Bearer $bearer"
header = "Accept: application/vnd.github+json"
header = "X-GitHub-Api-Version: 2022-11-28"
user-agent = "$USER_AGENT"
EOF
    ) || HTTP_STATUS=000
    [[ $HTTP_STATUS =~ ^[0-9]{3}$ ]] || HTTP_STATUS=000
    HTTP_BODY=$(<"$SCRATCH_DIR/body")
}

# Prints the value of a response header of the last request (case-insensitive name).
response_header() {
    local wanted=${1,,} line name value
    while IFS= read -r line; do
        line=${line%$'\r'}
        name=${line%%:*}
        value=${line#*:}
        if [[ ${name,,} == "$wanted" && $line == *:* ]]; then
            value=${value#"${value%%[! ]*}"}
            printf '%s' "$value"
            return 0
        fi
    done <"$SCRATCH_DIR/headers"
    return 0
}

github_message() {
    local message
    message=$(jq -r '.message // empty' <<<"$HTTP_BODY" 2>/dev/null) || message=""
    printf '%s' "${message:0:200}"
}

# Sleeps for up to $1 seconds ("2" or "1.234"), returning early once a stop is requested.
pause() {
    local whole=${1%%.*} fraction=000 slept_ms=0 total_ms
    [[ $1 == *.* ]] && fraction=${1#*.}000
    total_ms=$((10#$whole * 1000 + 10#${fraction:0:3}))
    while ((slept_ms < total_ms)); do
        stop_requested && return 0
        sleep 0.2
        slept_ms=$((slept_ms + 200))
    done
}

# How long to wait before retrying the last answer; empty when it must not be retried.
retry_delay() {
    local attempt=$1 retry_after remaining reset now backoff
    retry_after=$(response_header retry-after)
    remaining=$(response_header x-ratelimit-remaining)
    reset=$(response_header x-ratelimit-reset)
    case $HTTP_STATUS in
        000 | 5??) ;;
        403 | 429)
            if [[ ! $retry_after =~ ^[0-9]+$ && $remaining != 0 && $HTTP_STATUS == 403 ]]; then
                return 0
            fi
            ;;
        *) return 0 ;;
    esac
    if [[ $retry_after =~ ^[0-9]+$ ]]; then
        printf '%s' "$retry_after"
    elif [[ $remaining == 0 && $reset =~ ^[0-9]+$ ]]; then
        now=$(date +%s)
        printf '%s' "$((reset > now ? reset - now + 1 : 1))"
    else
        # Exponential backoff, 1 s doubling to at most 32 s, plus up to a second of jitter.
        backoff=$((1 << (attempt - 1)))
        ((backoff <= 32)) || backoff=32
        printf '%s.%03d' "$backoff" "$((RANDOM % 1000))"
    fi
}

# Calls the GitHub API with bounded retries. Returns with HTTP_STATUS and HTTP_BODY set for any
# answer the caller must judge (2xx, 404, 409, 422 ...); exits on 401, on 403 without a rate-limit
# sign, and when retries run out.
github() {
    local method=$1 path=$2 body=${3:-} attempt delay
    for ((attempt = 1; attempt <= MAX_ATTEMPTS; attempt++)); do
        http_once "$method" "$API_URL$path" "$API_TOKEN" "$body"
        if [[ $HTTP_STATUS == 401 && $API_TOKEN_IS_CACHED == true ]]; then
            # A cached installation token may have been revoked: mint a fresh one, once.
            log "the cached installation token was refused; requesting a new one"
            rm -f "$STATE_DIR/installation-token"
            API_TOKEN_IS_CACHED=false
            authenticate
            http_once "$method" "$API_URL$path" "$API_TOKEN" "$body"
        fi
        case $HTTP_STATUS in
            401) die "$EXIT_REFUSED" "GitHub refused the credential (401 on $method $path: $(github_message)); check the credential file holds a valid, unexpired $(credential_kind)" ;;
        esac
        delay=$(retry_delay "$attempt")
        if [[ -z $delay ]]; then
            if [[ $HTTP_STATUS == 403 ]]; then
                die "$EXIT_REFUSED" "GitHub denied $method $path (403: $(github_message)); the credential needs $(needed_permission)"
            fi
            return 0
        fi
        if ((attempt == MAX_ATTEMPTS)); then
            break
        fi
        log "GitHub answered $HTTP_STATUS to $method $path$(curl_error); retrying in ${delay}s (attempt $attempt of $MAX_ATTEMPTS)"
        pause "$delay"
        stop_if_requested
    done
    die "$EXIT_UNREACHABLE" "GitHub kept failing $method $path (last answer $HTTP_STATUS$(curl_error)) after $MAX_ATTEMPTS attempts; check FLEET_API_URL and the network"
}

curl_error() {
    [[ $HTTP_STATUS == 000 && -s $SCRATCH_DIR/curl-error ]] || return 0
    printf ': %s' "$(head -c 200 "$SCRATCH_DIR/curl-error" | tr -d '\n')"
}

credential_kind() {
    if [[ $AUTH == app ]]; then
        printf 'GitHub App private key for App %s, installation %s' "$APP_ID" "$APP_INSTALLATION_ID"
    else
        printf 'token'
    fi
}

needed_permission() {
    if [[ $MODE == org ]]; then
        printf "the organization permission 'Self-hosted runners: read and write' (classic token: scope admin:org)"
    else
        printf "the repository permission 'Administration: read and write' (classic token: scope repo)"
    fi
}

# --- authentication --------------------------------------------------------------------------

base64url() {
    openssl base64 -A | tr '+/' '-_' | tr -d '='
}

app_jwt() {
    local now header payload unsigned signature
    now=$(date +%s)
    header=$(printf '{"alg":"RS256","typ":"JWT"}' | base64url)
    payload=$(printf '{"iat":%d,"exp":%d,"iss":"%s"}' "$((now - 60))" "$((now + 540))" "$APP_ID" | base64url)
    unsigned="$header.$payload"
    signature=$(printf '%s' "$unsigned" | openssl dgst -sha256 -sign "$CREDENTIAL_FILE" -binary | base64url) ||
        die "$EXIT_BAD_CREDENTIAL" "the private key in $CREDENTIAL_FILE cannot sign (FLEET_AUTH=app); upload the App's PEM private key"
    [[ -n $signature ]] ||
        die "$EXIT_BAD_CREDENTIAL" "the private key in $CREDENTIAL_FILE cannot sign (FLEET_AUTH=app); upload the App's PEM private key"
    printf '%s.%s' "$unsigned" "$signature"
}

# The cache is keyed by API URL, App and installation, so a changed setting never reuses a token.
token_cache_key() {
    printf '%s %s %s' "$API_URL" "$APP_ID" "$APP_INSTALLATION_ID"
}

# Reuses a cached installation token that has more than five minutes left.
read_cached_installation_token() {
    local file=$STATE_DIR/installation-token key expires token
    [[ -f $file ]] || return 1
    {
        IFS= read -r key && IFS= read -r expires && IFS= read -r token
    } <"$file" || return 1
    [[ $key == "$(token_cache_key)" && $expires =~ ^[0-9]+$ && -n $token ]] || return 1
    (($(date +%s) + 300 < expires)) || return 1
    API_TOKEN=$token
    API_TOKEN_IS_CACHED=true
    remember_secret "$API_TOKEN"
}

create_installation_token() {
    local jwt expires_at expires
    jwt=$(app_jwt)
    remember_secret "$jwt"
    API_TOKEN=$jwt
    API_TOKEN_IS_CACHED=false
    github POST "/app/installations/$APP_INSTALLATION_ID/access_tokens"
    case $HTTP_STATUS in
        201) ;;
        404) die "$EXIT_REFUSED" "GitHub knows no installation $APP_INSTALLATION_ID of App $APP_ID (404); check FLEET_APP_ID and FLEET_APP_INSTALLATION_ID" ;;
        *) die "$EXIT_REFUSED" "GitHub did not issue an installation token ($HTTP_STATUS: $(github_message)); check FLEET_APP_ID and FLEET_APP_INSTALLATION_ID" ;;
    esac
    API_TOKEN=$(jq -r '.token // empty' <<<"$HTTP_BODY")
    expires_at=$(jq -r '.expires_at // empty' <<<"$HTTP_BODY")
    [[ -n $API_TOKEN ]] || die "$EXIT_UNREACHABLE" "GitHub's installation token answer held no token"
    remember_secret "$API_TOKEN"
    expires=$(date -d "$expires_at" +%s 2>/dev/null) || expires=$(($(date +%s) + 3000))
    mkdir -p "$STATE_DIR"
    chmod 0700 "$STATE_DIR"
    printf '%s\n%s\n%s\n' "$(token_cache_key)" "$expires" "$API_TOKEN" >"$STATE_DIR/installation-token.new"
    mv -f "$STATE_DIR/installation-token.new" "$STATE_DIR/installation-token"
}

authenticate() {
    if [[ $AUTH == token ]]; then
        API_TOKEN=$CREDENTIAL
        return 0
    fi
    read_cached_installation_token || create_installation_token
}

# --- GitHub scope paths ----------------------------------------------------------------------

scope_path() {
    if [[ $MODE == org ]]; then
        printf '/orgs/%s' "$ORGANIZATION"
    else
        printf '/repos/%s' "$REPOSITORY"
    fi
}

scope_name() {
    if [[ $MODE == org ]]; then
        printf "organization '%s' (FLEET_ORGANIZATION)" "$ORGANIZATION"
    else
        printf "repository '%s' (FLEET_REPOSITORY)" "$REPOSITORY"
    fi
}

# The web URL config.sh registers against: FLEET_SERVER_URL, or derived from FLEET_API_URL.
server_url() {
    local base=$SERVER_URL scope=${ORGANIZATION}
    [[ $MODE == repo ]] && scope=$REPOSITORY
    if [[ -z $base ]]; then
        base=$API_URL
        if [[ $base == https://api.github.com ]]; then
            base=https://github.com
        else
            base=${base%/api/v3}
        fi
    fi
    [[ $base == */"$scope" ]] || base="$base/$scope"
    printf '%s' "$base"
}

new_runner_name() {
    printf '%s-%s' "$NAME_PREFIX" "$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
}

# --- clean state -----------------------------------------------------------------------------

# Removes everything a previous start or job left behind: runner settings, _diag, the work
# directory, files a job put into the runner's home, and temp files.
clean_state() {
    local entry name
    rm -rf "$SCRATCH_DIR"
    mkdir -m 0700 "$SCRATCH_DIR"
    if [[ -f $RUNNER_HOME_MANIFEST ]]; then
        for entry in "$RUNNER_ROOT"/.[!.]* "$RUNNER_ROOT"/..?* "$RUNNER_ROOT"/*; do
            [[ -e $entry || -L $entry ]] || continue
            name=${entry##*/}
            [[ $name == _work ]] && continue
            grep -qxF -- "$name" "$RUNNER_HOME_MANIFEST" || rm -rf -- "$entry"
        done
    fi
    rm -rf -- "$RUNNER_ROOT/.runner" "$RUNNER_ROOT/.credentials" "$RUNNER_ROOT/.credentials_rsaparams" \
        "$RUNNER_ROOT/_diag"
    # Emptied rather than removed: the fleet mounts a tmpfs on the work directory and on /tmp.
    local directory
    for directory in "$RUNNER_ROOT/_work" /tmp /var/tmp; do
        [[ -d $directory ]] && find "$directory" -mindepth 1 -delete
    done
    return 0
}

# Jobs get passwordless sudo only when the stack opts in: the runner user's sudo group membership
# is granted or revoked on every start.
configure_sudo() {
    getent group sudo >/dev/null || {
        [[ $JOB_SUDO == false ]] ||
            die "$EXIT_BAD_SETTING" "FLEET_JOB_SUDO=true but the image has no sudo group; set FLEET_JOB_SUDO=false"
        return 0
    }
    if [[ $JOB_SUDO == true ]]; then
        id -nG "$RUNNER_USER" | tr ' ' '\n' | grep -qx sudo || gpasswd -a "$RUNNER_USER" sudo >/dev/null
    else
        if id -nG "$RUNNER_USER" | tr ' ' '\n' | grep -qx sudo; then
            gpasswd -d "$RUNNER_USER" sudo >/dev/null
        fi
    fi
}

# --- the runner ------------------------------------------------------------------------------

# Starts a runner command in the background as the runner user, with a scrubbed environment and
# (unless jobs may sudo) no way to gain privileges. Extra NAME=value pairs are exported to it
# without touching any argv.
start_as_runner() {
    local -a extra_env=()
    while [[ $1 == *=* ]]; do
        extra_env+=("$1")
        shift
    done
    local -a privileges=(--reuid="$RUNNER_USER" --regid="$RUNNER_USER" --init-groups)
    [[ $JOB_SUDO == true ]] || privileges+=(--no-new-privs)
    (
        local name pair path=$PATH
        while IFS= read -r name; do
            unset "$name" 2>/dev/null || true
        done < <(compgen -e)
        export HOME=$RUNNER_ROOT PATH=$path LANG=C.UTF-8 USER=$RUNNER_USER
        export RUNNER_MANUALLY_TRAP_SIG=1 ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1
        for pair in "${extra_env[@]+"${extra_env[@]}"}"; do
            export "${pair%%=*}=${pair#*=}"
        done
        cd "$RUNNER_ROOT"
        exec setpriv "${privileges[@]}" -- setsid "$@"
    ) &
    RUNNER_PID=$!
    # Hand the pid to the supervisor, then look at the stop flag: whichever of the two comes
    # second forwards the stop, so a signal racing the start is never lost.
    printf '%s\n' "$RUNNER_PID" >"$CONTROL_DIR/runner.pid.new"
    mv -f "$CONTROL_DIR/runner.pid.new" "$CONTROL_DIR/runner.pid"
    if stop_requested; then
        kill -TERM "$RUNNER_PID" 2>/dev/null || true
    fi
}

# Runs a runner command as the runner user and returns its exit status. On a stop, the
# supervisor forwards the signal to the runner, which ends this wait.
run_runner_in_foreground() {
    local status
    start_as_runner "$@"
    while :; do
        status=0
        wait "$RUNNER_PID" || status=$?
        if ((status > 128)) && kill -0 "$RUNNER_PID" 2>/dev/null; then
            continue
        fi
        break
    done
    rm -f "$CONTROL_DIR/runner.pid"
    RUNNER_PID=""
    return "$status"
}

# Registers a just-in-time runner; sets RUNNER_ID and JIT_CONFIG.
generate_jit_config() {
    local name body attempt labels_json group_id=$RUNNER_GROUP_ID
    labels_json=$(printf '%s\n' "${LABEL_LIST[@]}" | jq -R . | jq -cs .)
    [[ $MODE == repo ]] && group_id=1
    for ((attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++)); do
        name=$(new_runner_name)
        body=$(jq -cn --arg name "$name" --argjson group "$group_id" --argjson labels "$labels_json" \
            '{name: $name, runner_group_id: $group, labels: $labels, work_folder: "_work"}')
        github POST "$(scope_path)/actions/runners/generate-jitconfig" "$body"
        case $HTTP_STATUS in
            201)
                RUNNER_ID=$(jq -r '.runner.id // empty' <<<"$HTTP_BODY")
                JIT_CONFIG=$(jq -r '.encoded_jit_config // empty' <<<"$HTTP_BODY")
                remember_secret "$JIT_CONFIG"
                [[ -n $RUNNER_ID && -n $JIT_CONFIG ]] ||
                    die "$EXIT_UNREACHABLE" "GitHub's generate-jitconfig answer held no runner or config"
                log "registered runner '$name' (id $RUNNER_ID) just in time"
                return 0
                ;;
            409) log "the runner name '$name' is taken; picking another" ;;
            404) die "$EXIT_BAD_SETTING" "GitHub knows no $(scope_name), or the credential cannot see it (404); check the name and that the credential has access" ;;
            422) die "$EXIT_BAD_SETTING" "GitHub rejected the registration (422: $(github_message)); check FLEET_RUNNER_GROUP_ID and FLEET_LABELS" ;;
            *) die "$EXIT_UNREACHABLE" "GitHub answered $HTTP_STATUS to generate-jitconfig: $(github_message)" ;;
        esac
    done
    die "$EXIT_UNREACHABLE" "every runner name tried was taken ($MAX_NAME_ATTEMPTS attempts); check for runners named '$NAME_PREFIX-*'"
}

# Fetches a registration or remove token into RUNNER_TOKEN.
runner_token() {
    local kind=$1
    github POST "$(scope_path)/actions/runners/$kind-token"
    case $HTTP_STATUS in
        201) ;;
        404) die "$EXIT_BAD_SETTING" "GitHub knows no $(scope_name), or the credential cannot see it (404); check the name and that the credential has access" ;;
        *) die "$EXIT_UNREACHABLE" "GitHub answered $HTTP_STATUS to $kind-token: $(github_message)" ;;
    esac
    RUNNER_TOKEN=$(jq -r '.token // empty' <<<"$HTTP_BODY")
    [[ -n $RUNNER_TOKEN ]] || die "$EXIT_UNREACHABLE" "GitHub's $kind-token answer held no token"
    remember_secret "$RUNNER_TOKEN"
}

# Deletes this runner's registration; a busy runner is retried for a while (its job is being
# cancelled), a runner GitHub already removed counts as done.
deregister() {
    local attempt
    [[ -n $RUNNER_ID ]] || return 0
    for ((attempt = 1; attempt <= 5; attempt++)); do
        github DELETE "$(scope_path)/actions/runners/$RUNNER_ID"
        case $HTTP_STATUS in
            204 | 404)
                log "deregistered runner id $RUNNER_ID"
                RUNNER_ID=""
                return 0
                ;;
            422) pause 1 ;;
            *) break ;;
        esac
    done
    log "could not deregister runner id $RUNNER_ID (last answer $HTTP_STATUS); GitHub removes offline runners by itself"
    return 0
}

run_jit() {
    generate_jit_config
    stop_if_requested
    local status=0
    run_runner_in_foreground "ACTIONS_RUNNER_INPUT_JITCONFIG=$JIT_CONFIG" "$RUNNER_ROOT/run.sh" || status=$?
    JIT_CONFIG=""
    finish "$status"
}

run_registration_token() {
    local name status=0 runner_url
    local -a flags
    runner_token registration
    name=$(new_runner_name)
    runner_url=$(server_url)
    flags=(--url "$runner_url" --name "$name" --labels "$LABELS" --work _work --unattended --replace
        --disableupdate --no-default-labels)
    [[ $MODE == org ]] && flags+=(--runnergroup "$RUNNER_GROUP")
    [[ $EPHEMERAL == true ]] && flags+=(--ephemeral)
    if ! run_runner_in_foreground "ACTIONS_RUNNER_INPUT_TOKEN=$RUNNER_TOKEN" "$RUNNER_ROOT/config.sh" "${flags[@]}"; then
        stop_if_requested
        die "$EXIT_RUNNER_FAILED" "config.sh could not register runner '$name' at $runner_url"
    fi
    RUNNER_TOKEN=""
    RUNNER_ID=$(jq -r '.agentId // empty' "$RUNNER_ROOT/.runner" 2>/dev/null) || RUNNER_ID=""
    log "registered runner '$name' (id ${RUNNER_ID:-unknown}) with a registration token"
    stop_if_requested
    run_runner_in_foreground "$RUNNER_ROOT/run.sh" || status=$?
    finish "$status"
}

# config.sh remove, when the registration-token runner is still configured (the real runner
# deletes its settings after its one ephemeral job, and GitHub deletes its registration).
remove_with_config() {
    [[ $REGISTRATION == token && -f $RUNNER_ROOT/.runner ]] || return 0
    runner_token remove
    if run_runner_in_foreground "ACTIONS_RUNNER_INPUT_TOKEN=$RUNNER_TOKEN" "$RUNNER_ROOT/config.sh" remove; then
        log "removed runner id ${RUNNER_ID:-unknown} with config.sh remove"
        RUNNER_ID=""
    fi
}

finish() {
    local status=$1
    if stop_requested; then
        stop_and_exit
    fi
    if ((status != 0)); then
        log "the runner exited with status $status"
        remove_with_config
        deregister
        exit "$EXIT_RUNNER_FAILED"
    fi
    remove_with_config
    log "the runner finished"
    exit 0
}

# --- stopping ----------------------------------------------------------------------------------
#
# Stop signals are taken by a supervisor process that does nothing but wait for the worker (this
# same script with --worker). Bash 5.2 can corrupt its parser when a trap fires while a command
# substitution is being expanded ("trap: unexpected EOF while looking for matching `)'"), and the
# worker expands many; the supervisor expands none, so its traps always run. The two talk through
# root-only files: the stop flag and the runner's pid.

stop_requested() {
    [[ -e $CONTROL_DIR/stop ]]
}

stop_if_requested() {
    stop_requested || return 0
    stop_and_exit
}

stop_and_exit() {
    remove_with_config
    deregister
    log "stopped"
    exit 0
}

# shellcheck disable=SC2329 # invoked by the TERM and INT traps set in supervise
on_stop_signal() {
    local signal=$1 pid=""
    if [[ ! -e $CONTROL_DIR/stop ]]; then
        printf '%(%Y-%m-%dT%H:%M:%SZ)T fleet-entrypoint: received SIG%s; stopping the runner\n' \
            -1 "$signal" >&2
    fi
    : >"$CONTROL_DIR/stop"
    [[ -f $CONTROL_DIR/runner.pid ]] && read -r pid <"$CONTROL_DIR/runner.pid" || return 0
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
    # Always TERM: the runner is started in the background, where SIGINT is ignored.
    kill -TERM "$pid" 2>/dev/null || true
    # The runner cancels its job and exits; past the grace period its whole session is killed.
    (
        sleep "$RUNNER_STOP_GRACE_SECONDS"
        kill -KILL -- "-$pid" 2>/dev/null || true
    ) &
    return 0
}

# The container's main process: starts the worker, forwards stop signals, exits with its status.
supervise() {
    local worker status
    export TZ=UTC
    rm -rf "$CONTROL_DIR"
    mkdir -m 0700 "$CONTROL_DIR"
    trap 'on_stop_signal TERM' TERM
    trap 'on_stop_signal INT' INT
    # The worker sees the flag before it calls GitHub, and stops without registering.
    [[ -z $EARLY_STOP ]] || on_stop_signal "$EARLY_STOP"
    "${BASH_SOURCE[0]}" --worker &
    worker=$!
    # wait returns early whenever a trap ran; keep waiting until the worker is gone.
    while kill -0 "$worker" 2>/dev/null; do
        wait "$worker" || true
    done
    status=0
    wait "$worker" || status=$?
    exit "$status"
}

work() {
    # Only the supervisor handles stop signals; nobody signals the worker.
    trap - TERM INT
    load_settings
    validate_settings
    secure_credential
    clean_state
    configure_sudo
    stop_if_requested
    authenticate
    stop_if_requested
    if [[ $REGISTRATION == jit ]]; then
        run_jit
    else
        run_registration_token
    fi
}

main() {
    if [[ ${1:-} == --worker ]]; then
        work
    else
        supervise
    fi
}

main "$@"
