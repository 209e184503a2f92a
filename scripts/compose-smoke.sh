#!/usr/bin/env bash
# Smoke test of docker-compose.yml (README.md, "Docker quick start"): build the images, bring
# the whole stack up with a fresh BLEND_SECRET, wait for every service's health check, add a
# person, send a mail to status@ through the mail container's SMTP port, see the post through
# the API's feed, and tear everything down again (volumes included).
#
#   scripts/compose-smoke.sh               # official base images (node, postgres, redis, debian)
#   scripts/compose-smoke.sh --standins    # no registry: a base from Debian's packages
#                                          # (deploy/base/build-base.sh) and Postgres and Redis
#                                          # images built from it (deploy/standins/)
#   BLEND_BUILD_NETWORK=host scripts/compose-smoke.sh --standins
#                                          # engines without a bridge network (dockerd --bridge=none)
#   BLEND_IMAGE=blend:local BLEND_MAIL_IMAGE=blend-mail:local …
#                                          # use images built before instead of building
#   BLEND_SMOKE_KEEP=1 …                   # leave the stack up afterwards (tear it down with
#                                          # docker compose -p blend-smoke down -v)
#
# Exit 0 when the post appeared; otherwise the services' logs are printed and it exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT=blend-smoke
STANDINS=0
[[ ${1:-} == --standins ]] && STANDINS=1
BUILD_NET=()
[[ -n ${BLEND_BUILD_NETWORK:-} ]] && BUILD_NET=(--network "$BLEND_BUILD_NETWORK")

