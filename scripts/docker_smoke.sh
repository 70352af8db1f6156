#!/usr/bin/env bash
# Build the Docker image and run it the README way, end to end; exit 0 only when everything held.
#
#   sudo scripts/docker_smoke.sh            # as root, on Debian with docker.io and debootstrap
#
# What it does (each step is timed; a summary with the figures comes last):
#   1. a Docker daemon: uses the one that answers, else starts `dockerd --storage-driver=vfs
#      --iptables=false --bridge=none` and stops it (only it) at the end;
#   2. the base image: a local Debian bookworm (`debootstrap --variant=minbase`, then
#      `docker import`) when it is missing — no registry is needed;
#   3. builds the Dockerfile on it (BASE_IMAGE build argument; the same steps as the default
#      build). A torch wheel found in GLYPH_SMOKE_WHEELS (default /opt/wheels, e.g. a CPU build)
#      is served to the build on 127.0.0.1 (TORCH_FIND_LINKS); without one the build installs
#      PyPI's CUDA torch. The host's CA bundle reaches pip as a BuildKit secret, never a layer;
#   4. checks the image: size, no compiler, no package or pip caches, no tests, torch build;
#   5. runs the container with `-p 7860:7860` and the /root/models and /root/data volumes, and
#      waits until its HEALTHCHECK reports healthy;
#   6. through gradio_client: uploads a PDF that Debian ships (the shared-mime-info spec), asks
#      when it was last updated, checks the answer ("2 October 2018") and its evidence boxes;
#   7. queues the same question as a job (the UI's Queue mode), waits for its result, queues a
#      second one with the CLI and restarts the container at once; then checks that the first
#      result and the files under /root/data survived and that the second job is done;
#   8. the process runs as uid 1000; `docker stop` stops it at once (exit 0, STOPSIGNAL SIGINT);
#      an unwritable /root/data gives the documented warning;
#   9. validates docker-compose.yml with Debian's docker-compose.
#
# Differences from the README's `docker run`, because of this kind of machine: no `--gpus all`
# (no GPU: the built-in CPU reader answers), host folders under the work directory instead of
# /root/models and /root/data, and `--network glyph-smoke` when the daemon runs without its
# default bridge (`--bridge=none`): `-p 7860:7860` publishes from a user-defined bridge network
# through docker-proxy. The build itself uses `--network host` (pip and apt reach the registries
# the host reaches; nothing is pulled from an image registry).
#
# Environment: GLYPH_SMOKE_IMAGE (glyph-visual-reasoning:smoke), GLYPH_SMOKE_BASE
# (glyph-base-debian:bookworm), GLYPH_SMOKE_WORK (/var/tmp/glyph-smoke), GLYPH_SMOKE_PORT (7860),
# GLYPH_SMOKE_WHEELS (/opt/wheels), GLYPH_SMOKE_PYTHON (.venv/bin/python: needs gradio_client and
# pyyaml), GLYPH_SMOKE_MIRROR (http://deb.debian.org/debian), GLYPH_SMOKE_RM_IMAGE=1 (remove the
# image afterwards).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${GLYPH_SMOKE_IMAGE:-glyph-visual-reasoning:smoke}"
BASE="${GLYPH_SMOKE_BASE:-glyph-base-debian:bookworm}"
WORK="${GLYPH_SMOKE_WORK:-/var/tmp/glyph-smoke}"
PORT="${GLYPH_SMOKE_PORT:-7860}"
WHEELS="${GLYPH_SMOKE_WHEELS:-/opt/wheels}"
PY="${GLYPH_SMOKE_PYTHON:-$ROOT/.venv/bin/python}"
MIRROR="${GLYPH_SMOKE_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
PDF=/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf
QUESTION="When was the specification last updated?"
EXPECT="2 October 2018"
NAME=glyph-smoke
NAME_RO=glyph-smoke-ro
NETWORK=glyph-smoke
HEALTHY_TIMEOUT_S=300
JOB_TIMEOUT_S=300

