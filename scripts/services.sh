#!/usr/bin/env bash
# Local test services for Blend: PostgreSQL, Redis, Dovecot (IMAP + LMTP) and Postfix,
# all listening on loopback only. See docs/ARCHITECTURE.md "Test infrastructure".
#
#   scripts/services.sh install   # apt/npm installs (root, Debian), idempotent
#   scripts/services.sh up        # start everything, wait until it answers, idempotent
# `pnpm test` runs install and up itself when something is missing (test/global-setup.ts).
#   scripts/services.sh down      # stop our Dovecot instance and Postfix
#   scripts/services.sh status    # show what is up (exit 1 if something is down)
#
# Environment overrides:
#   BLEND_MAIL_ROOT      (default /var/lib/blend-mail)  configs, users/domains files, maildirs, logs
#   BLEND_MAIL_DOMAIN    (default example.test)         the bridge's mail domain
#   BLEND_MAIL_USER      (default bridge)               local part of the bridge account
#   BLEND_MAIL_PASSWORD  (default secret)               the bridge account's IMAP password
#
# Ports: IMAP 127.0.0.1:143, LMTP 127.0.0.1:24, SMTP (Postfix) 127.0.0.1:2525, and a second
# Postfix SMTP listener on 127.0.0.1:2526 that answers scripted per-recipient replies (below).
# Postfix accepts mail for ANY domain ending in .test and hands it to Dovecot over LMTP;
# Dovecot maps each domain listed in $BLEND_MAIL_ROOT/domains to that domain's bridge
# account, so every local part (status@, group@, reply+TOKEN@) lands in the bridge INBOX.
set -euo pipefail
# The catch-all Dovecot and Postfix settings, shared with the trial mail container.
# shellcheck source=deploy/mail/mail-config.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../deploy/mail/mail-config.sh"

BLEND_MAIL_ROOT="${BLEND_MAIL_ROOT:-/var/lib/blend-mail}"
BLEND_MAIL_DOMAIN="${BLEND_MAIL_DOMAIN:-example.test}"
BLEND_MAIL_USER="${BLEND_MAIL_USER:-bridge}"
BLEND_MAIL_PASSWORD="${BLEND_MAIL_PASSWORD:-secret}"

MAIL_SYS_USER=blendmail
DOVECOT_BASE_DIR=/run/blend-dovecot
DOVECOT_CONF="$BLEND_MAIL_ROOT/etc/dovecot.conf"
POSTFIX_MAPS_DIR="$BLEND_MAIL_ROOT/etc/postfix"
LOG_DIR="$BLEND_MAIL_ROOT/log"
IMAP_PORT=143
LMTP_PORT=24
SMTP_PORT=2525
SCRIPTED_SMTP_PORT=2526
PNPM_VERSION=12.21.0
# chromium: Debian's browser for test/web-browser.test.ts (driven by playwright-core; never
# `npx playwright install`, which downloads a browser).
APT_PACKAGES=(postgresql redis-server dovecot-imapd dovecot-lmtpd postfix swaks chromium)
# install and up from two checkouts at once (two test runs, a test run and the demo) take turns.
LOCK_FILE=/tmp/blend-services.lock

log() { printf '%s\n' "$*"; }
err() { printf 'services.sh: %s\n' "$*" >&2; }
die() { err "$*"; exit 1; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
}

take_lock() {
  exec 9>>"$LOCK_FILE"
  flock -w 900 9 || die "another scripts/services.sh has held $LOCK_FILE for 15 minutes"
}

