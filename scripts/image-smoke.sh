#!/usr/bin/env bash
# scripts/image-smoke.sh (npm run image:smoke): builds the Dockerfile without a Docker daemon and
# runs the image the way Cloud Run does, against this machine's PostgreSQL. See docs/deploy.md,
# "Testing the image locally".
#
#   1. base image: no container registry is reachable here, so the official node:<major>-<suite>-slim
#      is replaced by a stand-in: Debian <suite> from debootstrap (mirror from apt's configuration,
#      or DEBIAN_MIRROR), the same official Node.js binary (scripts/node-lts.sh), npm 11, user
#      node (uid 1000), and an entrypoint that execs its command like the official one. Cached.
#   2. buildah builds the Dockerfile with --build-arg NODE_IMAGE=<stand-in> (layers cached).
#   3. checks on the image: runs as uid 1000, no dev dependency, no npm cache or log, no file
#      outside /app that the base image does not have (install-script leftovers).
#   4. podman runs it with a read-only root file system (no tmpfs either) and host networking:
#      the migration job's command, then the service with MIGRATIONS_RUN=false, /health/ready, one
#      detection through the crowd/Gemini doubles (npm run dev:upstreams), node as PID 1 with
#      uid 1000, nothing written, SIGTERM → exit 0 within 10 s;
#   5. SIGTERM while the database accepts connections but never answers: the service and the
#      migration command each exit within 10 s with a log line.
#
# Needs root (podman/buildah without a rootless setup, debootstrap), PostgreSQL on
# 127.0.0.1:5432 (user postgres, trust; SMOKE_PG_URL overrides), and the repository's node_modules
# (npm ci). Installs buildah, podman, runc, debootstrap, jq and curl with apt-get if missing.
# Cache (base image, container storage, Node binary): ECOFLOW_IMAGE_CACHE, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/ecoflow-image. Nothing is written inside the repository except
# the gitignored build-image-smoke/ (the compiled test doubles).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
started_at=$(date +%s)

log() { printf '== image-smoke [%3ss] %s\n' "$(($(date +%s) - started_at))" "$*"; }
fail() {
  printf 'FAIL image-smoke: %s\n' "$*" >&2
  exit 1
}
ms_now() { date +%s%3N; }

[ "$(id -u)" = 0 ] || fail "run as root: podman and buildah are used without a rootless setup, and debootstrap needs root"
[ -d node_modules ] || fail "node_modules is missing: run npm ci first"

cache="${ECOFLOW_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ecoflow-image}"
export ECOFLOW_IMAGE_CACHE="$cache"
mkdir -p "$cache"
work="$(mktemp -d "$cache/.run.XXXXXX")"
pids=()
containers=()
db_created=""
cleanup() {
  local c p
  for c in "${containers[@]}"; do pod rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$db_created" ]; then
    psql "$pg_url/postgres" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------- tools
missing=()
for tool in buildah podman runc debootstrap jq curl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Container storage of its own: overlay when the kernel lets us mount it here (each container and
# build step is then a cheap mount), else vfs, which works everywhere but copies the whole image
# (~360 MB) for every container and build step: several times slower.
driver="${SMOKE_STORAGE_DRIVER:-}"
if [ -z "$driver" ]; then
  driver=vfs
  probe="$work/overlay-probe"
  mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    umount "$probe/merged"
    driver=overlay
  fi
  rm -rf "$probe"
fi
cat >"$cache/storage.conf" <<EOF
[storage]
driver = "$driver"
graphroot = "$cache/storage-$driver"
runroot = "$cache/storage-run-$driver"
EOF
export CONTAINERS_STORAGE_CONF="$cache/storage.conf"
# runc, not crun: Debian 12's crun refuses hosts with a hybrid cgroup v1/v2 layout.
pod() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }
# Explicit limits at or below the current hard limits: podman's defaults (nofile 1048576) would
# have to raise them, which needs CAP_SYS_RESOURCE, missing in sandboxes.
hard_nofile="$(ulimit -Hn)"
[[ "$hard_nofile" =~ ^[0-9]+$ ]] || hard_nofile=65536
((hard_nofile > 65536)) && hard_nofile=65536
ulimits=(--ulimit "nofile=$hard_nofile:$hard_nofile" --ulimit nproc=4096:4096)

# ---------------------------------------------------------------- base image (cached)
node_image_arg="$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)"
[[ "$node_image_arg" =~ ^node:([0-9]+)-([a-z]+)(-slim)?$ ]] || fail "Dockerfile: ARG NODE_IMAGE=$node_image_arg is not node:<major>-<suite>[-slim]"
node_major="${BASH_REMATCH[1]}"
suite="${BASH_REMATCH[2]}"
node_bin="$(scripts/node-lts.sh)"
node_version="$("$node_bin/node" --version)"
node_version="${node_version#v}"
[ "${node_version%%.*}" = "$node_major" ] || fail "scripts/node-lts.sh gives Node.js $node_version, the Dockerfile uses node:$node_major"
base="localhost/ecoflow-node-base:$node_version-$suite"

debian_mirror() {
  local f
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  # deb822 sources: the first "Types: deb" stanza whose Suites include the suite itself
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uris = ""; suites = ""; types = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); uris = $i }
          if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); suites = " " $i " " }
          if ($i ~ /^Types:/) { types = $i " " }
        }
        if (types ~ /[ \t]deb[ \t]/ && index(suites, " " suite " ") > 0) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$f"
  done
  # one-line format: deb [options] URI suite components
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }'
}

