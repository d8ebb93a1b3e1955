#!/usr/bin/env bash
# Run Tempest's volume API tests against this checkout's `volflow api`,
# behind a real Keystone.
#
#   bash tools/tempest/run.sh [REGEX]      (default '^tempest\.api\.volume')
#
# What it does, every server on 127.0.0.1, on free ports, in a temporary
# directory removed at the end:
#   1. installs Keystone 30.0.0 (+ gunicorn) and Tempest 47.0.0 from PyPI
#      into virtualenvs of their own under $VOLFLOW_TEMPEST_CACHE (default
#      .tempest/ in the checkout, gitignored), once: later runs reuse them;
#   2. starts Keystone (SQLite, fernet tokens, one gunicorn worker: SQLite
#      locks with two), bootstraps admin, adds the service user, a demo
#      project and user, and the catalog (setup_keystone.py);
#   3. starts `volflow api` from this checkout (PYTHONPATH) with
#      auth_strategy = keystone and a state directory of its own;
#   4. uploads a small image and writes tempest.conf (feature flags below,
#      each with its reason);
#   5. runs `tempest run --regex REGEX` minus exclude.txt, prints the
#      per-module summary (summarize.py) and stops everything.
#
# Environment:
#   VOLFLOW_CHECKOUT             the volflow checkout to test (default: the
#                                one this script is in)
#   VOLFLOW_TEMPEST_CACHE        where the virtualenvs live
#   VOLFLOW_TEMPEST_CONCURRENCY  Tempest workers (default 2)
#   VOLFLOW_TEMPEST_SUMMARY      also write the summary to this file
#   VOLFLOW_TEMPEST_KEEP=1       keep the temporary directory (logs, conf)
#   VOLFLOW_PYTHON               interpreter for volflow (default python3)
# Exit status: Tempest's (0 when no test failed).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHECKOUT="$(cd "${VOLFLOW_CHECKOUT:-$HERE/../..}" && pwd)"
REGEX="${1:-^tempest\.api\.volume}"
CACHE="${VOLFLOW_TEMPEST_CACHE:-$CHECKOUT/.tempest}"
CONCURRENCY="${VOLFLOW_TEMPEST_CONCURRENCY:-2}"
PYTHON="${VOLFLOW_PYTHON:-python3}"
KEYSTONE_VERSION=30.0.0
TEMPEST_VERSION=47.0.0

log() { echo "tempest-run: $*" >&2; }

# 1. The virtualenvs, made once per version.
venv() {  # venv DIR STAMP PACKAGES...
    local dir="$1" stamp="$2"
    shift 2
    if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$stamp" ]; then
        return
    fi
    log "installing $* into $dir"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@" \
        >"$dir.install.log" 2>&1 || { tail -n 20 "$dir.install.log" >&2; exit 1; }
    echo "$stamp" >"$dir/.installed"
}
START=$SECONDS
mkdir -p "$CACHE"
venv "$CACHE/keystone" "keystone==$KEYSTONE_VERSION" \
    "keystone==$KEYSTONE_VERSION" gunicorn
venv "$CACHE/tempest" "tempest==$TEMPEST_VERSION" "tempest==$TEMPEST_VERSION"
INSTALLED=$SECONDS
log "virtualenvs ready in $((INSTALLED - START)) s"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/volflow-tempest.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${VOLFLOW_TEMPEST_KEEP:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

wait_http() {  # wait_http URL NAME LOG
    local i
    for i in $(seq 1 120); do
        if "$PYTHON" - "$1" <<'EOF' 2>/dev/null; then return 0; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass
EOF
        sleep 0.5
    done
    log "$2 did not answer at $1; its log:"
    tail -n 40 "$3" >&2
    exit 1
}

ADMIN_PASSWORD="admin-$RANDOM$RANDOM"
SERVICE_PASSWORD="service-$RANDOM$RANDOM"

# 2. Keystone.
KS_PORT="$("$PYTHON" "$HERE/free_port.py")"
KS_URL="http://127.0.0.1:$KS_PORT"
mkdir -p "$WORK/keystone/fernet-keys" "$WORK/keystone/credential-keys"
cat >"$WORK/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $WORK/keystone/keystone.log
[database]
connection = sqlite:///$WORK/keystone/keystone.sqlite
[identity]
# bcrypt's fewest rounds: Tempest makes and authenticates hundreds of
# throwaway users, and each hash costs 2^rounds.
password_hash_rounds = 4
[cache]
# In-process cache: one worker, so it is never stale.
enabled = true
backend = dogpile.cache.memory
[token]
provider = fernet
[fernet_tokens]
key_repository = $WORK/keystone/fernet-keys
[credential]
key_repository = $WORK/keystone/credential-keys
EOF
ks_manage() {
    "$CACHE/keystone/bin/keystone-manage" \
        --config-file "$WORK/keystone/keystone.conf" "$@" \
        >>"$WORK/keystone/manage.log" 2>&1 \
        || { tail -n 20 "$WORK/keystone/manage.log" >&2; exit 1; }
}
ks_manage db_sync
ks_manage fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
ks_manage credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
ks_manage bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-admin-url "$KS_URL/v3" --bootstrap-public-url "$KS_URL/v3" \
    --bootstrap-internal-url "$KS_URL/v3" --bootstrap-region-id RegionOne
OS_KEYSTONE_CONFIG_FILES="$WORK/keystone/keystone.conf" \
    "$CACHE/keystone/bin/gunicorn" --workers 1 --bind "127.0.0.1:$KS_PORT" \
    --chdir "$HERE" --error-logfile "$WORK/keystone/gunicorn.log" \
    keystone_wsgi:application >"$WORK/keystone/gunicorn.out" 2>&1 &
PIDS+=($!)
wait_http "$KS_URL/v3" keystone "$WORK/keystone/gunicorn.log"

# 3. volflow api, from this checkout.
VF_PORT="$("$PYTHON" "$HERE/free_port.py")"
VF_URL="http://127.0.0.1:$VF_PORT"
"$PYTHON" "$HERE/setup_keystone.py" "$KS_URL/v3" "$ADMIN_PASSWORD" \
    "$SERVICE_PASSWORD" "$VF_URL" "$VF_URL/image"
mkdir -p "$WORK/volflow"
cat >"$WORK/volflow/volflow.conf" <<EOF
[DEFAULT]
state_path = $WORK/volflow/state
[api]
auth_strategy = keystone
workers = 16
[keystone_authtoken]
www_authenticate_uri = $KS_URL/v3
auth_url = $KS_URL/v3
auth_type = password
username = volflow
password = $SERVICE_PASSWORD
project_name = service
user_domain_id = default
project_domain_id = default
service_token_roles_required = true
EOF
export PYTHONPATH="$CHECKOUT${PYTHONPATH:+:$PYTHONPATH}"
XDG_DATA_HOME="$WORK/volflow" "$PYTHON" -m volflow \
    --config-file "$WORK/volflow/volflow.conf" api --bind-port "$VF_PORT" \
    >"$WORK/volflow/api.log" 2>&1 &
PIDS+=($!)
wait_http "$VF_URL/" "volflow api" "$WORK/volflow/api.log"
log "keystone at $KS_URL, volflow api at $VF_URL ($WORK)"

# 4. tempest.conf.
IMAGE_REF=""
GLANCE=False
if "$PYTHON" - "$VF_URL/image/versions" <<'EOF' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5)
EOF
    GLANCE=True
    head -c 1048576 /dev/urandom >"$WORK/image.raw"
    IMAGE_REF="$(env OS_AUTH_URL="$KS_URL/v3" OS_USERNAME=admin \
        OS_PASSWORD="$ADMIN_PASSWORD" OS_PROJECT_NAME=admin \
        OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default \
        OS_IDENTITY_API_VERSION=3 \
        openstack image create --file "$WORK/image.raw" --public \
        --disk-format raw --container-format bare -f value -c id cirros)"