# daemon <command...>: start a server that stays behind, without our stdin, stdout, stderr or
# lock: a server holding the lock's descriptor would hold the lock for as long as it runs, and
# one holding our stdout would keep `scripts/services.sh up | tee` (or a test run that called
# it) from ever reaching end of file. The command's own output is shown if it fails.
daemon() {
  local out rc=0
  out=$(mktemp)
  "$@" </dev/null >"$out" 2>&1 9>&- || rc=$?
  ((rc == 0)) || cat "$out" >&2
  rm -f "$out"
  return $rc
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# wait_for <description> <seconds> <command...>
wait_for() {
  local what=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      err "timed out after ${secs}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------- install

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

cmd_install() {
  need_root
  take_lock
  if ! command -v pnpm >/dev/null 2>&1; then
    log "installing pnpm@$PNPM_VERSION"
    npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
  fi

  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    pkg_installed "$p" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi

  log "installing ${missing[*]}"
  echo 'postfix postfix/main_mailer_type select Local only' | debconf-set-selections
  # Keep the packages' maintainer scripts from starting daemons (we start our own).
  local added_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  local rc=0
  apt_install "${missing[@]}" || rc=$?
  if ((added_policy)); then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  ((rc == 0)) || die "apt-get install ${missing[*]} failed"
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then allow_local_postgres; fi
}

# A new cluster wants a password over TCP; the tests and the demo connect as postgres without
# one, from 127.0.0.1 only (pg_hba.conf: the first matching line wins).
allow_local_postgres() {
  local hba
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [[ -f $hba ]] || continue
    grep -qE '^host[[:space:]]+all[[:space:]]+postgres[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba" && continue
    log "allowing postgres@127.0.0.1 without a password in $hba"
    sed -i '1i host all postgres 127.0.0.1/32 trust  # scripts/services.sh: tests and demo, loopback only' "$hba"
  done
}

apt_install() {
  local out=/tmp/blend-apt.$$.log
  export DEBIAN_FRONTEND=noninteractive
  local opts=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if apt-get install "${opts[@]}" "$@" >"$out" 2>&1; then
    rm -f "$out"
    return 0
  fi
  log "apt-get install failed; running apt-get update and retrying"
  if apt-get update -q >"$out" 2>&1 && apt-get install "${opts[@]}" "$@" >>"$out" 2>&1; then
    rm -f "$out"
    return 0
  fi
  cat "$out" >&2
  rm -f "$out"
  return 1
}

# ---------------------------------------------------------------------------- postgres / redis

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1; then return 0; fi
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  [[ -n $ver ]] || die "no PostgreSQL cluster under /etc/postgresql"
  log "starting PostgreSQL $ver"
  daemon pg_ctlcluster --skip-systemctl-redirect "$ver" main start || die "PostgreSQL $ver failed to start"
  wait_for "PostgreSQL" 60 pg_isready -q -h 127.0.0.1
}

redis_up() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }

ensure_redis() {
  if redis_up; then return 0; fi
  log "starting Redis"
  daemon redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" || die "Redis failed to start"
  wait_for "Redis" 30 redis_up
}

# ---------------------------------------------------------------------------- mail files

ensure_mail_user() {
  if ! id -u "$MAIL_SYS_USER" >/dev/null 2>&1; then
    log "creating system user $MAIL_SYS_USER"
    useradd --system --user-group --home-dir "$BLEND_MAIL_ROOT/home" --no-create-home \
      --shell /usr/sbin/nologin "$MAIL_SYS_USER"
  fi
  MAIL_UID=$(id -u "$MAIL_SYS_USER")
  MAIL_GID=$(id -g "$MAIL_SYS_USER")
}

# Replace $1 with the content of $2 only if it differs; returns 0 if it changed.
install_if_changed() {
  local dest=$1 tmp=$2
  if [[ -f $dest ]] && cmp -s "$dest" "$tmp"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$dest"
  return 0
}

