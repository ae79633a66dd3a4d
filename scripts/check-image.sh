#!/usr/bin/env bash
# Build Maatje's Dockerfile with buildah (no Docker engine) and check the image runs.
#
#   1. a stand-in for python:3.11-slim from Debian bookworm (debootstrap), stored locally as
#      docker.io/library/python:3.11-slim so the Dockerfile's FROM resolves without a pull;
#   2. `buildah bud --pull=never` of the Dockerfile, unchanged, from a clean clone;
#   3. run the image: user (uid 10001), CMD against a fake Slack (HTTP mode), migrations in
#      /data/maatje.db, the image's own HEALTHCHECK command, a signed Slack request, SIGTERM.
#
# No Docker engine is needed (`make image-check`). Docker Hub need not be reachable either:
# the base is a stand-in, so this proves the Dockerfile's own steps, not the upstream image.
# Everything lives under $W (default /tmp/maatje-image-check); each run starts over. Exits
# non-zero on any failure. Needs root, buildah, debootstrap, git, and a Python with aiohttp
# for the fake Slack ($HOST_PYTHON, default the repository's .venv).
set -Eeuo pipefail

W=${W:-/tmp/maatje-image-check}
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
HOST_PYTHON=${HOST_PYTHON:-$REPO/.venv/bin/python}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BASE_TAG=docker.io/library/python:3.11-slim
IMAGE=localhost/maatje:check
CTR=maatje-check
PORT=3000
HEALTH_WAIT=${HEALTH_WAIT:-60}

ISO=(--isolation chroot)   # runc/crun cannot run here (cgroup v1 hybrid); chroot can
B=(buildah --root "$W/storage" --runroot "$W/runroot" --storage-driver "${DRIVER:-overlay}")

log() { printf '\n=== %s ===\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
declare -A T
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

RUN_PID="" FAKE_PID=""
cleanup() {
  set +e
  [[ -n $RUN_PID ]] && kill -0 "$RUN_PID" 2>/dev/null && kill -TERM -- "-$RUN_PID" 2>/dev/null
  [[ -n $FAKE_PID ]] && kill -0 "$FAKE_PID" 2>/dev/null && kill -TERM "$FAKE_PID" 2>/dev/null
  wait 2>/dev/null
  "${B[@]}" umount --all >/dev/null 2>&1
}
trap cleanup EXIT
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

[[ $(id -u) == 0 ]] || fail "run as root (debootstrap, chroot isolation)"
for tool in buildah debootstrap git chroot setsid; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install -y $tool)"
done
"$HOST_PYTHON" -c 'import aiohttp' || fail "$HOST_PYTHON has no aiohttp (for the fake Slack)"

# ---------------------------------------------------------------- clean state
log "0. clean previous state under $W"
t=$(now)
mkdir -p "$W"
if [[ -d $W/storage ]]; then
  "${B[@]}" umount --all >/dev/null 2>&1 || true
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
fi
rm -rf "$W/storage" "$W/runroot" "$W/rootfs" "$W/src" "$W/run"
mkdir -p "$W/run"
T[clean]=$(took "$t")

# ---------------------------------------------------------------- 1. base image
log "1. stand-in base image $BASE_TAG (Debian bookworm, Python 3.11)"
t=$(now)
# python:3.11-slim = debian:bookworm-slim + ca-certificates netbase tzdata + Python in
# /usr/local with python/pip on PATH and no PEP 668 marker.
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,netbase,tzdata \
  bookworm "$W/rootfs" "$MIRROR" >"$W/run/debootstrap.log" 2>&1 \
  || { tail -20 "$W/run/debootstrap.log"; fail "debootstrap"; }
T[debootstrap]=$(took "$t")
t=$(now)
# The network here goes through a TLS-intercepting proxy: its CA must be trusted in the image
# (a stand-in detail; python:3.11-slim on an open network needs nothing like it).
cp /etc/ssl/certs/ca-certificates.crt "$W/rootfs/etc/ssl/certs/ca-certificates.crt"
rm -f "$W/rootfs/usr/lib/python3.11/EXTERNALLY-MANAGED"
rm -f "$W/rootfs/etc/hostname" "$W/rootfs/etc/resolv.conf"
chroot "$W/rootfs" /usr/bin/python3 -m venv /opt/python
rm -rf "$W/rootfs/var/cache/apt/archives/"*.deb "$W/rootfs/var/lib/apt/lists/"*
ctr=$("${B[@]}" from scratch)
mnt=$("${B[@]}" mount "$ctr")
cp -a "$W/rootfs/." "$mnt/"
"${B[@]}" umount "$ctr" >/dev/null
"${B[@]}" config --os linux --arch amd64 \
  --env PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 --cmd python3 \
  --label org.opencontainers.image.description="stand-in for python:3.11-slim (debootstrap bookworm)" \
  "$ctr"