fi
# A workspace of the run's own (not `tempest init`, which records every
# workspace by name in ~/.tempest, shared by every run on the machine).
TEMPEST_PKG="$("$CACHE/tempest/bin/python" -c 'import os, tempest; print(os.path.dirname(tempest.__file__))')"
mkdir -p "$WORK/ws/etc" "$WORK/ws/lock"
cat >"$WORK/ws/.stestr.conf" <<EOF
[DEFAULT]
test_path=$TEMPEST_PKG/test_discover
top_dir=$TEMPEST_PKG
group_regex=([^\.]*\.)*
EOF
MAX_MICROVERSION="$("$PYTHON" -c 'from volflow.api import microversion as m; print(m.text(m.MAX_VERSION))')"
cat >"$WORK/ws/etc/tempest.conf" <<EOF
[DEFAULT]
log_file = $WORK/ws/tempest.log

[oslo_concurrency]
lock_path = $WORK/ws/lock

[auth]
use_dynamic_credentials = True
admin_username = admin
admin_password = $ADMIN_PASSWORD
admin_project_name = admin
admin_domain_name = Default
tempest_roles = member

[identity]
uri_v3 = $KS_URL/v3
auth_version = v3
region = RegionOne

[identity-feature-enabled]
api_v3 = True

[service_available]
cinder = True
# The image service: volflow api's Image API v2 subset at /image.
glance = $GLANCE
# No compute, network or object storage service here.
nova = False
neutron = False
swift = False

[compute]
image_ref = $IMAGE_REF

[volume]
catalog_type = block-storage
region = RegionOne
min_microversion = 3.0
max_microversion = $MAX_MICROVERSION
build_timeout = 120
build_interval = 1
# What the one back end reports in its capabilities and pools.
storage_protocol = local
vendor_name = volflow

[volume-feature-enabled]
# No backup service.
backup = False
# Snapshots and volumes from snapshots are served.
snapshot = True
# Volumes from volumes (source_volid) are served.
clone = True
# Adopting existing storage (manageable volumes/snapshots): not served.
manage_volume = False
manage_snapshot = False
# No replication.
replication = False
# The run configures one back end.
multi_backend = False
# No compute service: nothing is ever attached to an instance.
extend_attached_volume = False
extend_attached_encrypted_volume = False
# GET /extensions lists what is served.
api_extensions = all
EOF

# 5. Tempest.
cd "$WORK/ws"
export TEMPEST_CONFIG_DIR="$WORK/ws/etc" TEMPEST_CONFIG=tempest.conf
RUN_START=$SECONDS
set +e
"$CACHE/tempest/bin/tempest" run --regex "$REGEX" \
    --exclude-list "$HERE/exclude.txt" --concurrency "$CONCURRENCY" \
    >"$WORK/tempest.out" 2>&1
STATUS=$?
set -e
tail -n 12 "$WORK/tempest.out"
"$CACHE/tempest/bin/stestr" last --subunit 2>/dev/null \
    | "$CACHE/tempest/bin/python" "$HERE/summarize.py" \
        "$((INSTALLED - START))" "$((SECONDS - RUN_START))" \
    | tee "${VOLFLOW_TEMPEST_SUMMARY:-/dev/null}"
exit "$STATUS"