say() { printf 'compose-smoke: %s\n' "$*"; }
die() { printf 'compose-smoke: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed); see README.md, \"How the stack was verified\""
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  die "neither 'docker compose' nor 'docker-compose' is installed"
fi
command -v openssl >/dev/null || die "openssl is needed to make a BLEND_SECRET"

BLEND_SECRET=$(openssl rand -hex 32)
# BLEND_IMAGE / BLEND_MAIL_IMAGE given: use those images as they are instead of building them.
build_blend=1 build_mail=1
[[ -n ${BLEND_IMAGE:-} ]] && build_blend=0
[[ -n ${BLEND_MAIL_IMAGE:-} ]] && build_mail=0
# Host ports other than the compose file's defaults, which a machine running
# scripts/services.sh (Postfix on 2525) or a local API (3000) already uses.
export BLEND_COMPOSE_SMTP_PORT=${BLEND_COMPOSE_SMTP_PORT:-12525} BLEND_COMPOSE_IMAP_PORT=${BLEND_COMPOSE_IMAP_PORT:-11143} BLEND_COMPOSE_API_PORT=${BLEND_COMPOSE_API_PORT:-13000}
export BLEND_SECRET BLEND_IMAGE=${BLEND_IMAGE:-blend:smoke} BLEND_MAIL_IMAGE=${BLEND_MAIL_IMAGE:-blend-mail:smoke}
dc() { "${COMPOSE[@]}" -p "$PROJECT" "$@"; }

base=node:26-bookworm-slim
mail_base=debian:bookworm-slim
if ((STANDINS)); then
  base=blend-base:26-bookworm-slim
  mail_base=$base
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    say "building $base from Debian's packages"
    deploy/base/build-base.sh "$base"
  fi
  export BLEND_POSTGRES_IMAGE=blend-postgres-standin:smoke BLEND_REDIS_IMAGE=blend-redis-standin:smoke
  say "building the Postgres and Redis stand-ins"
  docker build -q "${BUILD_NET[@]}" --build-arg "BASE=$base" -t "$BLEND_POSTGRES_IMAGE" deploy/standins/postgres >/dev/null
  docker build -q "${BUILD_NET[@]}" --build-arg "BASE=$base" -t "$BLEND_REDIS_IMAGE" deploy/standins/redis >/dev/null
fi
if ((build_blend)); then
  say "building $BLEND_IMAGE"
  docker build -q "${BUILD_NET[@]}" --build-arg "BASE=$base" -t "$BLEND_IMAGE" . >/dev/null
fi
if ((build_mail)); then
  say "building $BLEND_MAIL_IMAGE"
  docker build -q "${BUILD_NET[@]}" --build-arg "BASE=$mail_base" -t "$BLEND_MAIL_IMAGE" deploy/mail >/dev/null
fi

ok=0
finish() {
  if ((ok == 0)); then
    say "FAILED; the services' logs:"
    dc logs --no-color --tail 60 >&2 || true
  fi
  if [[ -z ${BLEND_SMOKE_KEEP:-} ]]; then
    say "tearing down"
    dc down -v --remove-orphans >/dev/null 2>&1 || true
  fi
}
trap finish EXIT

say "starting the stack"
dc up -d --no-build

# Every long-running service healthy; the one-shot migration exited 0.
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$(dc ps -q "$1")" 2>/dev/null; }
deadline=$((SECONDS + 300))
for svc in postgres redis mail worker poller api; do
  until [[ $(health "$svc") == healthy ]]; do
    ((SECONDS < deadline)) || die "$svc did not become healthy within 5 minutes (now: $(health "$svc"))"
    sleep 2
  done
  say "$svc healthy"
done
migrate_rc=$(docker inspect -f '{{.State.ExitCode}}' "$(dc ps -aq migrate)")
[[ $migrate_rc == 0 ]] || die "the migrate service exited with $migrate_rc"
say "migrate exited 0"

say "adding alice@corp.test"
out=$(dc exec -T api node dist/blend.mjs people add alice@corp.test --name Alice --opt-in)
token=$(printf '%s\n' "$out" | sed -n 's/^token: *//p')
[[ -n $token ]] || die "no token in: $out"

subject="compose smoke $(openssl rand -hex 6)"
say "mailing status@example.test: $subject"
SUBJECT=$subject node --input-type=module -e '
  import net from "node:net";
  const s = net.connect(Number(process.env.BLEND_COMPOSE_SMTP_PORT), "127.0.0.1");
  const lines = ["EHLO smoke.example.test", "MAIL FROM:<alice@corp.test>", "RCPT TO:<status@example.test>", "DATA",
    `From: Alice <alice@corp.test>\r\nTo: status@example.test\r\nSubject: ${process.env.SUBJECT}\r\nMessage-ID: <${Date.now()}@smoke.example.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nHello from the compose smoke test.\r\n.`, "QUIT"];
  let buf = "";
  s.on("data", (d) => {
    buf += d;
    // One command per complete reply (a final line is "NNN text"; "NNN-text" continues).
    while (/^\d{3} .*\r?\n/m.test(buf)) {
      const m = buf.match(/^(\d{3}) .*\r?\n/m); const code = Number(m[1]);
      buf = buf.slice(m.index + m[0].length);
      if (code >= 400) { console.error("SMTP refused: " + m[0].trim()); process.exit(1); }
      const next = lines.shift(); if (next === undefined) { s.end(); return; }
      s.write(next + "\r\n");
    }
  });
  s.on("error", (e) => { console.error(e.message); process.exit(1); });
'

say "waiting for the post in GET /api/v1/feed"
deadline=$((SECONDS + 120))
until curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$BLEND_COMPOSE_API_PORT/api/v1/feed" | grep -qF "$subject"; do
  ((SECONDS < deadline)) || die "the post did not appear in the feed within 2 minutes"
  sleep 2
done
say "the post is in the feed"

# The way back: Blend's mail to alice (the publish receipt of a first post) goes out through the
# mail container's SMTP and lands in people@corp.test.
deadline=$((SECONDS + 120))
until (( $(dc exec -T mail sh -c 'ls /var/mail/blend/corp.test/people/Maildir/new 2>/dev/null | wc -l') > 0 )); do
  ((SECONDS < deadline)) || die "no mail from Blend reached people@corp.test within 2 minutes"
  sleep 2
done
say "Blend's mail to alice arrived in people@corp.test"

# Stopping drains: every service exits by itself (code 0) within the stop_grace_period.
dc stop worker poller api >/dev/null 2>&1
for svc in worker poller api; do
  rc=$(docker inspect -f '{{.State.ExitCode}}' "$(dc ps -aq "$svc")")
  [[ $rc == 0 ]] || die "$svc exited with $rc on SIGTERM (killed at the grace period?)"
done
say "worker, poller and api stopped cleanly on SIGTERM"
ok=1
say "PASSED"