if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER="$(command -v docker || true)"; fi
export DOCKER_BUILDKIT=1

# --- bookkeeping --------------------------------------------------------------------------------
SUMMARY=()
FIGURES=()
FAILED=0
DIED=0
STEP="start"
STEP_T=0
STARTED_DOCKERD=""
WHEEL_SERVER=""
CREATED_NETWORK=""
RUN_NET=()

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0="$(now)"
log() { printf '[smoke %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
step() {
  STEP="$1"
  STEP_T="$(now)"
  log "== $1"
}
pass() {
  SUMMARY+=("PASS  $STEP: $* ($(since "$STEP_T") s)")
  log "PASS $STEP: $*"
}
fail() {
  SUMMARY+=("FAIL  $STEP: $*")
  FAILED=1
  log "FAIL $STEP: $*"
}
die() {
  fail "$*"
  DIED=1
  exit 1
}
figure() {
  FIGURES+=("$1: $2")
  log "figure: $1: $2"
}
dk() { "$DOCKER" "$@"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }

cleanup() {
  local rc=$?
  set +e
  for c in "$NAME" "$NAME_RO"; do # those a failed step left behind (the others saved theirs)
    [[ -f "$WORK/$c.log" ]] || dk logs "$c" >"$WORK/$c.log" 2>&1
    dk rm -f "$c" >/dev/null 2>&1
  done
  [[ -n "$CREATED_NETWORK" ]] && dk network rm "$NETWORK" >/dev/null
  [[ -n "$WHEEL_SERVER" ]] && kill "$WHEEL_SERVER" 2>/dev/null && wait "$WHEEL_SERVER" 2>/dev/null
  if [[ "${GLYPH_SMOKE_RM_IMAGE:-0}" == 1 ]]; then dk rmi "$IMAGE" >/dev/null 2>&1; fi
  if [[ -n "$STARTED_DOCKERD" ]]; then
    log "stopping the Docker daemon this script started (pid $STARTED_DOCKERD)"
    kill "$STARTED_DOCKERD" 2>/dev/null
    for _ in $(seq 60); do kill -0 "$STARTED_DOCKERD" 2>/dev/null || break; sleep 1; done
  fi
  if [[ $rc -ne 0 && $DIED -eq 0 ]]; then
    SUMMARY+=("FAIL  $STEP: stopped by an unexpected error (exit $rc)")
    FAILED=1
  fi
  echo
  echo "================ docker smoke test: summary ================"
  printf '%s\n' "${SUMMARY[@]}"
  echo "---------------- figures ----------------"
  printf '%s\n' "${FIGURES[@]}"
  echo "total: $(since "$T0") s; logs in $WORK"
  if [[ $FAILED -eq 0 ]]; then
    echo "docker smoke test passed"
    exit 0
  fi
  echo "docker smoke test FAILED"
  exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 0. prerequisites ---------------------------------------------------------------------------
step "prerequisites"
[[ $(id -u) -eq 0 ]] || die "run as root (starts dockerd, debootstrap, root-owned test folders)"
[[ -n "$DOCKER" ]] || die "no docker client (apt-get install docker.io)"
[[ -x "$PY" ]] || die "no Python at $PY (scripts/setup.sh --dev makes .venv)"
"$PY" -c 'import gradio_client, yaml' 2>/dev/null || die "$PY lacks gradio_client or pyyaml"
if [[ ! -f "$PDF" ]]; then
  log "installing shared-mime-info for its PDF"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shared-mime-info >/dev/null ||
    die "cannot install shared-mime-info ($PDF)"
fi
mkdir -p "$WORK"
rm -rf "$WORK/models" "$WORK/data" "$WORK/data-root" "$WORK/$NAME.log" "$WORK/$NAME_RO.log"
mkdir -p "$WORK/models" "$WORK/data" "$WORK/data-root"
chown 1000:1000 "$WORK/data" # as docs/DEPLOY.md says: the container's user owns the data folder
chmod 0755 "$WORK/data-root" # root-owned: not writable by uid 1000
pass "root, $("$DOCKER" --version | cut -d, -f1), $PY, $PDF"

# --- 1. the daemon ------------------------------------------------------------------------------
step "docker daemon"
if dk info >/dev/null 2>&1; then
  pass "a daemon answers ($(dk info -f '{{.ServerVersion}}, storage {{.Driver}}'))"
else
  command -v dockerd >/dev/null || die "no daemon answers and dockerd is missing (apt-get install docker.io)"
  log "starting dockerd --storage-driver=vfs --iptables=false --bridge=none (log: $WORK/dockerd.log)"
  dockerd --storage-driver=vfs --iptables=false --bridge=none >"$WORK/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 60); do dk info >/dev/null 2>&1 && break; sleep 1; done
  dk info >/dev/null 2>&1 || die "dockerd did not answer within 60 s (see $WORK/dockerd.log)"
  pass "started dockerd (pid $STARTED_DOCKERD, $(dk info -f '{{.ServerVersion}}, storage {{.Driver}}'))"
fi
for c in "$NAME" "$NAME_RO"; do dk rm -f "$c" >/dev/null 2>&1 || true; done # a previous run's

# --- 2. the base image --------------------------------------------------------------------------
step "base image"
if dk image inspect "$BASE" >/dev/null 2>&1; then
  pass "$BASE present"
else
  command -v debootstrap >/dev/null || die "$BASE is missing and debootstrap is not installed"
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  log "debootstrap --variant=minbase bookworm from $MIRROR (log: $WORK/debootstrap.log)"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see $WORK/debootstrap.log)"
  # the suites of Debian's own bookworm image; like it, no package lists and none of the .debs
  # debootstrap leaves behind (the build updates the lists in a cache mount)
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
    "$MIRROR" "$MIRROR" "$MIRROR" >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | dk import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$BASE" >/dev/null || die "docker import failed"
  rm -rf "$rootfs"
  pass "made $BASE with debootstrap ($(mib "$(dk image inspect -f '{{.Size}}' "$BASE")"))"
fi

# --- 3. build -----------------------------------------------------------------------------------
step "build"
build=(build --network host --progress plain --build-arg "BASE_IMAGE=$BASE" -t "$IMAGE")
[[ -f "$CA_BUNDLE" ]] && build+=(--secret "id=pip_cert,src=$CA_BUNDLE")
for var in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  [[ -n "${!var:-}" ]] && build+=(--build-arg "$var=${!var}")
done
torch_pin="$(sed -n 's/^ *"torch==\([^"]*\)".*/\1/p' "$ROOT/pyproject.toml" | head -1)"
wheel="$(find "$WHEELS" -maxdepth 1 -name "torch-${torch_pin}[+-]*.whl" 2>/dev/null | head -1)"
if [[ -n "$wheel" ]]; then
  # a fixed port: the URL is a build argument, and a new value would invalidate the torch layer
  wport="${GLYPH_SMOKE_WHEEL_PORT:-38769}"
  if ! "$PY" -c "import socket; socket.socket().bind(('127.0.0.1', $wport))" 2>/dev/null; then
    wport="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  fi
  "$PY" -m http.server --bind 127.0.0.1 "$wport" --directory "$WHEELS" >"$WORK/wheels.log" 2>&1 &
  WHEEL_SERVER=$!
  build+=(--build-arg "TORCH_FIND_LINKS=http://127.0.0.1:$wport/")
  log "torch: $(basename "$wheel"), served to the build from $WHEELS on 127.0.0.1:$wport"
else
  log "torch: no torch-$torch_pin wheel in $WHEELS: the build installs PyPI's (CUDA, several GB)"
fi
free_gb() { df -P --block-size=1G "$(dk info -f '{{.DockerRootDir}}')" | awk 'NR == 2 { print $4 }'; }
# vfs stores every layer and build-cache snapshot as a full copy: clear the build cache (not the
# images) when the disk runs low; the next build then starts cold.
if (($(free_gb) < ${GLYPH_SMOKE_MIN_FREE_GB:-25})); then
  log "only $(free_gb) GB free under $(dk info -f '{{.DockerRootDir}}'): docker builder prune"
  dk builder prune -f >/dev/null
fi
old_id="$(dk image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
log "docker ${build[*]} . (log: $WORK/build.log)"
build_t="$(now)"
if ! (cd "$ROOT" && dk "${build[@]}" . >"$WORK/build.log" 2>&1); then
  tail -40 "$WORK/build.log"
  die "docker build failed (see $WORK/build.log)"
fi
build_s="$(since "$build_t")"
if [[ -n "$WHEEL_SERVER" ]]; then
  { kill "$WHEEL_SERVER"; wait "$WHEEL_SERVER" 2>/dev/null; } || true
  WHEEL_SERVER=""
fi
new_id="$(dk image inspect -f '{{.Id}}' "$IMAGE")"
if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
  dk rmi "$old_id" >/dev/null 2>&1 && log "removed the previous build $old_id"
fi
cached="$(grep -c ' CACHED$' "$WORK/build.log" || true)"
log "$(free_gb) GB free under $(dk info -f '{{.DockerRootDir}}') after the build"
figure "build time" "$build_s s ($cached steps from the build cache)"
grep -E 'ok   |FAIL |self-check' "$WORK/build.log" | sed 's/^#[0-9]* [0-9.]* /  selfcheck: /' || true
if grep -q "self-check passed" "$WORK/build.log" || [[ "$cached" -gt 0 ]]; then
  pass "built $IMAGE in $build_s s"
else
  fail "the build log does not show the self-check passing"
fi

# --- 4. the image's contents --------------------------------------------------------------------
step "image contents"
size="$(dk image inspect -f '{{.Size}}' "$IMAGE")"
figure "image size" "$(awk -v b="$size" 'BEGIN { printf "%.2f GB (%.0f bytes)", b / 1e9, b }')"
dk history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | cut -c1-150 >"$WORK/history.txt"
# one container for all of it: with the vfs storage driver every container copies the image
# shellcheck disable=SC2016  # expanded inside the container
inventory="$(dk run --rm --network none --user 0 --entrypoint /bin/bash "$IMAGE" -c '
  python -c "import torch; print(\"torch\", torch.__version__)"
  for c in gcc cc g++ c++ clang make ld as cpp; do command -v "$c" >/dev/null && echo "compiler $c"; done
  for d in /root/.cache /home/glyph/.cache /var/cache/apt/archives /var/lib/apt/lists; do
    n=$(find "$d" -type f ! -name lock 2>/dev/null | wc -l); [ "$n" -gt 0 ] && echo "cache $d ($n files)"
  done
  for p in /app/tests /app/bench /app/docs /app/.git /app/.venv /opt/venv/bin/pytest /opt/venv/bin/ruff; do
    [ -e "$p" ] && echo "unneeded $p"
  done
  find /app \( -name .pytest_cache -o -name .ruff_cache -o -name conftest.py -o -name "test_*.py" \
    -o -type d -name tests \) -prune 2>/dev/null | sed "s/^/unneeded /" | head -10
  # the test suites some wheels ship (the Dockerfile drops them; test_*.py modules outside them,
  # such as accelerate.test_utils, are part of the libraries)
  find /opt/venv \( -name conftest.py -o -type d -name tests \) -prune | sed "s/^/unneeded /" | head -10
  du -sm /opt/venv /usr/share/fonts /usr/share/tesseract-ocr /app | sed "s/^/size /"
')"
printf '%s\n' "$inventory" | sed 's/^/  /'
torch_v="$(sed -n 's/^torch //p' <<<"$inventory")"
figure "torch in the image" "$torch_v"
bad="$(printf '%s\n' "$inventory" | grep -E '^(compiler|cache|unneeded) ' || true)"
if [[ -z "$bad" ]]; then
  pass "no compiler, no apt/pip caches, no tests or dev tools; torch $torch_v"
else
  fail "the image holds what it does not need: $(echo "$bad" | tr '\n' ';')"
fi

# --- 5. run the README way ----------------------------------------------------------------------
step "run and HEALTHCHECK"
if ! dk network inspect bridge >/dev/null 2>&1; then
  # dockerd --bridge=none has no default network; a user-defined bridge still publishes ports
  if ! dk network inspect "$NETWORK" >/dev/null 2>&1; then
    dk network create "$NETWORK" >/dev/null
    CREATED_NETWORK=1
  fi
  RUN_NET=(--network "$NETWORK")
fi
if ! "$PY" -c "import socket, sys; s = socket.socket(); s.bind(('0.0.0.0', $PORT))" 2>/dev/null; then
  old_port="$PORT"
  PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')"
  log "host port $old_port is taken: publishing $PORT:7860 instead"
fi
URL="http://127.0.0.1:$PORT"
wait_healthy() { # wait_healthy CONTAINER START_TIME → prints "healthy_s http_s" (http: via $URL)
  local c="$1" t="$2" status http_s="" deadline=$((SECONDS + HEALTHY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    status="$(dk inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$c" 2>/dev/null || echo gone)"
    if [[ -z "$http_s" && -n "${3:-}" ]] && "$PY" -c "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('$URL/', timeout=2)" 2>/dev/null; then
      http_s="$(since "$t")"
    fi
    case "$status" in
      "running healthy")
        echo "$(since "$t") ${http_s:--}"
        return 0
        ;;
      "running unhealthy" | exited* | dead* | gone) break ;;
    esac
    sleep 1
  done
  log "$c: $status after $((SECONDS - deadline + HEALTHY_TIMEOUT_S)) s" >&2
  return 1
}
run=(run -d --name "$NAME" "${RUN_NET[@]}" -p "$PORT:7860" -v "$WORK/models:/root/models" -v "$WORK/data:/root/data" "$IMAGE")
log "docker ${run[*]}"
run_t="$(now)"
dk "${run[@]}" >/dev/null
# `docker run -d` returns once the container runs; with vfs that includes copying the whole image
figure "docker run -d returned (container created and started)" "$(since "$run_t") s"
if times="$(wait_healthy "$NAME" "$run_t" http)"; then
  read -r healthy_s http_s <<<"$times"
  figure "docker run → first HTTP 200 on the published port" "$http_s s"
  figure "docker run → healthy (HEALTHCHECK every 10 s)" "$healthy_s s"
  pass "healthy after $healthy_s s; $URL answered after $http_s s"
else
  dk logs "$NAME" 2>&1 | tail -30
  die "the container did not become healthy within $HEALTHY_TIMEOUT_S s"
fi
dk logs "$NAME" 2>&1 | grep '^\[界面推理\]' | sed 's/^/  /' || true

mem() { # mem CONTAINER → "usage (docker stats); peak (cgroup)"
  local usage peak
  usage="$(dk stats --no-stream --format '{{.MemUsage}}' "$1" | cut -d/ -f1 | xargs)"
  peak="$(dk exec "$1" sh -c 'cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.peak' 2>/dev/null || echo "")"
  [[ -n "$peak" ]] && peak="$(mib "$peak")" || peak="n/a"
  echo "$usage (docker stats); peak so far $peak (cgroup)"
}
step "memory at idle"
sleep 10
figure "memory at idle (10 s after healthy)" "$(mem "$NAME")"
pass "measured"

# --- 6. a question through gradio_client --------------------------------------------------------
CLIENT_PY='
import json, re, subprocess, sys, time
from gradio_client import Client, handle_file

url, pdf, question, expect, memory_command = sys.argv[1:6]


def boxes(node):
    if isinstance(node, dict):
        return sum(len(v) if k == "boxes" and isinstance(v, list) else boxes(v) for k, v in node.items())
    if isinstance(node, list):
        return sum(boxes(v) for v in node)
    return 0


def path_of(value):
    if isinstance(value, dict):
        value = value.get("value") or value.get("path")
        return path_of(value) if isinstance(value, dict) else value
    return value


out = {}
t = time.perf_counter()
client = Client(url, verbose=False)
up = client.predict(handle_file(pdf), api_name="/upload")
out["upload_s"] = round(time.perf_counter() - t, 1)
# the document line, the gallery, the statistics line, the message bar (empty: no error), …
out["upload_error"] = str(up[3] or "")
out["document"] = str(up[0])[:160]
t = time.perf_counter()
answer, thinking, status, confidence, pages, image, json_file, md_file, message = client.predict(
    question, "qa", "now", api_name="/ask"
)
out["ask_s"] = round(time.perf_counter() - t, 1)
out["answer"] = answer
out["message"] = str(message or "")
out["evidence_image"] = bool(path_of(image))
record_path = path_of(json_file)
record = json.load(open(record_path, encoding="utf-8")) if record_path else {}
out["boxes"] = boxes(record)
out["ok"] = expect in (answer or "") and out["boxes"] > 0 and out["evidence_image"] and not out["upload_error"]
# memory now, before the queued job below starts working
out["memory"] = subprocess.run(["bash", "-c", memory_command], capture_output=True, text=True).stdout.strip()
queued = client.predict(question, "qa", "queue", api_name="/ask")
match = re.search(r"Job (\S+) queued", str(queued[2]))
out["job_id"] = match.group(1) if match else None
out["queue_status"] = str(queued[2])[:160] + str(queued[-1] or "")[:160]
print(json.dumps(out))
'
step "question through gradio_client"
export DOCKER
export -f mem dk mib
if ! client_json="$("$PY" -c "$CLIENT_PY" "$URL" "$PDF" "$QUESTION" "$EXPECT" "mem $NAME" 2>"$WORK/client.log")"; then
  tail -20 "$WORK/client.log"
  die "gradio_client failed (see $WORK/client.log)"
fi
jq_py() { "$PY" -c "import json, sys; d = json.loads(sys.argv[1]); print($2)" "$1"; }
log "client: $client_json"
answer="$(jq_py "$client_json" 'd["answer"]')"
figure "question latency (upload of the 17-page PDF; ask)" "$(jq_py "$client_json" '"%s s; %s s" % (d["upload_s"], d["ask_s"])')"
figure "memory after one question" "$(jq_py "$client_json" 'd["memory"]')"
if [[ "$(jq_py "$client_json" 'd["ok"]')" == True ]]; then
  pass "answer '$answer' contains '$EXPECT'; $(jq_py "$client_json" 'd["boxes"]') evidence box(es) and the evidence image came back"
else
  fail "answer '$answer' / boxes $(jq_py "$client_json" 'd["boxes"]') / image $(jq_py "$client_json" 'd["evidence_image"]') / upload error '$(jq_py "$client_json" 'd["upload_error"]')'"
fi

# --- 7. queued jobs survive a restart -----------------------------------------------------------
jobs() { dk exec "$NAME" python -m app jobs "$@"; }
job_status() { jobs status "$1" 2>/dev/null | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["status"])' 2>/dev/null || echo "?"; }
wait_job() { # wait_job ID → 0 when done
  local deadline=$((SECONDS + JOB_TIMEOUT_S)) s
  while ((SECONDS < deadline)); do
    s="$(job_status "$1")"
    [[ "$s" == "done" ]] && return 0
    [[ "$s" == failed || "$s" == cancelled ]] && break
    sleep 2
  done
  log "job $1: $s" >&2
  return 1
}
result_digest() { # the answer and the evidence boxes of a finished job's result, as one line
  jobs result "$1" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
def boxes(n):
    if isinstance(n, dict):
        return sum(len(v) if k == "boxes" and isinstance(v, list) else boxes(v) for k, v in n.items())
    return sum(boxes(v) for v in n) if isinstance(n, list) else 0
rec = r.get("record", {})
print(json.dumps({"answer": rec.get("answer"), "boxes": boxes(rec), "files": r.get("files")}, sort_keys=True))'
}
step "queued job and restart"
job1="$(jq_py "$client_json" 'd["job_id"] or ""')"
[[ -n "$job1" ]] || die "the UI's Queue mode returned no job id: $(jq_py "$client_json" 'd["queue_status"]')"
wait_job "$job1" || die "job $job1 (queued from the UI) did not finish"
before="$(result_digest "$job1")"
log "job $job1: $before"
[[ "$before" == *"$EXPECT"* && "$before" != *'"boxes": 0'* ]] || fail "job $job1's result lacks the answer or boxes: $before"
find "$WORK/data" -type f ! -name '*.db-*' ! -name '*-wal' ! -name '*-shm' | sort >"$WORK/data-before.txt"
(cd "$WORK/data/jobs/results/$job1" && sha256sum ./*) >"$WORK/result-before.sha256"
upload="$(find "$WORK/data/jobs/uploads/$job1" -type f | head -1)"
[[ -n "$upload" ]] || die "no copy of job $job1's input under /root/data/jobs/uploads"
job2="$(jobs submit "/root/data/jobs/uploads/$job1/$(basename "$upload")" "$QUESTION" --mode qa --reader ocr | tail -1)"
log "job $job2 submitted with the CLI; restarting the container at once ($(job_status "$job2"))"
# the restart as `docker restart` does it (stop, then start), in two commands to see the stop
restart_t="$(now)"
dk stop -t 30 "$NAME" >/dev/null
stop_s="$(since "$restart_t")"
stop_code="$(dk inspect -f '{{.State.ExitCode}}' "$NAME")"
figure "docker stop with a job running" "$stop_s s, exit code $stop_code"
dk start "$NAME" >/dev/null
if times="$(wait_healthy "$NAME" "$restart_t")"; then
  figure "docker stop + start → healthy" "$(cut -d' ' -f1 <<<"$times") s"
else
  die "not healthy again after the restart"
fi
# (a figure only: with a job running, the server finishes it first; the idle stop is checked below)
missing="$(comm -23 "$WORK/data-before.txt" <(find "$WORK/data" -type f | sort) | head -5)"
after="$(result_digest "$job1")"
if [[ -z "$missing" && "$after" == "$before" ]] && (cd "$WORK/data/jobs/results/$job1" && sha256sum -c --quiet "$WORK/result-before.sha256"); then
  pass "job $job1's result and all $(wc -l <"$WORK/data-before.txt") files under /root/data survived the restart"
else
  fail "after the restart: missing files [$missing]; result before $before, after $after"
fi
step "job queued across the restart"
if wait_job "$job2" && [[ "$(result_digest "$job2")" == *"$EXPECT"* ]]; then
  pass "job $job2 (submitted just before the restart) is done after it: $(jobs status "$job2" | "$PY" -c 'import json, sys; d = json.load(sys.stdin); print("attempts", d.get("attempts"))')"
else
  fail "job $job2 did not finish with the answer after the restart"
fi

# --- 8. the user, and an unwritable /root/data --------------------------------------------------
step "non-root user"
uid="$(dk exec "$NAME" id -u)"
# shellcheck disable=SC2016  # an awk program
pid1="$(dk exec "$NAME" awk '/^Uid:/ { print $2 }' /proc/1/status)"
cfg="$(dk inspect -f '{{.Config.User}}' "$NAME")"
if [[ "$uid" == 1000 && "$pid1" == 1000 ]]; then
  pass "exec'd processes and PID 1 (the server) run as uid 1000 (image USER $cfg)"
else
  fail "uid $uid, PID 1 uid $pid1, USER $cfg"
fi

step "docker stop at idle"
# STOPSIGNAL SIGINT: PID 1 ignores an unhandled SIGTERM, and the server would be killed after the
# timeout (exit 137); on SIGINT it closes and exits 0 (the time varies with the machine's load)
stop_t="$(now)"
dk stop -t 30 "$NAME" >/dev/null
stop_s="$(since "$stop_t")"
stop_code="$(dk inspect -f '{{.State.ExitCode}}' "$NAME")"
figure "docker stop at idle" "$stop_s s, exit code $stop_code"
if [[ "$stop_code" == 0 ]]; then
  pass "the server stopped on the stop signal in $stop_s s, exit code 0 (not killed)"
else
  fail "docker stop took $stop_s s, exit code $stop_code: the server did not stop on the stop signal"
fi
dk logs "$NAME" >"$WORK/$NAME.log" 2>&1
dk rm -f "$NAME" >/dev/null

step "unwritable /root/data"
dk run -d --name "$NAME_RO" "${RUN_NET[@]}" -v "$WORK/models:/root/models" -v "$WORK/data-root:/root/data" "$IMAGE" >/dev/null
ro_t="$(now)"
warning="/root/data is not writable by uid 1000, so results will not be kept there"
if times="$(wait_healthy "$NAME_RO" "$ro_t")" && dk logs "$NAME_RO" 2>&1 | grep -qF "$warning"; then
  pass "warned '$warning' and still became healthy"
else
  dk logs "$NAME_RO" 2>&1 | tail -20
  fail "no warning, or not healthy, with a root-owned /root/data"
fi
dk logs "$NAME_RO" >"$WORK/$NAME_RO.log" 2>&1
dk rm -f "$NAME_RO" >/dev/null

# --- 9. docker-compose.yml ----------------------------------------------------------------------
step "docker-compose.yml"
if command -v docker-compose >/dev/null; then
  cdir="$WORK/compose"
  rm -rf "$cdir" && mkdir -p "$cdir"
  cp "$ROOT/glyph.env" "$cdir/"
  verbatim="$(docker-compose -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" config -q 2>&1 || true)"
  # Debian bookworm's compose is 1.29, which predates `depends_on: {required: false}` (Compose
  # v2, 2024): validate the file with only that key removed, under every profile combination.
  "$PY" -c '
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
for service in spec["services"].values():
    for dep in (service.get("depends_on") or {}).values():
        dep.pop("required", None)
yaml.safe_dump(spec, open(sys.argv[2], "w", encoding="utf-8"))' "$ROOT/docker-compose.yml" "$cdir/docker-compose.yml"
  compose_ok=1
  for profiles in "" "--profile vllm" "--profile queue" "--profile vllm --profile queue"; do
    # shellcheck disable=SC2086  # the profile flags are meant to split
    if ! docker-compose -f "$cdir/docker-compose.yml" --project-directory "$cdir" $profiles config -q 2>"$cdir/err.txt"; then
      compose_ok=0
      log "compose ${profiles:-(no profile)}: $(cat "$cdir/err.txt")"
    fi
  done
  other="$(grep -v -e "unsupported option: 'required'" -e 'is invalid because' <<<"$verbatim" | grep -v '^$' || true)"
  if [[ $compose_ok == 1 && -z "$other" ]]; then
    pass "$(docker-compose version --short) accepts it for every profile combination (it objects only to depends_on.required, which it predates)"
  else
    fail "docker-compose: ${other:-see $cdir/err.txt}"
  fi
else
  fail "docker-compose is not installed (apt-get install docker-compose)"
fi
