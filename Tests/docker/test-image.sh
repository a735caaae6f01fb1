#!/usr/bin/env bash
# Builds the VatKernel container image with podman and checks it on this machine.
#
# No registry is reachable here, so neither the Swift image nor debian:bookworm-slim can be
# pulled: the script builds the `runtime-prebuilt` target of docker/Dockerfile around the
# vatkernel binary compiled on this machine, on a Debian bookworm base made with debootstrap
# from the configured apt mirror. Then it runs the image, as a container when this machine can
# run one, otherwise as the image's exported filesystem under chroot, and checks: health, the
# database kept in /data across a restart and an image upgrade, the non-root user, the refusal
# to listen on 0.0.0.0 without an admin token, a clean SIGTERM shutdown.
#
# Then it runs docker/compose.yaml with podman-compose: up, down, up again with the data kept.
#
# Needs root and the apt packages podman, runc, podman-compose, debootstrap, curl, sqlite3
# (scripts/install-deps).
# Caches the debootstrap tarball and the release build under .build-docker/ (git-ignored).
# Environment: VATKERNEL_DOCKER_MODE=container|chroot forces a mode (default: container if a
# container runs here, else chroot); DEBIAN_MIRROR overrides the mirror read from apt's sources.
# The last line is "N passed, N failed"; the exit status is non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
WORK=$ROOT/.build-docker
CACHE=$WORK/cache          # kept between runs: the Debian base tarball
RUN=$WORK/test-run         # this run's scratch: wiped at start and at exit
SUITE=bookworm
BASE_IMAGE=localhost/vatkernel-test-base:$SUITE-minbase
IMAGE=localhost/vatkernel:test
UPGRADE_IMAGE=localhost/vatkernel:test-upgrade
NAME=vatkernel-test        # prefix of every container and volume this script owns
VOLUME=$NAME-data
SERVER=$NAME-server
SECRET_PATH=/run/secrets/vatkernel_admin_token
MODE=${VATKERNEL_DOCKER_MODE:-auto}

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# A setup step failed: nothing after it can be checked.
die() { fail "$*"; echo "   (logs: .build-docker/test-logs/)"; exit 1; }
log() { echo "-- $*"; }
# Every podman call is bounded (builds get longer); its complaints go to podman.log, since
# without systemd it warns on every run that it cannot schedule the health check timer.
pm() { timeout 120 podman "$@" 2>>"$RUN/podman.log"; }