"${B[@]}" commit --quiet --rm --format docker "$ctr" "$BASE_TAG" >/dev/null
"${B[@]}" images
probe=$("${B[@]}" from --pull=never "$BASE_TAG")
"${B[@]}" run "${ISO[@]}" "$probe" -- sh -c \
  'for c in python pip useradd; do command -v $c; done; python --version; pip --version; python -c "import zoneinfo; zoneinfo.ZoneInfo(\"Europe/Amsterdam\")"'
"${B[@]}" rm "$probe" >/dev/null
T[base]=$(took "$t")

# ---------------------------------------------------------------- 2. build
log "2. build $REPO's Dockerfile (unchanged) from a clean clone"
t=$(now)
git clone --quiet "$REPO" "$W/src"
echo "commit: $(git -C "$W/src" rev-parse HEAD)"
echo "Dockerfile sha256: $(sha256sum <"$W/src/Dockerfile" | cut -d' ' -f1)"
"${B[@]}" bud "${ISO[@]}" --pull=never --format docker --layers=false \
  -t "$IMAGE" -f "$W/src/Dockerfile" "$W/src" 2>&1 | tee "$W/run/build.log"
[[ ${PIPESTATUS[0]} == 0 ]] || fail "buildah bud"
"${B[@]}" images
T[build]=$(took "$t")

