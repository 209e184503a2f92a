# The catch-all mail server's configuration, sourced (never run) by the two places that set one
# up: deploy/mail/entrypoint.sh (the trial mail container) and scripts/services.sh (the test
# servers). Postfix hands every recipient at a served domain to Dovecot over LMTP, and Dovecot
# maps any local part there (status@, GROUP@, reply+TOKEN@, bounce+ID@) to that domain's one
# bridge account, so all of it lands in the INBOX the poller watches. Each caller adds what
# differs: where the servers listen and log, and which domains Postfix accepts.

# users_line ADDRESS PASSWORD HOME: an account in Dovecot's passwd-file.
users_line() {
  printf '%s:{PLAIN}%s::::%s::\n' "$1" "$2" "$3"
}

# domains_line DOMAIN UID GID HOME: the catch-all of DOMAIN, looked up by domain (%d) when no
# account matches, delivering into the bridge account's HOME.
domains_line() {
  printf '%s::%s:%s::%s::\n' "$1" "$2" "$3" "$4"
}

# dovecot_catch_all_conf LISTEN USERS DOMAINS MAIL_USER UID GID IMAP_PORT LMTP_PORT: the
# Dovecot settings both servers share, on stdout. IMAP listens on LISTEN; LMTP only on
# loopback, where Postfix reaches it.
dovecot_catch_all_conf() {
  local listen=$1 users=$2 domains=$3 mail_user=$4 uid=$5 gid=$6 imap_port=$7 lmtp_port=$8
  cat <<CONF
protocols = imap lmtp
listen = $listen
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_uid = $mail_user
mail_gid = $mail_user
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = $gid
last_valid_gid = $gid

# user+detail@domain: look up user@domain, keep the full address in Delivered-To,
# and deliver into INBOX (never into a "detail" sub-folder).
recipient_delimiter = +
lmtp_hdr_delivery_address = final
lmtp_save_to_detail_mailbox = no

namespace inbox {
  inbox = yes
  separator = /
}

# Real accounts: "user@domain:{PLAIN}password::::home::"
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $users
}
userdb {
  driver = passwd-file
  args = username_format=%u $users
}
# Catch-all per domain: "domain::uid:gid::bridge-home::" -- any local part at a listed
# domain is delivered to that domain's bridge account.
userdb {
  driver = passwd-file
  args = username_format=%d $domains
}

service imap-login {
  inet_listener imap {
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
}
CONF
}

# postconf_catch_all LMTP_PORT: the Postfix main.cf settings both servers share: deliver the
# accepted domains over LMTP one recipient at a time (each gets its own Delivered-To), never
# relay, no TLS, and retry quickly so a test or a trial sees a deferred mail again in seconds.
postconf_catch_all() {
  postconf -e \
    "relayhost =" \
    "relay_domains =" \
    "virtual_alias_maps =" \
    "virtual_transport = lmtp:inet:127.0.0.1:$1" \
    "lmtp_destination_recipient_limit = 1" \
    "recipient_delimiter = +" \
    "smtpd_peername_lookup = no" \
    "smtpd_tls_security_level = none" \
    "smtp_tls_security_level = none" \
    "biff = no" \
    "in_flow_delay = 0" \
    "queue_run_delay = 5s" \
    "minimal_backoff_time = 5s" \
    "maximal_backoff_time = 30s" \
    "message_size_limit = 52428800"
}

# postfix_master_cf: no chroot (nothing populates /var/spool/postfix/etc where Postfix is not
# started by its init script), postlogd for maillog_file, and the aliases Postfix expects.
postfix_master_cf() {
  postconf -F '*/*/chroot = n'
  postconf -M "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"
  [[ -f /etc/aliases ]] || printf 'postmaster: root\n' >/etc/aliases
  newaliases
}
