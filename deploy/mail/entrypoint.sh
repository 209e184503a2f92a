#!/usr/bin/env bash
# The mail container's entry point (deploy/mail/Dockerfile).
#   blend-mail run     write the configuration from the environment, run Dovecot and Postfix
#                      in the foreground; stop both on SIGTERM, exit when either exits
#   blend-mail check   health check: SMTP and IMAP answer
set -euo pipefail

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
  # to the same home (scripts/services.sh writes the same two files).
  printf '%s@%s:{PLAIN}%s::::%s::\n' "$USER_PART" "$DOMAIN" "$PASSWORD" "$home" >"$ETC/users"
  printf '%s::%s:%s::%s::\n' "$DOMAIN" "$uid" "$gid" "$home" >"$ETC/domains"
  local domains="$DOMAIN" pattern="${DOMAIN//./\\.}"
  if [[ -n $PEOPLE_DOMAIN ]]; then
    local people="$ROOT/$PEOPLE_DOMAIN/people"
    mkdir -p "$people"
    chown -R blendmail:blendmail "$ROOT/$PEOPLE_DOMAIN"
    printf 'people@%s:{PLAIN}%s::::%s::\n' "$PEOPLE_DOMAIN" "$PASSWORD" "$people" >>"$ETC/users"
    printf '%s::%s:%s::%s::\n' "$PEOPLE_DOMAIN" "$uid" "$gid" "$people" >>"$ETC/domains"
    domains="$domains, $PEOPLE_DOMAIN"
    pattern="(${pattern}|${PEOPLE_DOMAIN//./\\.})"
  fi
  chmod 0640 "$ETC/users" "$ETC/domains"
  chgrp dovecot "$ETC/users" "$ETC/domains"

  cat >"$ETC/dovecot.conf" <<CONF
protocols = imap lmtp
listen = *
log_path = /dev/stderr
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_uid = blendmail
mail_gid = blendmail
first_valid_uid = $uid
last_valid_uid = $uid
# user+detail@domain is looked up as user@domain, keeps its full address in Delivered-To and
# is delivered into INBOX, never into a "detail" folder.
recipient_delimiter = +
lmtp_hdr_delivery_address = final
lmtp_save_to_detail_mailbox = no
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $ETC/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $ETC/users
}
userdb {
  driver = passwd-file
  args = username_format=%d $ETC/domains
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = 24
  }
}
CONF

  printf '/^[^@]+@%s$/ OK\n' "$pattern" >"$ETC/mailboxes.regexp"
  postconf -e \
    "myhostname = mail.$DOMAIN" \
    "mydestination = localhost" \
    "inet_interfaces = all" \
    "inet_protocols = ipv4" \
    "relayhost =" \
    "relay_domains =" \
    "default_transport = error:this trial mail server delivers only to ${domains//, / and }" \
    "relay_transport = error:this trial mail server delivers only to ${domains//, / and }" \
    "virtual_mailbox_domains = $domains" \
    "virtual_mailbox_maps = regexp:$ETC/mailboxes.regexp" \
    "virtual_alias_maps =" \
    "virtual_transport = lmtp:inet:127.0.0.1:24" \
    "lmtp_destination_recipient_limit = 1" \
    "recipient_delimiter = +" \
    "mynetworks = 127.0.0.0/8" \
    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
    "smtpd_recipient_restrictions = reject_unauth_destination" \
    "smtpd_peername_lookup = no" \
    "smtpd_tls_security_level = none" \
    "smtp_tls_security_level = none" \
    "biff = no" \
    "in_flow_delay = 0" \
    "queue_run_delay = 5s" \
    "minimal_backoff_time = 5s" \
    "maximal_backoff_time = 30s" \
    "message_size_limit = 52428800" \
    "maillog_file = /dev/stdout"
  # No chroot (nothing populates /var/spool/postfix/etc here); postlogd for maillog_file.
  postconf -F '*/*/chroot = n'
  postconf -M "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"
  [[ -f /etc/aliases ]] || printf 'postmaster: root\n' >/etc/aliases
  newaliases
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