base_tar="$cache/base-$node_version-$suite.tar"
import_base() {
  pod import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    - "$base" >/dev/null
}

if pod image exists "$base"; then
  log "base image $base (cached)"
elif [ -f "$base_tar" ]; then
  log "base image $base from the cached root file system"
  import_base <"$base_tar"
else
  mirror="$(debian_mirror | head -n1 || true)"
  [ -n "$mirror" ] || fail "no Debian mirror for $suite in /etc/apt/sources.list*; set DEBIAN_MIRROR"
  log "building the base image $base: debootstrap $suite (minbase) + Node.js $node_version"
  rootfs="$work/rootfs"
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
  install -m 0755 "$node_bin/node" "$rootfs/usr/local/bin/node"
  npm_version="${NPM_VERSION:-$(npm view 'npm@11' version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).at(-1))')}"
  (cd "$work" && npm pack --silent --ignore-scripts "npm@$npm_version" >/dev/null)
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # like the official image's entrypoint: run the command itself (exec, so it stays PID 1), or
  # node with the arguments when the first one is an option or not a command
  cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'EOS'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ]; then
  set -- node "$@"
fi
exec "$@"
EOS
  chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old "$rootfs"/tmp/*
  tar --numeric-owner -C "$rootfs" -cf "$base_tar.partial" .
  mv "$base_tar.partial" "$base_tar"
  rm -rf "$rootfs"
  import_base <"$base_tar"
fi

# ---------------------------------------------------------------- build
image="localhost/ecoflow-backend:smoke"
build_mounts=()
# TLS-intercepting proxies: the machine's CA bundle and registry, for npm inside the build only.
# They are bind-mounted into the RUN steps over the base image's empty /usr/local/etc (npm's
# global config directory), so they never become part of a layer.
ca="${NODE_EXTRA_CA_CERTS:-}"
if [ -z "$ca" ]; then
  ca="$(npm config get cafile 2>/dev/null || true)"
fi
registry="$(npm config get registry 2>/dev/null || true)"
mkdir -p "$work/npm-etc"
: >"$work/npm-etc/npmrc"
if [ -n "$ca" ] && [ -f "$ca" ]; then
  cp "$ca" "$work/npm-etc/build-ca.crt"
  echo "cafile=/usr/local/etc/build-ca.crt" >>"$work/npm-etc/npmrc"
fi
if [ -n "$registry" ]; then
  echo "registry=$registry" >>"$work/npm-etc/npmrc"
fi
build_mounts+=(--volume "$work/npm-etc:/usr/local/etc:ro")
log "building $image from the Dockerfile (buildah, chroot isolation, cached layers)"
build_started=$(date +%s)
buildah bud --isolation chroot --layers --force-rm --pull=false --network host "${ulimits[@]}" "${build_mounts[@]}" \
  --build-arg "NODE_IMAGE=$base" -t "$image" -f Dockerfile . >"$cache/last-build.log" 2>&1 ||
  { tail -n 40 "$cache/last-build.log" >&2; fail "image build failed (log above)"; }
build_seconds=$(($(date +%s) - build_started))
grep -qi 'update available\|npm notice' "$cache/last-build.log" && { grep -i 'update available\|npm notice' "$cache/last-build.log" >&2; fail "the build printed npm notices"; }
size_bytes="$(pod image inspect --format '{{.Size}}' "$image")"
base_bytes="$(pod image inspect --format '{{.Size}}' "$base")"
log "built in ${build_seconds}s: $((size_bytes / 1000000)) MB (base $((base_bytes / 1000000)) MB)"

# ---------------------------------------------------------------- image contents
[ "$(pod image inspect --format '{{.Config.User}}' "$image")" = node ] || fail "the image's USER is not node"
run_opts=(--read-only --read-only-tmpfs=false --network host "${ulimits[@]}")
[ "$(pod run --rm "${run_opts[@]}" "$image" id -u)" = 1000 ] || fail "the image does not run as uid 1000"

# every package the lockfile marks dev-only (devDependencies and what only they pull in)
dev_paths="$(node -p 'Object.entries(require("./package-lock.json").packages).filter(([p, v]) => p && v.dev).map(([p]) => p).join(" ")')"
listing() { pod run --rm "${run_opts[@]}" --user 0 --entrypoint /usr/bin/find "$1" / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /app \) -prune -o -print | sort; }
listing "$base" >"$work/base.files"
listing "$image" >"$work/image.files"
extra="$(comm -13 "$work/base.files" "$work/image.files" | grep -vx '/app' || true)"
[ -z "$extra" ] || fail "files outside /app that the base image does not have (install-script or npm leftovers):
$extra"
pod run --rm "${run_opts[@]}" --user 0 -e "DEV_PATHS=$dev_paths" --entrypoint /bin/sh "$image" -c '
  cd /app
  for d in $DEV_PATHS; do
    [ ! -e "$d" ] || { echo "dev dependency in the image: $d"; exit 1; }
  done
  for d in /root/.npm /home/node/.npm /app/.npm; do
    [ ! -e "$d" ] || { echo "npm cache or logs in the image: $d"; exit 1; }
  done
  found="$(find / -xdev \( -path /proc -o -path /sys \) -prune -o \( -name _logs -o -name _cacache -o -name "*-debug-*.log" \) -print)"
  [ -z "$found" ] || { echo "npm logs or caches in the image: $found"; exit 1; }
  [ -z "$(ls -A /tmp)" ] || { echo "/tmp is not empty: $(ls -A /tmp)"; exit 1; }
  [ "$(ls -A /app | tr "\n" " ")" = "dist node_modules " ] || { echo "/app holds more than dist and node_modules: $(ls -A /app)"; exit 1; }
' || fail "image contents"
log "contents: uid 1000, no dev dependency, no npm cache or log, nothing outside /app beyond the base image"

# ---------------------------------------------------------------- services for the runs
pg_url="${SMOKE_PG_URL:-postgres://postgres@127.0.0.1:5432}"
export PGOPTIONS='-c client_min_messages=warning'
db="ecoflow_image_smoke"
psql "$pg_url/postgres" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null ||
  fail "cannot create database $db on $pg_url (PostgreSQL on 127.0.0.1:5432 with user postgres?)"
db_created=1


# the crowd-prediction and Gemini doubles of npm run dev:upstreams, compiled on their own into the
# gitignored build-image-smoke/ (a whole-project tsc would take longer), on free ports
mkdir -p build-image-smoke
cat >build-image-smoke/tsconfig.json <<EOF
{ "extends": "../tsconfig.json",
  "compilerOptions": { "rootDir": "..", "outDir": ".", "tsBuildInfoFile": "./.tsbuildinfo" },
  "include": [], "files": ["../scripts/dev-upstreams.ts"] }
EOF
node node_modules/typescript/bin/tsc -p build-image-smoke/tsconfig.json || fail "compiling scripts/dev-upstreams.ts"
DEV_CROWD_PORT=0 DEV_GEMINI_PORT=0 node build-image-smoke/scripts/dev-upstreams.js >"$work/upstreams.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q 'CROWD_PREDICT_URL=' "$work/upstreams.log" && break; sleep 0.1; done
crowd_url="$(grep -o 'CROWD_PREDICT_URL=[^ ]*' "$work/upstreams.log" | head -n1 | cut -d= -f2)"
gemini_url="$(grep -o 'GEMINI_BASE_URL=[^ ]*' "$work/upstreams.log" | head -n1 | cut -d= -f2)"
[ -n "$crowd_url" ] && [ -n "$gemini_url" ] || { cat "$work/upstreams.log" >&2; fail "the upstream doubles did not start"; }

# a port that accepts connections and never answers: a database that does not respond
node -e '
  const net = require("net");
  const held = [];
  const s = net.createServer((c) => { held.push(c); console.log("accepted"); });
  s.listen(0, "127.0.0.1", () => console.log("port " + s.address().port));
' >"$work/blackhole.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do grep -q '^port ' "$work/blackhole.log" && break; sleep 0.1; done
blackhole_port="$(sed -n 's/^port //p' "$work/blackhole.log")"
[ -n "$blackhole_port" ] || fail "the silent TCP server did not start"

free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
jwt_secret="$(node -p 'require("crypto").randomBytes(36).toString("base64url")')"
app_env=(-e "DATABASE_URL=$pg_url/$db" -e "JWT_SECRET=$jwt_secret" -e "CROWD_PREDICT_URL=$crowd_url"
  -e "GEMINI_BASE_URL=$gemini_url" -e GEMINI_API_KEY=smoke -e DB_POOL_MAX=2 -e LOG_LEVEL=info)

# ---------------------------------------------------------------- the migration job
log "migration job: node dist/database/cli.js run"
out="$(pod run --rm "${run_opts[@]}" "${app_env[@]}" "$image" node dist/database/cli.js run)" || { echo "$out" >&2; fail "the migration command failed"; }
echo "$out" | jq -e 'select(.severity == "INFO" and (.message | startswith("Applied: ")))' >/dev/null ||
  { echo "$out" >&2; fail "the migration command did not log one JSON line 'Applied: …'"; }
out="$(pod run --rm "${run_opts[@]}" "${app_env[@]}" "$image" node dist/database/cli.js status)" || { echo "$out" >&2; fail "migration status after the run is not current"; }

# ---------------------------------------------------------------- the service
port="$(free_port)"
name="ecoflow-smoke-$$-serve"
containers+=("$name")
log "service: node dist/main.js on port $port (MIGRATIONS_RUN=false, read-only root)"
serve_started=$(ms_now)
pod run -d --name "$name" "${run_opts[@]}" "${app_env[@]}" -e "PORT=$port" -e MIGRATIONS_RUN=false "$image" >/dev/null
base_url="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 600); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base_url/health/ready" || true)" = 200 ]; then
    ready=1
    break
  fi
  [ "$(pod inspect --format '{{.State.Running}}' "$name")" = true ] || break
  sleep 0.1
done
[ -n "$ready" ] || { pod logs "$name" >&2; fail "/health/ready did not answer 200"; }
log "ready in $(($(ms_now) - serve_started)) ms"

[ "$(pod exec "$name" cat /proc/1/cmdline | tr '\0' ' ')" = "node dist/main.js " ] || fail "PID 1 is not node dist/main.js"
[ "$(pod exec "$name" awk '/^Uid:/ { print $2 }' /proc/1/status)" = 1000 ] || fail "node does not run as uid 1000"

api() { # method path [token] [json]
  local args=(-sS -X "$1" "$base_url$2" -H 'content-type: application/json')
  [ -n "${3:-}" ] && args+=(-H "authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-d "$4")
  curl "${args[@]}"
}
api POST /auth/register/ '' '{"email":"smoke@example.com","password":"smoke-test-password","first_name":"Smoke"}' >/dev/null
token="$(api POST /auth/login/ '' '{"email":"smoke@example.com","password":"smoke-test-password"}' | jq -r .access)"
[ -n "$token" ] && [ "$token" != null ] || fail "login failed"
org_id="$(api POST /organizations/ "$token" '{"name":"Smoke","org_type":"LIBRARY"}' | jq -r .id)"
zone_id="$(api POST /zones/ "$token" "{\"name\":\"Lobby\",\"zone_type\":\"ENTRANCE\",\"organization_id\":$org_id,\"capacity\":10}" | jq -r .id)"
camera="$(api POST /cameras/ "$token" "{\"name\":\"Lobby cam\",\"zone_id\":$zone_id}")"
camera_id="$(echo "$camera" | jq -r .id)"
device_key="$(echo "$camera" | jq -r .device_key)"
[ -n "$device_key" ] && [ "$device_key" != null ] || { echo "$camera" >&2; fail "camera creation failed"; }
node -e 'require("sharp")({ create: { width: 64, height: 48, channels: 3, background: "#7a7a7a" } }).jpeg().toFile(process.argv[1])' "$work/photo.jpg"
detection="$(curl -sS "$base_url/sensor/detect/" -H "x-device-key: $device_key" -F "zone_id=$zone_id" -F "camera_id=$camera_id" -F "file=@$work/photo.jpg;type=image/jpeg")"
echo "$detection" | jq -e '.status == "NORMAL" and .detected_people == 3 and .capacity == 10' >/dev/null ||
  { echo "$detection" >&2; pod logs "$name" | tail -n 20 >&2; fail "the detection through the doubles did not answer NORMAL with 3 people"; }
for _ in $(seq 1 30); do grep -q '^\[crowd\]' "$work/upstreams.log" && break; sleep 0.1; done # it prints every 250 ms
grep -q '^\[crowd\]' "$work/upstreams.log" || fail "the crowd double received nothing"
log "detection: $(echo "$detection" | jq -c '{status, detected_people, occupancy_percentage}')"

# podman itself bind-mounts /etc/hosts, /etc/hostname, /etc/resolv.conf and /run/.containerenv
written="$(pod diff "$name" | grep -vE '^[AC] /(etc(/(hosts|hostname|resolv\.conf))?|run(/\.containerenv)?)$' || true)"
[ -z "$written" ] || fail "the container wrote files: $written"

stop_and_time() { # container expected-code → elapsed ms, fails beyond 10 s or on another exit code
  local c="$1" want="$2" t0 code elapsed
  t0=$(ms_now)
  pod kill --signal TERM "$c" >/dev/null
  code="$(timeout 15 podman --runtime runc wait "$c" 2>/dev/null || echo timeout)"
  elapsed=$(($(ms_now) - t0))
  [ "$code" = "$want" ] || { pod logs "$c" | tail -n 20 >&2; fail "$c: exit code $code after SIGTERM, expected $want"; }
  ((elapsed < 10000)) || fail "$c: exited $elapsed ms after SIGTERM (Cloud Run kills at 10 s)"
  echo "$elapsed"
}
elapsed="$(stop_and_time "$name" 0)"
pod logs "$name" | jq -e 'select(.message == "shutdown complete")' >/dev/null || fail "no 'shutdown complete' line"
log "SIGTERM while serving: exit 0 after $elapsed ms"

# ---------------------------------------------------------------- SIGTERM while the database does not answer
silent_env=(-e "DATABASE_URL=postgres://postgres@127.0.0.1:$blackhole_port/$db" -e DB_CONNECT_TIMEOUT_MS=60000
  -e "JWT_SECRET=$jwt_secret" -e "CROWD_PREDICT_URL=$crowd_url")
for what in service migration; do
  c="ecoflow-smoke-$$-$what-silent-db"
  containers+=("$c")
  accepted_before="$(grep -c '^accepted' "$work/blackhole.log" || true)"
  if [ "$what" = service ]; then
    pod run -d --name "$c" "${run_opts[@]}" "${silent_env[@]}" -e "PORT=$(free_port)" "$image" >/dev/null
  else
    pod run -d --name "$c" "${run_opts[@]}" "${silent_env[@]}" "$image" node dist/database/cli.js run >/dev/null
  fi
  for _ in $(seq 1 300); do
    [ "$(grep -c '^accepted' "$work/blackhole.log" || true)" -gt "$accepted_before" ] && break
    sleep 0.1
  done
  [ "$(grep -c '^accepted' "$work/blackhole.log" || true)" -gt "$accepted_before" ] || { pod logs "$c" >&2; fail "$what never connected to the silent database"; }
  sleep 1 # well inside the wait for the database
  elapsed="$(stop_and_time "$c" 1)"
  pod logs "$c" | jq -e 'select(.signal == "SIGTERM" and .severity == "WARNING")' >/dev/null || { pod logs "$c" >&2; fail "$what: no log line for the SIGTERM"; }
  log "SIGTERM while the $what waits for a silent database: exit 1 after $elapsed ms"
done

log "passed: image $((size_bytes / 1000000)) MB, build ${build_seconds}s, total $(($(date +%s) - started_at))s"