# ------------------------------------------------------------------------------ cleanup
# Unmounts everything mounted under a directory, deepest first.
umount_under() {
  local dir=$1 m
  [ -d "$dir" ] || return 0
  findmnt -rn -o TARGET | awk -v d="$dir" 'index($0, d "/") == 1 || $0 == d' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
  fi
  SERVER_PID=
  if command -v podman >/dev/null; then
    # -v: also the anonymous volume each container gets for the image's VOLUME /data.
    timeout 60 podman rm -f -v -t 5 "$SERVER" "$NAME-refuse" "$NAME-export" >/dev/null 2>&1
    timeout 60 podman ps -aq --filter "label=io.podman.compose.project=$NAME" |
      xargs -r timeout 60 podman rm -f -v -t 5 >/dev/null 2>&1
    timeout 60 podman volume rm -f "$VOLUME" "${NAME}_vatkernel-data" >/dev/null 2>&1
    timeout 60 podman network rm -f "${NAME}_default" >/dev/null 2>&1
  fi
  umount_under "$RUN"
  # Keep this run's logs for whoever reads a failure.
  if [ -d "$RUN" ]; then
    rm -rf "$WORK/test-logs"; mkdir -p "$WORK/test-logs"
    cp "$RUN"/*.log "$RUN"/*.out "$WORK/test-logs/" 2>/dev/null
  fi
  # --one-file-system: never descend into a mount that survived, such as a bound /dev.
  rm -rf --one-file-system "$RUN" 2>/dev/null
  return 0
}
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then fail "aborted with status $rc"; fi
  cleanup
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0 || exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------ helpers
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p="$hex" 'FNR > 1 { split($2, a, ":"); if (a[length(a)] == p) found = 1 }
                   END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}

# The first mirror in apt's sources that serves $SUITE itself (not -updates or -security).
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$SUITE" '
        function flush() {
          if (!done && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && uri != "") { print uri; done = 1 }
          types = suites = uri = ""
        }
        /^[[:space:]]*$/ { flush(); next }
        /^Types:/  { sub(/^Types:[[:space:]]*/, "");  types = $0 }
        /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
        /^URIs:/   { uri = $2 }
        END { flush() }')
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list 2>/dev/null | awk -v s="$SUITE" '
          $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                        if ($(i + 1) == s) { print $i; exit } }')
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# An HTTP call against the server under test: sets CODE (000 if no answer) and BODY.
CODE=
BODY=
do_curl() { # METHOD PATH [curl args...]
  local method=$1 path=$2; shift 2
  CODE=$(curl -sS --max-time 10 -o "$RUN/body" -w '%{http_code}' -X "$method" \
    "http://127.0.0.1:$PORT$path" "$@" 2>>"$RUN/curl.log") || CODE=000
  BODY=$(cat "$RUN/body" 2>/dev/null)
  rm -f "$RUN/body"
}
AUTH=()
lists_vat() { # NAME: GET /vats lists a vat of that name
  do_curl GET /vats "${AUTH[@]}"
  [ "$CODE" = 200 ] && grep -Eq "\"name\"[[:space:]]*:[[:space:]]*\"$1\"" <<<"$BODY"
}
creates_vat() { # NAME
  do_curl POST /vats "${AUTH[@]}" -H 'content-type: application/json' -d "{\"name\":\"$1\"}"
  [ "${CODE:0:1}" = 2 ] || { echo "   POST /vats -> $CODE $BODY"; return 1; }
}
runs_as_uid() { # PID UID: real, effective, saved and fs uid and gid are all UID
  local want=$2
  [ -r "/proc/$1/status" ] || return 1
  awk -v u="$want" '/^(Uid|Gid):/ { for (i = 2; i <= 5; i++) if ($i != u) bad = 1 }
                    END { exit bad }' "/proc/$1/status"
}
# Copies the database out of the volume and checks it there, so sqlite3 running as root never
# leaves root-owned -wal/-shm files behind in the volume.
db_is_sound() { # DATA_DIR
  local copy=$RUN/db-copy
  rm -rf "$copy"; mkdir -p "$copy"
  cp -p "$1"/vatkernel.sqlite* "$copy"/ 2>/dev/null || return 1
  [ "$(sqlite3 "$copy/vatkernel.sqlite" 'PRAGMA integrity_check;' 2>&1)" = ok ]
}
owned_by() { [ "$(stat -c '%u:%g' "$2")" = "$1" ]; }

# ------------------------------------------------------------------------------ preflight
[ "$(id -u)" -eq 0 ] || die "must run as root (podman build, debootstrap, chroot)"
missing=()
for tool in podman debootstrap curl sqlite3 swift findmnt; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: run scripts/install-deps"

log "cleaning up after an earlier run"
cleanup
mkdir -p "$CACHE" "$RUN"
START=$(date +%s)
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN_FILE=$RUN/admin-token
printf '%s\n' "$TOKEN" >"$TOKEN_FILE"
chmod 0644 "$TOKEN_FILE"   # readable by the container's uid 10001 through the bind mount
AUTH=(-H "authorization: Bearer $TOKEN")

# ------------------------------------------------------------------------------ the binary
log "building vatkernel (release, static Swift runtime) in .build-docker/swift"
SWIFT_BUILD=(swift build -c release --product vatkernel --scratch-path "$WORK/swift" --static-swift-stdlib)
timeout 1800 "${SWIFT_BUILD[@]}" >"$RUN/swift-build.log" 2>&1 ||
  { tail -40 "$RUN/swift-build.log"; die "swift build of vatkernel"; }
