#!/usr/bin/env bash
# The mail container's entry point (deploy/mail/Dockerfile).
#   blend-mail run     write the configuration from the environment, run Dovecot and Postfix
#                      in the foreground; stop both on SIGTERM, exit when either exits
#   blend-mail check   health check: SMTP and IMAP answer
set -euo pipefail
# shellcheck source=deploy/mail/mail-config.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/mail-config.sh"

DOMAIN="${BLEND_MAIL_DOMAIN:?BLEND_MAIL_DOMAIN is required}"
USER_PART="${BLEND_MAIL_USER:-bridge}"
PASSWORD="${BLEND_MAIL_PASSWORD:?BLEND_MAIL_PASSWORD is required}"
# Optional: the people's domain. Blend's mail to anyone there (notifications, mirrored comments,
# receipts) lands in one mailbox, people@PEOPLE_DOMAIN with the same password, to read it.
PEOPLE_DOMAIN="${BLEND_MAIL_PEOPLE_DOMAIN:-}"
ROOT=/var/mail/blend
ETC=/etc/blend-mail

answers() {
  # $1 port, $2 expected start of the greeting
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  IFS= read -r -t 3 line <&3 || return 1
  exec 3<&-
  [[ $line == "$2"* ]]
}

configure() {
  mkdir -p "$ETC" "$ROOT"
  local uid gid home="$ROOT/$DOMAIN/$USER_PART"
  uid=$(id -u blendmail)
  gid=$(id -g blendmail)
  mkdir -p "$home"
  chown -R blendmail:blendmail "$ROOT"

  # The bridge account, and the catch-all: any other local part at the domain is delivered
  # to the same home.
  users_line "$USER_PART@$DOMAIN" "$PASSWORD" "$home" >"$ETC/users"
  domains_line "$DOMAIN" "$uid" "$gid" "$home" >"$ETC/domains"
  local domains="$DOMAIN" pattern="${DOMAIN//./\\.}"
  if [[ -n $PEOPLE_DOMAIN ]]; then
    local people="$ROOT/$PEOPLE_DOMAIN/people"
    mkdir -p "$people"
    chown -R blendmail:blendmail "$ROOT/$PEOPLE_DOMAIN"
    users_line "people@$PEOPLE_DOMAIN" "$PASSWORD" "$people" >>"$ETC/users"
    domains_line "$PEOPLE_DOMAIN" "$uid" "$gid" "$people" >>"$ETC/domains"
    domains="$domains, $PEOPLE_DOMAIN"
    pattern="(${pattern}|${PEOPLE_DOMAIN//./\\.})"
  fi
  chmod 0640 "$ETC/users" "$ETC/domains"
  chgrp dovecot "$ETC/users" "$ETC/domains"

  {
    printf 'log_path = /dev/stderr\n'
    dovecot_catch_all_conf '*' "$ETC/users" "$ETC/domains" blendmail "$uid" "$gid" 143 24
  } >"$ETC/dovecot.conf"

  printf '/^[^@]+@%s$/ OK\n' "$pattern" >"$ETC/mailboxes.regexp"
  postconf_catch_all 24
  postconf -e \
    "myhostname = mail.$DOMAIN" \
    "mydestination = localhost" \
    "inet_interfaces = all" \
    "inet_protocols = ipv4" \
    "default_transport = error:this trial mail server delivers only to ${domains//, / and }" \
    "relay_transport = error:this trial mail server delivers only to ${domains//, / and }" \
    "virtual_mailbox_domains = $domains" \
    "virtual_mailbox_maps = regexp:$ETC/mailboxes.regexp" \
    "mynetworks = 127.0.0.0/8" \
    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
    "smtpd_recipient_restrictions = reject_unauth_destination" \
    "maillog_file = /dev/stdout"
  postfix_master_cf
  postfix check
  doveconf -c "$ETC/dovecot.conf" -n >/dev/null
}

run() {
  configure
  dovecot -F -c "$ETC/dovecot.conf" &
  local dovecot=$!
  postfix start-fg &
  local postfix=$!
  # docker stop / kubectl delete: stop both and exit.
  trap 'postfix stop >/dev/null 2>&1 || true; kill -TERM "$dovecot" 2>/dev/null || true' TERM INT
  local rc=0
  wait -n "$dovecot" "$postfix" || rc=$?
  postfix stop >/dev/null 2>&1 || true
  kill -TERM "$dovecot" 2>/dev/null || true
  wait || true
  exit "$rc"
}

case "${1:-run}" in
  run) run ;;
  check) answers 25 220 && answers 143 '* OK' ;;
  *) exec "$@" ;;
esac