# ---------------------------------------------------------------- 3. run
log "3. run the image"
t=$(now)
"${B[@]}" inspect --type image "$IMAGE" >"$W/run/image.json"
mapfile -t CMD < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["Docker"]["config"]
print(c["User"]); print(c["WorkingDir"]); print(json.dumps(c["Healthcheck"]))
print(*c["Env"], sep="\n", file=sys.stderr)
for part in c["Cmd"]: print(part)' "$W/run/image.json")
IMG_USER=${CMD[0]} IMG_WORKDIR=${CMD[1]} HEALTHCHECK_JSON=${CMD[2]}
CMD=("${CMD[@]:3}")
echo "image User=$IMG_USER WorkingDir=$IMG_WORKDIR Cmd=${CMD[*]}"
echo "image Healthcheck=$HEALTHCHECK_JSON"
[[ $IMG_USER == maatje ]] || fail "image user is '$IMG_USER', not maatje"
mapfile -t HC < <(python3 -c '
import json, sys
t = json.loads(sys.argv[1])["Test"]
if t[0] == "CMD-SHELL": print("/bin/sh"); print("-c"); print(t[1])
elif t[0] == "CMD": print(*t[1:], sep="\n")
else: sys.exit("unexpected healthcheck " + repr(t))' "$HEALTHCHECK_JSON")

# The fake Slack Web API from the project's tests, on 127.0.0.1 (chroot isolation shares the
# host's network, as `docker run --network host` would).
BOT_TOKEN=$(sed -n 's/^BOT_TOKEN = "\(.*\)"$/\1/p' "$W/src/tests/slack/slack_fake.py")
SIGNING_SECRET=check-image-signing-secret
"$HOST_PYTHON" "$W/src/scripts/fake_slack_server.py" "$W/src" "$W/run/fake-url" >"$W/run/fake-slack.log" 2>&1 &
FAKE_PID=$!
for _ in $(seq 50); do [[ -s $W/run/fake-url ]] && break; sleep 0.1; done
[[ -s $W/run/fake-url ]] || { cat "$W/run/fake-slack.log"; fail "fake Slack did not start"; }
FAKE_URL=$(cat "$W/run/fake-url")
echo "fake Slack Web API at $FAKE_URL"

# A minimal config: Slack in HTTP mode (the HEALTHCHECK's /healthz is served there), one
# programme; the database comes from the image's DATABASE_URL (sqlite:////data/maatje.db).
cat >"$W/run/config.toml" <<EOF
[logging]
level = "INFO"

[slack]
enabled = true
mode = "http"
host = "0.0.0.0"
port = $PORT
api_base_url = "$FAKE_URL"

[[programmes]]
name = "Image check"
slug = "image-check"
language = "nl"
timezone = "Europe/Amsterdam"
start = "2026-09-01"
end = "2027-01-31"
meeting_cadence = "biweekly"
meetings = 4
EOF
chmod 644 "$W/run/config.toml"

"${B[@]}" from --pull=never --name "$CTR" "$IMAGE" >/dev/null
run_in() { "${B[@]}" run "${ISO[@]}" "$@"; }

echo "--- id (the image's USER, as buildah run uses it by default)"
run_in "$CTR" -- id | tee "$W/run/id.txt"
grep -q '^uid=10001(maatje) gid=10001(maatje)' "$W/run/id.txt" || fail "not uid 10001"
echo "--- /data before start"
run_in "$CTR" -- ls -la /data

echo "--- start: ${CMD[*]}"
started=$(now)
setsid "${B[@]}" run "${ISO[@]}" \
  -e SLACK_BOT_TOKEN="$BOT_TOKEN" -e SLACK_SIGNING_SECRET="$SIGNING_SECRET" \
  -v "$W/run/config.toml:/app/config.toml:ro" \
  "$CTR" -- "${CMD[@]}" >"$W/run/maatje.log" 2>&1 &
RUN_PID=$!

echo "--- HEALTHCHECK command from the image: ${HC[*]}"
healthy=""
for i in $(seq "$HEALTH_WAIT"); do
  kill -0 "$RUN_PID" 2>/dev/null || { cat "$W/run/maatje.log"; fail "maatje exited early"; }
  if run_in "$CTR" -- "${HC[@]}" >>"$W/run/health.log" 2>&1; then
    healthy=$(took "$started"); break
  fi
  sleep 1
done
[[ -n $healthy ]] || { cat "$W/run/maatje.log" "$W/run/health.log"; fail "never healthy"; }
echo "healthcheck exit 0 after ${healthy}s (start-period is 20s)"
for i in 1 2 3; do
  run_in "$CTR" -- "${HC[@]}"; echo "healthcheck run $i: exit $?"
done
T[healthy]=$healthy

echo "--- the running process"
MAATJE_PID=""
for p in $(ps -s "$RUN_PID" -o pid=); do
  if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "maatje run --config /app/config.toml"; then
    [[ $(awk '/^Uid:/ {print $2}' "/proc/$p/status") == 10001 ]] && MAATJE_PID=$p
  fi
done
ps -s "$RUN_PID" -o pid,uid,gid,user,args
[[ -n $MAATJE_PID ]] || fail "no 'maatje run' process with uid 10001"
echo "maatje pid $MAATJE_PID: $(grep -E '^(Uid|Gid):' "/proc/$MAATJE_PID/status" | tr -s '\t' ' ' | paste -sd';')"

echo "--- migrations in /data/maatje.db"
run_in "$CTR" -- sh -c 'ls -ln /data; python - <<"PY"
import sqlite3
from alembic.script import ScriptDirectory
from bot.store import _alembic_config
db = sqlite3.connect("file:/data/maatje.db?mode=ro", uri=True)
tables = [r[0] for r in db.execute("select name from sqlite_master where type = ? order by name", ("table",))]
version = db.execute("select version_num from alembic_version").fetchall()
head = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
print(len(tables), "tables:", ", ".join(tables))
print("alembic_version:", version, "head:", head)
assert len(tables) > 1 and version == [(head,)], "schema is not at the newest migration"
print("MIGRATIONS OK")
PY' | tee "$W/run/migrations.txt"
grep -q "MIGRATIONS OK" "$W/run/migrations.txt" || fail "migrations"

echo "--- a signed Slack request (url_verification) to POST /slack/events"
python3 - "$SIGNING_SECRET" "$PORT" <<'PY'
import hashlib, hmac, json, sys, time, urllib.request
secret, port = sys.argv[1], sys.argv[2]
body = json.dumps({"type": "url_verification", "challenge": "check-image-challenge", "token": "x"}).encode()
ts = str(int(time.time()))
sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
req = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=body, headers={
    "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
answer = urllib.request.urlopen(req, timeout=5).read()
print("answer:", answer)
assert b"check-image-challenge" in answer
PY
grep -q "auth.test token_ok=True" "$W/run/fake-slack.log" || fail "no auth.test at the fake Slack"
echo "fake Slack saw: $(sort "$W/run/fake-slack.log" | uniq -c | tr -s ' ' | paste -sd';')"

echo "--- SIGTERM to the maatje process (docker stop)"
kill -TERM "$MAATJE_PID"
for _ in $(seq 30); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$RUN_PID" 2>/dev/null; then fail "maatje did not stop on SIGTERM"; fi
wait "$RUN_PID" && rc=0 || rc=$?
RUN_PID=""
echo "buildah run (the CMD) exited with $rc"
echo "--- maatje log"
cat "$W/run/maatje.log"
[[ $rc == 0 ]] || fail "CMD exit status $rc"
grep -q "maatje is running with slack" "$W/run/maatje.log" || fail "no 'maatje is running' line"
"${B[@]}" rm "$CTR" >/dev/null
T[run]=$(took "$t")

log "timings (seconds)"
for k in clean debootstrap base build run healthy; do printf '%-12s %s\n' "$k" "${T[$k]}"; done \
  | tee "$W/run/timings.txt"
echo "ALL CHECKS PASSED"