BIN=$("${SWIFT_BUILD[@]}" --show-bin-path)/vatkernel
[ -x "$BIN" ] || die "no binary at $BIN"
BACKTRACER=$(dirname "$(readlink -f "$(command -v swift)")")/../libexec/swift/linux/swift-backtrace-static
[ -x "$BACKTRACER" ] || die "no swift-backtrace-static in the toolchain ($BACKTRACER)"
echo "   binary: $(stat -c %s "$BIN") bytes; ldd: $(ldd "$BIN" | awk '/=>/ { printf "%s ", $1 }')"
check "the binary links the Swift runtime and Foundation statically (ldd lists no libswift/libFoundation/libdispatch)" \
  bash -c "! ldd '$BIN' | grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|libicu'"

# ------------------------------------------------------------------------------ the base image
BASE_TAR=$CACHE/debian-$SUITE-minbase.tar
# Makes a debootstrap root like debian:*-slim, which is debootstrap's minbase with the changes
# below (debuerreotype's slimify and its apt settings), so the measured image size is the one a
# user of debian:bookworm-slim gets.
slim_down() { # ROOT
  local r=$1
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CFG
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$r"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/*
}
if [ ! -s "$BASE_TAR" ]; then
  MIRROR=$(debian_mirror)
  log "debootstrap --variant=minbase $SUITE from $MIRROR (cached in ${BASE_TAR#"$ROOT"/})"
  tmp_root=$CACHE/rootfs.tmp
  umount_under "$tmp_root"; rm -rf --one-file-system "$tmp_root"
  timeout 900 debootstrap --variant=minbase "$SUITE" "$tmp_root" "$MIRROR" >"$RUN/debootstrap.log" 2>&1
  rc=$?
  umount_under "$tmp_root"
  if [ $rc -ne 0 ]; then tail -20 "$RUN/debootstrap.log"; rm -rf --one-file-system "$tmp_root"; die "debootstrap"; fi
  slim_down "$tmp_root"
  tar --numeric-owner -C "$tmp_root" -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf --one-file-system "$tmp_root"
  [ -s "$BASE_TAR" ] || die "tar of the debootstrap root"
fi
if ! pm image exists "$BASE_IMAGE"; then
  log "importing the Debian base as $BASE_IMAGE"
  pm import --change 'CMD ["/bin/bash"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null || die "podman import of the base"
fi

# ------------------------------------------------------------------------------ the image
log "podman build --target runtime-prebuilt (base $BASE_IMAGE)"
# The images an earlier run left under our tags: removed once replaced, so that runs do not
# pile up images (podman rmi also drops their unused intermediate layers).
OLD_IMAGES=$(pm image inspect --format '{{.Id}}' "$IMAGE" "$UPGRADE_IMAGE" 2>/dev/null)
CTX=$RUN/context
mkdir -p "$CTX"
cp "$BIN" "$CTX/vatkernel"
cp "$BACKTRACER" "$CTX/swift-backtrace-static"
# chroot isolation: RUN steps need no OCI runtime (this sandbox's cgroup setup defeats crun).
# docker format: the OCI image format has no HEALTHCHECK.
BUILD=(timeout 900 podman build --isolation=chroot --format docker --pull=never
       -f "$ROOT/docker/Dockerfile" --target runtime-prebuilt --build-arg "RUNTIME_IMAGE=$BASE_IMAGE")
"${BUILD[@]}" -t "$IMAGE" "$CTX" >"$RUN/podman-build.log" 2>&1 ||
  { tail -30 "$RUN/podman-build.log"; die "podman build of the image"; }
pass "podman builds the runtime-prebuilt target"