ensure_mail_files() {
  mkdir -p "$BLEND_MAIL_ROOT/etc" "$POSTFIX_MAPS_DIR" "$LOG_DIR" "$BLEND_MAIL_ROOT/home"
  chmod 755 "$BLEND_MAIL_ROOT" "$BLEND_MAIL_ROOT/etc" "$POSTFIX_MAPS_DIR"
  chown "$MAIL_UID:$MAIL_GID" "$BLEND_MAIL_ROOT/home"

  local users="$BLEND_MAIL_ROOT/users" domains="$BLEND_MAIL_ROOT/domains"
  local addr="$BLEND_MAIL_USER@$BLEND_MAIL_DOMAIN"
  local home="$BLEND_MAIL_ROOT/home/$BLEND_MAIL_DOMAIN/$BLEND_MAIL_USER"
  touch "$users" "$domains"
  chmod 644 "$users" "$domains"
  # Files are appended to at runtime by test/support/mail-server.ts; make sure they end in \n.
  local f
  for f in "$users" "$domains"; do
    if [[ -s $f && $(tail -c 1 "$f" | od -An -c | tr -d ' ') != '\n' ]]; then
      echo >>"$f"
    fi
  done
  local user_line
  user_line=$(users_line "$addr" "$BLEND_MAIL_PASSWORD" "$home")
  if ! grep -qxF "$user_line" "$users"; then
    # Drop a stale line for the same account (e.g. a changed password), then append.
    awk -v p="$addr:" 'index($0, p) != 1' "$users" >"$users.tmp.$$"
    echo "$user_line" >>"$users.tmp.$$"
    chmod 644 "$users.tmp.$$"
    mv -f "$users.tmp.$$" "$users"
  fi
  if ! grep -q "^$BLEND_MAIL_DOMAIN:" "$domains"; then
    domains_line "$BLEND_MAIL_DOMAIN" "$MAIL_UID" "$MAIL_GID" "$home" >>"$domains"
  fi
  mkdir -p "$home"
  chown "$MAIL_UID:$MAIL_GID" "$BLEND_MAIL_ROOT/home/$BLEND_MAIL_DOMAIN" "$home"
}

# ---------------------------------------------------------------------------- dovecot