insp() { pm image inspect --format "$1" "$IMAGE" 2>/dev/null; }
IMAGE_SIZE=$(insp '{{.Size}}')
echo "   image size: $IMAGE_SIZE bytes ($((IMAGE_SIZE / 1000000)) MB)"
check "the image's user is vatkernel (non-root)" test "$(insp '{{.Config.User}}')" = vatkernel:vatkernel
check "the image declares /data a volume" grep -q '"/data"' <<<"$(insp '{{json .Config.Volumes}}')"
check "the image exposes 8080/tcp" grep -q '8080/tcp' <<<"$(insp '{{json .Config.ExposedPorts}}')"
check "the image keeps its database at /data/vatkernel.sqlite" grep -qx 'VATKERNEL_DB=/data/vatkernel.sqlite' <<<"$(insp '{{range .Config.Env}}{{println .}}{{end}}')"
check "the image listens on 0.0.0.0 inside" grep -qx 'VATKERNEL_HOST=0.0.0.0' <<<"$(insp '{{range .Config.Env}}{{println .}}{{end}}')"
check "the image's stop signal is SIGTERM" test "$(insp '{{.Config.StopSignal}}')" = SIGTERM
HEALTH_CMD=$(insp '{{range .HealthCheck.Test}}{{println .}}{{end}}' | sed -n 2p)
check "the image has a HEALTHCHECK on /healthz" grep -q /healthz <<<"$HEALTH_CMD"

# ------------------------------------------------------------------------------ its filesystem
log "exporting the image's filesystem"
ROOTFS=$RUN/rootfs
# Unpacks an image's filesystem into DIR and mounts the /proc and /dev every container has.
export_image() { # IMAGE DIR
  mkdir -p "$2"
  pm create --name "$NAME-export" "$1" >/dev/null &&
    pm export "$NAME-export" | tar --numeric-owner -C "$2" -xf - &&
    pm rm -v "$NAME-export" >/dev/null &&
    mount -t proc proc "$2/proc" && mount --bind /dev "$2/dev"
}
export_image "$IMAGE" "$ROOTFS" || die "podman export of the image"
check "every library the binary needs is in the image (ldd inside it finds all)" \
  bash -c "out=\$(chroot '$ROOTFS' ldd /usr/local/bin/vatkernel) && ! grep -q 'not found' <<<\"\$out\""
check "the binary runs inside the image's filesystem as uid 10001 (vatkernel --help)" \
  bash -c "timeout 30 chroot --userspec=10001:10001 '$ROOTFS' /usr/local/bin/vatkernel --help >'$RUN/help.out' 2>&1"
check "the binary is root-owned and not writable by the service user" test "$(stat -c '%u %a' "$ROOTFS/usr/local/bin/vatkernel")" = "0 755"
check "/data belongs to the service user (10001:10001)" owned_by 10001:10001 "$ROOTFS/data"
check "the service user is named vatkernel in the image" grep -q '^vatkernel:x:10001:10001:' "$ROOTFS/etc/passwd"

# ------------------------------------------------------------------------------ how to run it
PORT=$(free_port) || die "no free port"
RUN_OPTS=()
if [ "$MODE" = auto ] || [ "$MODE" = container ]; then
  # crun refuses this sandbox's hybrid cgroup v1/v2 layout, and raising rlimits needs
  # CAP_SYS_RESOURCE, which the sandbox lacks: try the plain engine first, then work-arounds.
  limits="--ulimit nofile=4096:4096 --ulimit nproc=4096:4096"
  candidates=("" "$limits")
  if command -v runc >/dev/null; then candidates+=("--runtime runc" "--runtime runc $limits"); fi
  found=no
  for opts in "${candidates[@]}"; do
    # shellcheck disable=SC2086
    if pm run --rm $opts -p "127.0.0.1:$PORT:8080" --entrypoint /bin/true "$IMAGE" >>"$RUN/probe.log" 2>&1; then
      read -r -a RUN_OPTS <<<"$opts"; found=yes; break
    fi
  done
  if [ $found = yes ]; then MODE=container
  elif [ "$MODE" = container ]; then tail -5 "$RUN/probe.log"; die "no way to run a container here"
  else MODE=chroot; fi
fi
log "mode: $MODE${RUN_OPTS[*]:+ (podman run ${RUN_OPTS[*]})}; port 127.0.0.1:$PORT"

if [ "$MODE" = container ]; then
  DATA_DIR=
  # What compose.yaml sets too: read-only root, a tmpfs /tmp, no capabilities.
  HARDENING=(--read-only --tmpfs /tmp --cap-drop=all --security-opt=no-new-privileges)
  pm volume create "$VOLUME" >/dev/null || die "podman volume create"
  DATA_DIR=$(pm volume inspect --format '{{.Mountpoint}}' "$VOLUME")
  # start_server IMAGE TOKEN_VIA(file|env)
  start_server() {
    local token_args=(-v "$TOKEN_FILE:$SECRET_PATH:ro" -e "VATKERNEL_ADMIN_TOKEN_FILE=$SECRET_PATH")
    [ "$2" = env ] && token_args=(-e "VATKERNEL_ADMIN_TOKEN=$TOKEN")
    pm run -d --name "$SERVER" "${RUN_OPTS[@]}" "${HARDENING[@]}" -p "127.0.0.1:$PORT:8080" \
      -v "$VOLUME:/data" "${token_args[@]}" "$1" >/dev/null
  }
  restart_server() { pm start "$SERVER" >/dev/null; }
  server_running() { [ "$(pm inspect --format '{{.State.Running}}' "$SERVER" 2>/dev/null)" = true ]; }
  server_pid() { pm inspect --format '{{.State.Pid}}' "$SERVER"; }
  server_logs() { pm logs "$SERVER" 2>&1 | tail -20; }
  # stop_server: SIGTERM (the image's STOPSIGNAL), 30 s grace; sets STOP_STATUS and STOP_SECONDS.
  stop_server() {
    local t0=$SECONDS
    timeout 60 podman stop -t 30 "$SERVER" >/dev/null 2>>"$RUN/podman.log"
    STOP_SECONDS=$((SECONDS - t0))
    STOP_STATUS=$(pm inspect --format '{{.State.ExitCode}}' "$SERVER")
  }
  remove_server() { pm rm -f -v "$SERVER" >/dev/null; }
  healthcheck_passes() { timeout 60 podman healthcheck run "$SERVER" >/dev/null 2>>"$RUN/podman.log"; }
  refuses_without_token() {
    local rc
    timeout 60 podman run --name "$NAME-refuse" "${RUN_OPTS[@]}" "$IMAGE" >"$RUN/refuse.out" 2>&1; rc=$?
    pm rm -f -v "$NAME-refuse" >/dev/null
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qi token "$RUN/refuse.out"
  }