dovecot_pid() {
  local pidfile="$DOVECOT_BASE_DIR/master.pid" pid
  [[ -r $pidfile ]] || return 1
  pid=$(cat "$pidfile")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_dovecot_conf() {
  local tmp="$DOVECOT_CONF.tmp.$$"
  cat >"$tmp" <<EOF
# Generated by scripts/services.sh -- do not edit, changes are overwritten.
# Dedicated Dovecot instance for Blend's tests: IMAP + LMTP on loopback, passwd-file users.
instance_name = blend-dovecot
base_dir = $DOVECOT_BASE_DIR
state_dir = $BLEND_MAIL_ROOT/state
log_path = $LOG_DIR/dovecot.log
info_log_path = $LOG_DIR/dovecot.log
auth_verbose = yes
login_trusted_networks = 127.0.0.0/8 ::1
auth_failure_delay = 0

# No anvil auth penalty: tests log in from 127.0.0.1 all the time, some of them with a wrong
# password on purpose; by default every failure delays the next login from that IP by 2-15s.
# (mode 0 keeps the auth process, which runs as "dovecot", from connecting to it.)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

EOF
  dovecot_catch_all_conf 127.0.0.1 "$BLEND_MAIL_ROOT/users" "$BLEND_MAIL_ROOT/domains" "$MAIL_SYS_USER" "$MAIL_UID" "$MAIL_GID" "$IMAP_PORT" "$LMTP_PORT" >>"$tmp"
  chmod 644 "$tmp"
  install_if_changed "$DOVECOT_CONF" "$tmp"
}

start_dovecot() {
  mkdir -p "$BLEND_MAIL_ROOT/state"
  local changed=0
  write_dovecot_conf && changed=1
  doveconf -c "$DOVECOT_CONF" -n >/dev/null || die "invalid Dovecot config $DOVECOT_CONF"
  if dovecot_pid >/dev/null; then
    if ((changed)); then
      log "reloading Dovecot (config changed)"
      doveadm -c "$DOVECOT_CONF" reload
    fi
  else
    rm -f "$DOVECOT_BASE_DIR/master.pid"
    daemon dovecot -c "$DOVECOT_CONF" || die "Dovecot failed to start; see $LOG_DIR/dovecot.log"
  fi
}

stop_dovecot() {
  local pid
  if pid=$(dovecot_pid); then
    dovecot -c "$DOVECOT_CONF" stop 2>/dev/null || kill "$pid"
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    log "dovecot stopped"
  else
    log "dovecot not running"
  fi
}

# ---------------------------------------------------------------------------- postfix

postfix_running() { postfix status >/dev/null 2>&1; }

configure_postfix() {
  local domains_map="$POSTFIX_MAPS_DIR/virtual_domains.regexp"
  local mailbox_map="$POSTFIX_MAPS_DIR/virtual_mailboxes.regexp"
  local recipient_access="$POSTFIX_MAPS_DIR/recipient_access.regexp"
  local tmp
  # Any domain ending in .test (tests invent t-<hex>.test domains at runtime).
  tmp="$domains_map.tmp.$$"
  printf '# Generated by scripts/services.sh\n/\\.test$/ OK\n' >"$tmp"
  chmod 644 "$tmp"
  install_if_changed "$domains_map" "$tmp" || true
  # Any local part (incl. +detail) at those domains.
  tmp="$mailbox_map.tmp.$$"
  printf '# Generated by scripts/services.sh\n/^[^@]+@[^@]+\\.test$/ OK\n' >"$tmp"
  chmod 644 "$tmp"
  install_if_changed "$mailbox_map" "$tmp" || true
  # Nothing leaves this machine: recipients outside *.test (and local names) are refused at
  # RCPT time, even from mynetworks, instead of being accepted and bounced later.
  tmp="$recipient_access.tmp.$$"
  cat >"$tmp" <<'MAP'
# Generated by scripts/services.sh
/@[^@]+\.test$/                          DUNNO
/@(localhost|localhost\.localdomain)$/   DUNNO
/^[^@]*$/                                DUNNO
/./                                      REJECT 5.7.1 relaying denied: this test MTA only accepts mail for *.test domains
MAP
  chmod 644 "$tmp"
  install_if_changed "$recipient_access" "$tmp" || true
  # Scripted replies for the 2526 listener, one "address  4NN/5NN text" per recipient
  # (access(5)), e.g. "x@t-1.test 451 4.3.0 try again later". Tests add and remove entries at
  # runtime with `postmap -i` / `postmap -d` (test/support/mail-server.ts); a hash: table is
  # used because smtpd notices a changed .db before its next connection, so no reload is
  # needed. Starts empty; the .db is only (re)built when missing.
  local scripted="$POSTFIX_MAPS_DIR/scripted_replies"
  if [[ ! -f $scripted ]]; then
    printf '# Runtime entries live only in %s.db (postmap -i / -d); this file stays empty.\n' "$scripted" >"$scripted"
    chmod 644 "$scripted"
  fi
  [[ -f $scripted.db ]] || postmap "hash:$scripted"

  local protocols=ipv4 interfaces=127.0.0.1 networks='127.0.0.0/8'
  if [[ -f /proc/net/if_inet6 ]] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
    protocols=all
    interfaces=loopback-only
    networks='127.0.0.0/8 [::1]/128'
  fi
  local mydest='$myhostname, localhost.localdomain, localhost'

  postconf_catch_all "$LMTP_PORT"
  postconf -e \
    "inet_interfaces = $interfaces" \
    "inet_protocols = $protocols" \
    "mynetworks = $networks" \
    "mydestination = $mydest" \
    "default_transport = error" \
    "relay_transport = error" \
    "virtual_mailbox_domains = regexp:$domains_map" \
    "virtual_mailbox_maps = regexp:$mailbox_map" \
    "lmtp_destination_concurrency_limit = 10" \
    "smtpd_relay_restrictions = check_recipient_access regexp:$recipient_access, permit_mynetworks, reject_unauth_destination" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination" \
    "maillog_file = $LOG_DIR/postfix.log" \
    "maillog_file_prefixes = /var, /dev/stdout, $LOG_DIR"

  # master.cf: no port-25 listener; SMTP on 127.0.0.1:2525.
  if postconf -M smtp/inet 2>/dev/null | grep -q .; then
    postconf -M# smtp/inet
  fi
  postconf -M "127.0.0.1:$SMTP_PORT/inet=127.0.0.1:$SMTP_PORT inet n - n - - smtpd"
  # 127.0.0.1:2526: the same MTA, but recipients listed in the scripted map get that reply
  # (451, 550, ...), and the server hangs up after the first error (as busy MTAs do), so a
  # pooled client's next attempt opens a new session and sees the map as it is then (an smtpd
  # process reads its maps once; a session in progress keeps the old entries).
  postconf -M "127.0.0.1:$SCRIPTED_SMTP_PORT/inet=127.0.0.1:$SCRIPTED_SMTP_PORT inet n - n - - smtpd -o syslog_name=postfix/scripted -o smtpd_hard_error_limit=1 -o smtpd_recipient_restrictions=check_recipient_access,hash:$scripted,permit_mynetworks,reject_unauth_destination"
  postfix_master_cf
  postfix check || die "postfix check failed"
}

start_postfix() {
  configure_postfix
  if postfix_running; then
    postfix reload >/dev/null 2>&1
  else
    daemon postfix start || die "postfix failed to start"
  fi
}

stop_postfix() {
  if postfix_running; then
    postfix stop >/dev/null 2>&1
    log "postfix stopped"
  else
    log "postfix not running"
  fi
}

# ---------------------------------------------------------------------------- commands

print_ports() {
  local rc=0 name port
  for name in imap:$IMAP_PORT lmtp:$LMTP_PORT smtp:$SMTP_PORT smtp-scripted:$SCRIPTED_SMTP_PORT; do
    port=${name#*:}
    if port_open "$port"; then
      log "${name%%:*}  127.0.0.1:$port  up"
    else
      log "${name%%:*}  127.0.0.1:$port  DOWN"
      rc=1
    fi
  done
  return $rc
}

cmd_up() {
  need_root
  take_lock
  ensure_postgres
  ensure_redis
  ensure_mail_user
  ensure_mail_files
  start_dovecot
  start_postfix
  wait_for "IMAP on 127.0.0.1:$IMAP_PORT" 30 port_open "$IMAP_PORT"
  wait_for "LMTP on 127.0.0.1:$LMTP_PORT" 30 port_open "$LMTP_PORT"
  wait_for "SMTP on 127.0.0.1:$SMTP_PORT" 30 port_open "$SMTP_PORT"
  wait_for "SMTP on 127.0.0.1:$SCRIPTED_SMTP_PORT" 30 port_open "$SCRIPTED_SMTP_PORT"
  print_ports
}

cmd_down() {
  need_root
  stop_dovecot
  stop_postfix
}

cmd_status() {
  local rc=0
  if pg_isready -q -h 127.0.0.1; then log "postgres 127.0.0.1:5432  up"; else log "postgres 127.0.0.1:5432  DOWN"; rc=1; fi
  if redis_up; then log "redis 127.0.0.1:6379  up"; else log "redis 127.0.0.1:6379  DOWN"; rc=1; fi
  local pid
  if pid=$(dovecot_pid); then log "dovecot  running (pid $pid, config $DOVECOT_CONF)"; else log "dovecot  not running"; rc=1; fi
  if postfix_running; then log "postfix  running"; else log "postfix  not running"; rc=1; fi
  print_ports || rc=1
  return $rc
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 {install|up|down|status}" >&2
    exit 2
    ;;
esac