else
  # chroot mode: the image's filesystem with what an engine would mount into it: /proc, /dev,
  # a volume at /data, the secret file; the image's environment, but on 127.0.0.1:$PORT of the
  # host's network, since a chroot has no network namespace of its own.
  DATA_DIR=$RUN/volume
  install -d -o 10001 -g 10001 -m 0750 "$DATA_DIR"
  mapfile -t IMAGE_ENV < <(insp '{{range .Config.Env}}{{println .}}{{end}}' | grep .)
  mount_into() { # ROOTFS: the mounts an engine would add: the volume and the secret
    mount --bind "$DATA_DIR" "$1/data" &&
      mkdir -p "$1$(dirname "$SECRET_PATH")" && touch "$1$SECRET_PATH" &&
      mount --bind -o ro "$TOKEN_FILE" "$1$SECRET_PATH"
  }
  mount_into "$ROOTFS" || die "mounting the volume and the secret into the image's filesystem"
  CURRENT_ROOTFS=$ROOTFS
  in_image() { # run a command in the image's filesystem as the service user, with its environment
    chroot --userspec=10001:10001 "$CURRENT_ROOTFS" /usr/bin/env -i -C /data "${IMAGE_ENV[@]}" "$@"
  }
  SERVER_ARGS=()
  start_server() { # IMAGE TOKEN_VIA(file|env)
    if [ "$1" = "$UPGRADE_IMAGE" ] && [ "$CURRENT_ROOTFS" = "$ROOTFS" ]; then
      CURRENT_ROOTFS=$RUN/rootfs-upgrade
      export_image "$UPGRADE_IMAGE" "$CURRENT_ROOTFS" && mount_into "$CURRENT_ROOTFS" || return 1
    fi
    SERVER_ARGS=(VATKERNEL_HOST=127.0.0.1 "VATKERNEL_PORT=$PORT" "VATKERNEL_ADMIN_TOKEN_FILE=$SECRET_PATH")
    [ "$2" = env ] && SERVER_ARGS=(VATKERNEL_HOST=127.0.0.1 "VATKERNEL_PORT=$PORT" "VATKERNEL_ADMIN_TOKEN=$TOKEN")
    restart_server
  }
  restart_server() {
    # exec all the way down (subshell, chroot, env), so $! is the server's own pid.
    ( exec chroot --userspec=10001:10001 "$CURRENT_ROOTFS" /usr/bin/env -i -C /data "${IMAGE_ENV[@]}" \
        "${SERVER_ARGS[@]}" /usr/local/bin/vatkernel serve >>"$RUN/server.log" 2>&1 ) &
    SERVER_PID=$!
  }
  server_running() { [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; }
  server_pid() { echo "$SERVER_PID"; }
  server_logs() { tail -20 "$RUN/server.log"; }
  stop_server() {
    local t0=$SECONDS
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID"
    wait "$SERVER_PID"; STOP_STATUS=$?
    STOP_SECONDS=$((SECONDS - t0))
    SERVER_PID=
  }
  remove_server() { :; }
  healthcheck_passes() { in_image "VATKERNEL_PORT=$PORT" timeout 30 /bin/sh -c "$HEALTH_CMD"; }
  refuses_without_token() {
    # In a network namespace of its own when possible, so a binary that wrongly starts anyway
    # never listens on the host's interfaces.
    local ns=() rc
    unshare --net true 2>/dev/null && ns=(unshare --net)
    timeout 30 "${ns[@]}" chroot --userspec=10001:10001 "$CURRENT_ROOTFS" /usr/bin/env -i -C /data \
      "${IMAGE_ENV[@]}" /usr/local/bin/vatkernel serve >"$RUN/refuse.out" 2>&1; rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qi token "$RUN/refuse.out"
  }
fi

# Waits (bounded) until /healthz answers 200 or the server has died.
wait_healthy() {
  for _ in $(seq 1 120); do
    do_curl GET /healthz
    [ "$CODE" = 200 ] && return 0
    server_running || break
    sleep 0.25
  done
  echo "   server did not become healthy; last log lines:"; server_logs | sed 's/^/   | /'
  return 1
}

# ------------------------------------------------------------------------------ scenario
check "refuses to start on 0.0.0.0 without an admin token, and says so" refuses_without_token

log "start: admin token from the secret file $SECRET_PATH"
start_server "$IMAGE" file || die "starting the server"
check "answers /healthz within 30 s" wait_healthy
do_curl GET /healthz
check "/healthz answers 200 with a JSON object" bash -c '[ "$0" = 200 ] && [[ "$1" =~ ^[[:space:]]*\{ ]]' "$CODE" "$BODY"
check "the image's HEALTHCHECK command passes" healthcheck_passes
pid=$(server_pid)
check "the server process runs as uid/gid 10001, not root" runs_as_uid "$pid" 10001
do_curl POST /vats -H 'content-type: application/json' -d '{"name":"x"}'
check "refuses POST /vats without the admin token (401/403, was $CODE)" bash -c '[ "$0" = 401 ] || [ "$0" = 403 ]' "$CODE"
check "creates vat a with the admin token" creates_vat a
check "GET /vats lists vat a" lists_vat a

log "restart (SIGTERM, then start the same container again)"
stop_server
check "SIGTERM stops it cleanly (exit status 0, was $STOP_STATUS) within the grace period (${STOP_SECONDS}s)" \
  test "$STOP_STATUS" = 0 -a "$STOP_SECONDS" -lt 30
check "the database is in the /data volume, owned by the service user" owned_by 10001:10001 "$DATA_DIR/vatkernel.sqlite"
check "the database passes sqlite's integrity check after shutdown" db_is_sound "$DATA_DIR"
restart_server || die "restarting the server"
check "answers /healthz after the restart" wait_healthy
check "GET /vats still lists vat a after the restart" lists_vat a

log "upgrade: a new image, a new container, the same volume; token from the environment"
stop_server
remove_server
# --no-cache: a rebuild from scratch, as a new release would be, so the image really differs.
"${BUILD[@]}" --no-cache --layers=false -t "$UPGRADE_IMAGE" "$CTX" \
  >"$RUN/podman-build-upgrade.log" 2>&1 || die "podman build of the upgrade image"
check "the upgrade image is a different image" \
  test "$(pm image inspect --format '{{.Id}}' "$IMAGE")" != "$(pm image inspect --format '{{.Id}}' "$UPGRADE_IMAGE")"
start_server "$UPGRADE_IMAGE" env || die "starting the upgraded server"
check "the upgraded server answers /healthz" wait_healthy
check "GET /vats still lists vat a after the upgrade" lists_vat a
check "creates vat b after the upgrade" creates_vat b
stop_server
check "the upgraded server stops cleanly on SIGTERM (exit status $STOP_STATUS)" test "$STOP_STATUS" = 0
remove_server

# ------------------------------------------------------------------------------ compose.yaml
# docker/compose.yaml as written, run by podman-compose, with one override: the image built
# above instead of a build from source. The file is copied next to its own env file, so the
# test never touches a real docker/vatkernel.env.
if [ "$MODE" != container ]; then
  echo "SKIP: compose.yaml (no container engine here; the image itself was checked under chroot)"
elif ! command -v podman-compose >/dev/null; then
  fail "compose.yaml: podman-compose is missing (scripts/install-deps)"
else
  log "compose: up, vat c, down, up again, down -v (project $NAME)"
  COMPOSE_DIR=$RUN/compose
  mkdir -p "$COMPOSE_DIR"
  cp "$ROOT/docker/compose.yaml" "$COMPOSE_DIR/compose.yaml"
  # The env file made as docker/README.md says: the example, with the token filled in.
  cp "$ROOT/docker/vatkernel.env.example" "$COMPOSE_DIR/vatkernel.env"
  sed -i "s/^VATKERNEL_ADMIN_TOKEN=.*/VATKERNEL_ADMIN_TOKEN=$TOKEN/" "$COMPOSE_DIR/vatkernel.env"
  printf 'services:\n  vatkernel:\n    image: %s\n' "$IMAGE" >"$COMPOSE_DIR/override.yaml"
  compose() {
    ( cd "$COMPOSE_DIR" && VATKERNEL_PUBLISH=127.0.0.1:$PORT VATKERNEL_VOLUME="${NAME}_vatkernel-data" timeout 180 podman-compose -p "$NAME" \
        -f compose.yaml -f override.yaml --podman-run-args="${RUN_OPTS[*]}" "$@" ) >>"$RUN/compose.log" 2>&1
  }
  CTR=${NAME}_vatkernel_1
  server_running() { [ "$(pm inspect --format '{{.State.Running}}' "$CTR" 2>/dev/null)" = true ]; }
  server_logs() { pm logs "$CTR" 2>&1 | tail -20; }
  check "podman-compose up starts the service" compose up -d --no-build
  check "the compose service answers /healthz on its published port" wait_healthy
  check "the compose health check passes" bash -c "timeout 60 podman healthcheck run '$CTR' >/dev/null 2>>'$RUN/podman.log'"
  check "the compose service runs as uid/gid 10001" runs_as_uid "$(pm inspect --format '{{.State.Pid}}' "$CTR")" 10001
  check "the compose service takes its token from the env file (creates vat c)" creates_vat c
  check "podman-compose down stops the service" compose down
  check "the compose volume survives down" pm volume exists "${NAME}_vatkernel-data"
  check "podman-compose up starts it again" compose up -d --no-build
  check "the compose service answers /healthz again" wait_healthy
  check "GET /vats still lists vat c after down and up" lists_vat c
  check "podman-compose down -v removes the service and its volume" compose down -v
fi

for id in $OLD_IMAGES; do
  pm image inspect --format '{{.RepoTags}}' "$id" 2>/dev/null | grep -q 'vatkernel' || pm rmi "$id" >/dev/null
done

echo "   mode $MODE; image $IMAGE_SIZE bytes ($((IMAGE_SIZE / 1000000)) MB); took $(($(date +%s) - START)) s"
