import { z } from 'zod';
import { DEFAULT_CORRECTION_WINDOW_MS, DEFAULT_NOTIFY_COALESCE_MS, DEFAULT_ORPHAN_REPLY_GRACE_MS, groupSlugProblem, LANGUAGES, mailboxProblem, parseImapUrl, receivedByPatternProblem, type Addressing } from '@blend/core';
import { AfterActionError, afterActionProblem, parseAfterAction } from './imap-after';
import { trustProxySetting } from './trust-proxy';
import { FILE_SETTINGS, resolveFileSettings } from './secret-files';
import { dkimKeyProblem, dkimKeyText } from './dkim-key';
import { publishedSecretProblem } from './secret-strength';

const url = (protocols: string[], example: string) =>
  z
    .string({ error: `is required (for example ${example})` })
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')} (for example ${example})`);

const domain = z
  .string({ error: 'is required (for example example.test)' })
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/, 'must be a domain name such as example.test');

/** Comma-separated shared tokens of chat tools' outgoing webhooks; each at least 16 characters. */
const tokenList = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v.split(',').map((t) => t.trim()).filter(Boolean)))
    .refine((l) => l === undefined || (l.length > 0 && l.every((t) => t.length >= 16)), 'each token must be at least 16 characters (comma-separated)');

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Every setting Blend reads, in one place. Names are the operator contract:
 * the README documents each one.
 */
/** The queues a worker process can take (BLEND_WORKER_QUEUES); the names are the BullMQ queues'. */
export const WORKER_QUEUES = ['ingest', 'ingest-backlog', 'send', 'webhook', 'digest', 'notify'] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

export const ConfigSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://blend@127.0.0.1:5432/blend'),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  BLEND_IMAP_URL: url(['imap:', 'imaps:'], 'imap://bridge%40example.test:secret@127.0.0.1:143/INBOX'),
  BLEND_SMTP_URL: url(['smtp:', 'smtps:'], 'smtp://127.0.0.1:2525'),
  /**
   * How the poller logs in to BLEND_IMAP_URL: the password in the URL, or an OAuth 2.0 access
   * token (SASL XOAUTH2/OAUTHBEARER) from the BLEND_OAUTH_* settings. @defaultValue password
   */
  BLEND_IMAP_AUTH: z.enum(['password', 'oauth2'], { error: 'must be password or oauth2' }).default('password'),
  /**
   * How mail is submitted to BLEND_SMTP_URL: the URL's user and password, an OAuth 2.0 token, or
   * no login. Unset: `password` when the URL names a user, else `none`.
   */
  BLEND_SMTP_AUTH: z.enum(['password', 'oauth2', 'none'], { error: 'must be password, oauth2 or none' }).optional(),
  /** OAuth 2.0 token endpoint (e.g. https://login.microsoftonline.com/TENANT/oauth2/v2.0/token). */
  BLEND_OAUTH_TOKEN_URL: z.string().url('must be the token endpoint URL (https://…)').optional(),
  BLEND_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  BLEND_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  /** Scope asked for (e.g. https://outlook.office365.com/.default or https://mail.google.com/). */
  BLEND_OAUTH_SCOPE: z.string().min(1).optional(),
  /** A stored refresh token: selects the refresh-token flow (Google Workspace and others). */
  BLEND_OAUTH_REFRESH_TOKEN: z.string().min(1).optional(),
  /** PEM file with the private key and certificate of a certificate credential, instead of a client secret. */
  BLEND_OAUTH_CLIENT_CERTIFICATE_FILE: z.string().min(1).optional(),
  /** Google service-account JSON key: the JWT grant, impersonating the mailbox's user. */
  BLEND_OAUTH_SERVICE_ACCOUNT_FILE: z.string().min(1).optional(),
  /**
   * `domain`: Blend has a catch-all domain of its own (BLEND_MAIL_DOMAIN). `plus`: one ordinary
   * mailbox (BLEND_MAIL_ADDRESS) whose sub-addresses are Blend's addresses. @defaultValue domain
   */
  BLEND_ADDRESSING: z.enum(['domain', 'plus'], { error: 'must be domain or plus' }).default('domain'),
  /** The bridge's own domain (`status@`, `reply+TOKEN@`, groups); required when BLEND_ADDRESSING=domain. */
  BLEND_MAIL_DOMAIN: domain.optional(),
  /** The one mailbox of BLEND_ADDRESSING=plus, e.g. bridge@example.com (`bridge+status@example.com`…). */
  BLEND_MAIL_ADDRESS: z
    .string()
    .trim()
    .toLowerCase()
    .superRefine((v, ctx) => {
      const at = v.lastIndexOf('@');
      if (at <= 0 || !domain.safeParse(v.slice(at + 1)).success) {
        ctx.addIssue({ code: 'custom', message: 'must be a mail address such as bridge@example.com' });
        return;
      }
      const problem = mailboxProblem(v.slice(0, at));
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  BLEND_SECRET: z
    .string({ error: 'is required: a random key of at least 32 characters (e.g. `openssl rand -hex 32`)' })
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')
    .superRefine((v, ctx) => {
      const problem = publishedSecretProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** The key before the last `blend keys rotate`: still accepted for tokens and links it signed. */
  BLEND_SECRET_PREVIOUS: z.string().min(32, 'must be at least 32 characters').optional(),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65535).default(3000),
  /** Address the API listens on. @defaultValue 127.0.0.1 */
  HOST: z.string().default('127.0.0.1'),
  /** Memory for the API's feed cache (JSON feed pages shared by all readers, forgotten on every change); 0 switches it off. @defaultValue 64 */
  BLEND_FEED_CACHE_MB: z.coerce.number().int().min(0).max(4096).default(64),
  /** Open live-update connections (`GET /api/v1/stream`) one API process holds at most; more are refused with 429. @defaultValue 1000 */
  BLEND_STREAM_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100000).default(1000),
  /** API requests per minute of one person (by credential) or, unauthenticated, one client address; 0 switches it off. @defaultValue 600 */
  BLEND_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  /** Sign-ins, signed-link pages and failed authentications per minute of one client address; 0 switches it off. @defaultValue 10 */
  BLEND_RATE_LIMIT_LOGIN_PER_MINUTE: z.coerce.number().int().min(0).default(10),
  /** Public base URL used in links in mails and CLI output. @defaultValue http://127.0.0.1:PORT */
  BLEND_PUBLIC_URL: z.string().url().optional(),
  /** Whose X-Forwarded-* headers the API believes (Fastify trustProxy): false, true, a hop count or addresses/CIDRs. @defaultValue false */
  BLEND_TRUST_PROXY: trustProxySetting,
  /** Single sign-on for the web UI: the IdP's issuer URL (OpenID Connect discovery at ISSUER/.well-known/openid-configuration). Unset: token sign-in only. */
  BLEND_OIDC_ISSUER: z.string().url('must be the issuer URL, e.g. https://login.microsoftonline.com/TENANT/v2.0').optional(),
  /** Blend's client id at the IdP. */
  BLEND_OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** Blend's client secret at the IdP (unset: a public client, PKCE only). */
  BLEND_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** A person the IdP vouches for but Blend does not know yet is created at first sign-in (organisation domains only). @defaultValue false */
  BLEND_OIDC_CREATE_PEOPLE: bool.default(false),
  /** Prefix of BullMQ keys in Redis, so several installations can share one Redis. */
  BLEND_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1-40 letters, digits, _ or -').default('blend'),
  /** Apply pending migrations when a service starts (else refuse to start while any are pending). */
  BLEND_MIGRATE_ON_START: bool.default(true),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /**
   * The queues this worker process takes, comma-separated among `ingest`, `ingest-backlog`,
   * `send`, `webhook`, `digest` and `notify` (unset: all). A process that takes only `ingest`
   * serves live mail with an event loop, parse threads and connections that no catch-up shares.
   */
  BLEND_WORKER_QUEUES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((q) => q.trim()).filter(Boolean))
    .refine((list) => list.every((q) => (WORKER_QUEUES as readonly string[]).includes(q)), `must be a comma-separated list of ${WORKER_QUEUES.join(', ')}`)
    .transform((list) => (list.length === 0 ? [...WORKER_QUEUES] : [...new Set(list)]) as WorkerQueue[]),
  /**
   * The nice value (0–19) a worker process gives itself at start (`os.setPriority`), its parse
   * threads included: e.g. 10 for a process that takes the backlog but not live mail, so the
   * live mail's process gets the cores first. @defaultValue 0
   */
  BLEND_WORKER_NICE: z.coerce.number().int().min(0).max(19).default(0),
  /**
   * Bytes of raw mail one worker process ingests at once (parsing takes several times a
   * message's size in memory). A message larger than this waits until it can run alone.
   */
  BLEND_INGEST_MEMORY_BYTES: z.coerce.number().int().min(1024 * 1024).default(16 * 1024 * 1024),
  /**
   * Most milliseconds parsing and converting one mail may take in its worker thread; past it the
   * thread is stopped and the mail ends `failed: parse_timeout` (docs/SECURITY.md F9).
   */
  BLEND_PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /**
   * Parse threads per worker process (1–64; each holds about 40 MiB of heap of its own).
   * Unset: one fewer than the cores, at least one (`os.availableParallelism()` − 1).
   */
  BLEND_PARSE_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  /** Send jobs at once per worker process (they share a pool of 5 SMTP connections). */
  BLEND_SEND_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /**
   * Outbox rows per send job for mail written in bulk (digests, the notification sweep): one
   * claim and grouped `sent` writes per job instead of two commits per mail; 1 queues a job per mail.
   */
  BLEND_SEND_BATCH: z.coerce.number().int().min(1).max(500).default(20),
  /** SMTP sessions a worker process keeps open at once; its send jobs share them. */
  BLEND_SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
  /** Mails one SMTP session carries before it is closed and a new one opened. */
  BLEND_SMTP_MAX_MESSAGES: z.coerce.number().int().min(1).max(100_000).default(100),
  /** DKIM selector of Blend's outgoing mail: the key is published at `SELECTOR._domainkey.DOMAIN`. Unset: mail is not signed. */
  BLEND_DKIM_SELECTOR: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(?=.{1,63}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/, 'must be a DNS label such as blend2026 (letters, digits, hyphens; dots between labels)')
    .optional(),
  /** The DKIM signing key (PEM, RSA); `\n` escapes allowed for one-line env files. Secret: never logged or shown. */
  BLEND_DKIM_PRIVATE_KEY: z
    .string()
    .superRefine((v, ctx) => {
      const problem = dkimKeyProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform(dkimKeyText)
    .optional(),
  /** The d= domain of the DKIM signature. @defaultValue Blend's mail domain (BLEND_MAIL_DOMAIN, or that of BLEND_MAIL_ADDRESS) */
  BLEND_DKIM_DOMAIN: domain.optional(),
  /** Periodic sync in case IDLE misses a change. @defaultValue 30000 */
  BLEND_POLL_INTERVAL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Re-issue IDLE this often; NAT and firewalls drop idle TCP flows after a few minutes. @defaultValue 120000 */
  BLEND_IDLE_RESTART_MS: z.coerce.number().int().min(10_000).max(29 * 60_000).default(120_000),
  /** Messages larger than this (RFC822.SIZE) are not downloaded and end `rejected: too_large`. */
  BLEND_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
  /** Messages fetched and stored per transaction. @defaultValue 50 */
  BLEND_IMAP_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  /** Most bytes (RFC822.SIZE) fetched and stored per IMAP batch; a larger single mail goes alone. @defaultValue 32 MiB */
  BLEND_IMAP_BATCH_BYTES: z.coerce.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(32 * 1024 * 1024),
  /** Flag set on IMAP messages once their ingest has committed. */
  BLEND_IMAP_DONE_FLAG: z.string().regex(/^\$?[A-Za-z0-9_-]{1,40}$/).default('$BlendDone'),
  /**
   * What happens to an IMAP message once its ingest has committed, for BLEND_IMAP_URL and
   * for watched mailboxes without their own setting: `flag`, `move:FOLDER` or `delete`.
   * @defaultValue flag
   */
  BLEND_IMAP_AFTER: z
    .string()
    .default('flag')
    .superRefine((v, ctx) => {
      try {
        parseAfterAction(v);
      } catch (err) {
        if (!(err instanceof AfterActionError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    }),
  /** How often pollers re-read the watched mailboxes (`blend mailbox add|set|remove`). @defaultValue 5000 */
  BLEND_MAILBOX_REFRESH_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  BLEND_DEFAULT_GROUP: z
    .string()
    .superRefine((v, ctx) => {
      const problem = groupSlugProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('general'),
  /** Language of mail and pages for people who have not chosen one (the web also follows the browser's Accept-Language). */
  BLEND_DEFAULT_LANGUAGE: z.enum(LANGUAGES, { error: `must be one of ${LANGUAGES.join(', ')}` }).default('en'),
  /**
   * How senders are authenticated: verify DKIM/SPF/DMARC, trust an internal MTA, verify plus
   * Exchange Online's record of colleagues' submissions (mailbox in Exchange Online only), or
   * none (trials only).
   */
  BLEND_SENDER_AUTH: z
    .enum(['verify', 'trusted-mta', 'exchange-online', 'none'], { error: 'must be verify, trusted-mta, exchange-online or none' })
    .default('verify'),
  /** The authserv-id of the internal MTA whose Authentication-Results are trusted (trusted-mta). */
  BLEND_AUTHSERV_ID: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a host name such as mx.example.com').optional(),
  /**
   * The organisation's own MTAs as they appear in the `by` clause of the `Received` headers they
   * add (`mx.example.com`, `*.prod.outlook.com`), comma-separated. In trusted-mta only an
   * Authentication-Results added above the hop where mail entered the organisation is believed.
   */
  BLEND_TRUSTED_RECEIVED_BY: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase().replace(/\.$/, '')).filter(Boolean))
    .superRefine((list, ctx) => {
      for (const h of list) {
        const problem = receivedByPatternProblem(h);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (comma-separated host names, *. wildcards allowed)` });
      }
    }),
  /** The organisation's mail domains; only they may post. Comma-separated. */
  BLEND_ORG_DOMAINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean))
    .refine((list) => list.every((d) => /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(d)), 'must be a comma-separated list of domain names'),
  /** Subject words that mark mail as confidential (held, never published). Comma-separated. */
  BLEND_CONFIDENTIAL_MARKERS: z.string().optional(),
  /** Redactions applied before a post is written, e.g. `card,iban,phone,regex:/PROJ-\d+/`. */
  BLEND_REDACT: z.string().default('card,iban'),
  /** Extra legal footers to cut from mail, as `regex:/…/flags` entries (same syntax and safety checks as BLEND_REDACT). */
  BLEND_DISCLAIMER_PATTERNS: z.string().optional(),
  /** Days a withheld message is kept and released if its author opts in. @defaultValue 14 */
  BLEND_WITHHELD_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  /**
   * How long a reply that names only messages Blend has not seen waits for its parent before it
   * starts a post; 0: no wait, the parent adopts it when it comes (docs/ARCHITECTURE.md "Threads and merges").
   */
  BLEND_ORPHAN_REPLY_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_ORPHAN_REPLY_GRACE_MS),
  /** Rate limits (0 switches one off): accepted mails per sender per minute and hour, per thread and per organisation per minute. */
  BLEND_RATE_SENDER_PER_MINUTE: z.coerce.number().int().min(0).default(10),
  BLEND_RATE_SENDER_PER_HOUR: z.coerce.number().int().min(0).default(60),
  BLEND_RATE_THREAD_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  BLEND_RATE_ORG_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  /** BullMQ job lock: a job of a worker that died is retried after about this long. @defaultValue 30000 */
  BLEND_JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** A token Prometheus must send (`Authorization: Bearer …`) to read the API's /metrics; unset: /metrics is open (bind the API to a private address). */
  BLEND_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Slack app's signing secret: Slack's Events API requests to /api/v1/integrations/slack/events are verified with it. Unset: that endpoint is off. */
  BLEND_SLACK_SIGNING_SECRET: z.string().min(16, 'must be the Slack app\'s signing secret (Basic Information → App Credentials)').optional(),
  /** Tokens of Mattermost outgoing webhooks allowed at /api/v1/integrations/mattermost, comma-separated. Unset: that endpoint is off. */
  BLEND_MATTERMOST_TOKEN: tokenList(),
  /** Tokens of Rocket.Chat outgoing webhooks allowed at /api/v1/integrations/rocketchat, comma-separated. Unset: that endpoint is off. */
  BLEND_ROCKETCHAT_TOKEN: tokenList(),
  /** HMAC key of the generic POST /api/v1/inbound/comments (X-Blend-Signature). Unset: that endpoint is off. */
  BLEND_INBOUND_SECRET: z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').optional(),
  /** Webhook receivers on loopback, private or link-local addresses are allowed (local receivers, tests). @defaultValue false */
  BLEND_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** Who may create groups from the web UI and API: `admins` (the default) or `everyone` opted in. */
  BLEND_GROUP_CREATION: z.enum(['admins', 'everyone']).default('admins'),
  /** First webhook retry waits this long, then doubling (8 attempts). @defaultValue 30000 */
  BLEND_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(100).default(30_000),
  /** How often the reconciler re-queues unfinished rows (and how old they must be: a third of it, at least 5 s). */
  BLEND_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).default(30_000),
  /**
   * Address the worker's and poller's health servers listen on; set it (e.g. to the pod's address)
   * for Prometheus or Kubernetes probes from elsewhere. @defaultValue 127.0.0.1
   */
  BLEND_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the worker's /healthz, /readyz and /metrics (0: off). @defaultValue 3001 */
  BLEND_WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** Port of the poller's /healthz, /readyz and /metrics (0: off). @defaultValue 3002 */
  BLEND_POLLER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  /** Largest attachment stored; larger ones are listed on the post without content. */
  BLEND_ATTACHMENT_MAX_BYTES: z.coerce.number().int().min(0).default(10 * 1024 * 1024),
  /** ClamAV's clamd, which scans every file before it is stored: `tcp://127.0.0.1:3310` or `unix:/run/clamav/clamd.ctl`. Unset: no scanning. */
  BLEND_CLAMD_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^(?:tcp:\/\/[^/\s]+:\d+\/?|unix:\/\S+)$/.test(v), 'must be tcp://HOST:PORT or unix:/path/to/clamd.socket'),
  /** Media types of files stored (comma-separated, `type/*` allowed); unset: a safe default list. Others are only listed. */
  BLEND_ATTACHMENT_TYPES: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean)))
    .refine((list) => list === undefined || list.every((t) => /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/.test(t)), 'must be a comma-separated list of media types such as application/pdf or image/*'),
  /** Most attachment bytes stored per mail. */
  BLEND_ATTACHMENTS_MAX_TOTAL_BYTES: z.coerce.number().int().min(0).default(25 * 1024 * 1024),
  /** Notifications about one thread within this window go out as one mail. */
  BLEND_NOTIFY_COALESCE_MS: z.coerce.number().int().min(0).max(86_400_000).default(DEFAULT_NOTIFY_COALESCE_MS),
  /** Edits of a mirrored comment within this window cause one correction mail. */
  BLEND_CORRECTION_WINDOW_MS: z.coerce.number().int().min(0).max(86_400_000).default(DEFAULT_CORRECTION_WINDOW_MS),
  /** How often due digests are looked for (a BullMQ job scheduler: one run per interval across all workers). */
  BLEND_DIGEST_TICK_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** How often due notifications, mirrored comments and corrections are written as mail. */
  BLEND_NOTIFY_SWEEP_MS: z.coerce.number().int().min(100).max(600_000).default(1_000),
  /** How long the Undo and Fix links of a publish receipt work. */
  BLEND_UNDO_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  /** Receipts go to people who have not chosen otherwise for their first this-many published mails. */
  BLEND_RECEIPTS_FIRST: z.coerce.number().int().min(0).max(1000).default(5),
  /** Raw inbound mail is purged this many days after it was processed (the row and its state stay). */
  BLEND_RAW_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** Sent or cancelled outbound rows are deleted after this many days. */
  BLEND_OUTBOUND_RETENTION_DAYS: z.coerce.number().int().min(1).default(90),
  /** Events (the outbox) and delivered or failed webhook deliveries are deleted after this many days; replay and the pull API reach no further back. */
  BLEND_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Cross-field rules zod cannot express per field. */
function checkCombinations(c: Config): { variable: string; message: string }[] {
  const issues: { variable: string; message: string }[] = [...addressingProblems(c)];
  if (c.BLEND_SENDER_AUTH === 'trusted-mta' && !c.BLEND_AUTHSERV_ID) {
    issues.push({ variable: 'BLEND_AUTHSERV_ID', message: 'is required when BLEND_SENDER_AUTH=trusted-mta (the authserv-id your MTA writes)' });
  }
  issues.push(...authProblems(c));
  issues.push(...oidcProblems(c));
  const chat = (['BLEND_SLACK_SIGNING_SECRET', 'BLEND_MATTERMOST_TOKEN', 'BLEND_ROCKETCHAT_TOKEN'] as const).find((k) => c[k]);
  if (chat && !c.BLEND_PUBLIC_URL) {
    // docs/ARCHITECTURE.md "Chat tools": a reply's thread is found by the links to BLEND_PUBLIC_URL in Blend's own messages.
    issues.push({ variable: 'BLEND_PUBLIC_URL', message: `is required with ${chat}: Blend knows which thread a chat reply answers by the links to BLEND_PUBLIC_URL in its own messages` });
  }
  if (Boolean(c.BLEND_DKIM_SELECTOR) !== Boolean(c.BLEND_DKIM_PRIVATE_KEY)) {
    const missing = c.BLEND_DKIM_SELECTOR ? 'BLEND_DKIM_PRIVATE_KEY' : 'BLEND_DKIM_SELECTOR';
    issues.push({ variable: missing, message: 'is required to sign outgoing mail with DKIM: set BLEND_DKIM_SELECTOR and BLEND_DKIM_PRIVATE_KEY (or _FILE) together, or neither' });
  }
  const problem = afterActionProblem(parseAfterAction(c.BLEND_IMAP_AFTER), parseImapUrl(c.BLEND_IMAP_URL).folder);
  if (problem) issues.push({ variable: 'BLEND_IMAP_AFTER', message: `${problem} (BLEND_IMAP_URL)` });
  return issues;
}

/**
 * The login settings agree with the URLs: an OAuth mailbox URL names its user but carries no
 * password (a password there would be a secret nobody uses), and OAuth needs a way to get a token.
 */
function authProblems(c: Config): { variable: string; message: string }[] {
  const issues: { variable: string; message: string }[] = [];
  const imap = new URL(c.BLEND_IMAP_URL);
  const smtp = new URL(c.BLEND_SMTP_URL);
  const smtpAuth = smtpAuthOf(c);
  if (c.BLEND_IMAP_AUTH === 'oauth2') {
    if (!imap.username) issues.push({ variable: 'BLEND_IMAP_URL', message: 'must name the mailbox user when BLEND_IMAP_AUTH=oauth2 (imap://bridge%40example.com@host:993/INBOX)' });
    if (imap.password) issues.push({ variable: 'BLEND_IMAP_URL', message: 'must not carry a password when BLEND_IMAP_AUTH=oauth2' });
  }
  if (smtpAuth === 'oauth2') {
    if (!smtp.username) issues.push({ variable: 'BLEND_SMTP_URL', message: 'must name the sending user when BLEND_SMTP_AUTH=oauth2 (smtp://bridge%40example.com@host:587)' });
    if (smtp.password) issues.push({ variable: 'BLEND_SMTP_URL', message: 'must not carry a password when BLEND_SMTP_AUTH=oauth2' });
  }
  if (smtpAuth === 'password' && !smtp.username) {
    issues.push({ variable: 'BLEND_SMTP_URL', message: 'must carry a user and password when BLEND_SMTP_AUTH=password (smtp://user:pass@host:587)' });
  }
  if (c.BLEND_IMAP_AUTH === 'oauth2' || smtpAuth === 'oauth2') {
    const viaFile = Boolean(c.BLEND_OAUTH_SERVICE_ACCOUNT_FILE);
    if (!viaFile && !c.BLEND_OAUTH_TOKEN_URL) issues.push({ variable: 'BLEND_OAUTH_TOKEN_URL', message: 'is required for OAuth 2.0 logins (BLEND_IMAP_AUTH / BLEND_SMTP_AUTH=oauth2)' });
    if (!viaFile && !c.BLEND_OAUTH_CLIENT_ID) issues.push({ variable: 'BLEND_OAUTH_CLIENT_ID', message: 'is required for OAuth 2.0 logins (BLEND_IMAP_AUTH / BLEND_SMTP_AUTH=oauth2)' });
    if (!viaFile && !c.BLEND_OAUTH_REFRESH_TOKEN && !c.BLEND_OAUTH_SCOPE) {
      issues.push({ variable: 'BLEND_OAUTH_SCOPE', message: 'is required for the client-credentials flow (Microsoft 365: https://outlook.office365.com/.default)' });
    }
    if (c.BLEND_OAUTH_TOKEN_URL && !tokenUrlSafe(c.BLEND_OAUTH_TOKEN_URL)) {
      issues.push({ variable: 'BLEND_OAUTH_TOKEN_URL', message: 'must be an https:// URL (it receives the client credentials; plain http only on 127.0.0.1 or localhost)' });
    }
    if (!viaFile && !c.BLEND_OAUTH_REFRESH_TOKEN && !c.BLEND_OAUTH_CLIENT_SECRET && !c.BLEND_OAUTH_CLIENT_CERTIFICATE_FILE) {
      issues.push({
        variable: 'BLEND_OAUTH_CLIENT_SECRET',
        message: 'is required for the client-credentials flow (or set BLEND_OAUTH_CLIENT_CERTIFICATE_FILE, BLEND_OAUTH_REFRESH_TOKEN or BLEND_OAUTH_SERVICE_ACCOUNT_FILE)',
      });
    }
  }
  return issues;
}

/** Single sign-on needs an issuer and a client id together, over TLS (docs/SECURITY.md S3). */
function oidcProblems(c: Config): { variable: string; message: string }[] {
  if (!c.BLEND_OIDC_ISSUER) {
    const stray = (['BLEND_OIDC_CLIENT_ID', 'BLEND_OIDC_CLIENT_SECRET'] as const).find((k) => c[k]);
    return stray ? [{ variable: 'BLEND_OIDC_ISSUER', message: `is required when ${stray} is set (or remove ${stray})` }] : [];
  }
  const issues: { variable: string; message: string }[] = [];
  if (!c.BLEND_OIDC_CLIENT_ID) issues.push({ variable: 'BLEND_OIDC_CLIENT_ID', message: 'is required when BLEND_OIDC_ISSUER is set (the client id Blend was registered with at the IdP)' });
  if (!tokenUrlSafe(c.BLEND_OIDC_ISSUER)) issues.push({ variable: 'BLEND_OIDC_ISSUER', message: 'must be an https:// URL (http:// only on 127.0.0.1 or localhost, for tests)' });
  if (!c.BLEND_PUBLIC_URL) issues.push({ variable: 'BLEND_PUBLIC_URL', message: 'is required with BLEND_OIDC_ISSUER: the redirect URI registered at the IdP is BLEND_PUBLIC_URL/web/auth/callback' });
  return issues;
}

/** RFC 6749 section 3.2: the token endpoint is reached over TLS; plain http only on loopback (tests). */
function tokenUrlSafe(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname));
}

/** BLEND_SMTP_AUTH, or what the URL implies when it is unset (a user: password; none: no login). */
export function smtpAuthOf(c: Pick<Config, 'BLEND_SMTP_AUTH' | 'BLEND_SMTP_URL'>): 'password' | 'oauth2' | 'none' {
  return c.BLEND_SMTP_AUTH ?? (new URL(c.BLEND_SMTP_URL).username ? 'password' : 'none');
}

/** Raised when the environment does not hold a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}\n` +
        'See README.md, "Configuration".',
    );
    this.name = 'ConfigError';
  }
}

/**
 * Parse and validate the configuration once, at start.
 * @throws ConfigError naming every missing or malformed variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  let config: Config;
  try {
    config = parseWith(ConfigSchema, env);
  } catch (err) {
    // checkCombinations needs a parsed config: still name a missing BLEND_MAIL_DOMAIN or
    // BLEND_MAIL_ADDRESS, so that one run lists every variable to fix.
    if (!(err instanceof ConfigError)) throw err;
    const named = new Set(err.issues.map((i) => i.variable));
    throw new ConfigError([...err.issues, ...addressingProblems(env).filter((i) => !named.has(i.variable))]);
  }
  const issues = checkCombinations(config);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/**
 * Load only some settings, for tools that need less than a service (`pnpm db:migrate`
 * needs only DATABASE_URL). Same schema, same messages.
 */
export function loadConfigSubset<K extends keyof Config>(keys: K[], env: Record<string, string | undefined> = process.env): Pick<Config, K> {
  const mask = Object.fromEntries(keys.map((k) => [k, true])) as Record<keyof Config, true>;
  return parseWith(ConfigSchema.pick(mask), env) as unknown as Pick<Config, K>;
}

function parseWith<T extends z.ZodObject>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  // `NAME_FILE` of a secret the schema reads (only those: a tool that needs DATABASE_URL does
  // not fail on an unreadable key file it never uses).
  const files = resolveFileSettings(env, FILE_SETTINGS.filter((n) => n in schema.shape));
  const present = Object.fromEntries(Object.entries(files.env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  // A file that could not be read is the one issue of its setting (not also "is required").
  const failed = new Set(files.issues.map((i) => i.variable.replace(/_FILE$/, '')));
  const issues = [
    ...files.issues,
    ...(result.success ? [] : result.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(config)'), message: i.message }))).filter((i) => !failed.has(i.variable)),
  ];
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return result.data;
}

/** The public base URL, defaulting to the local API address. */
export function publicUrl(config: Pick<Config, 'BLEND_PUBLIC_URL' | 'PORT'>): string {
  return (config.BLEND_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`).replace(/\/$/, '');
}

/** Settings whose values are secrets: never printed, logged or put in an error message. */
const SECRET_SETTINGS = new Set(['BLEND_SECRET', 'BLEND_SECRET_PREVIOUS', 'BLEND_OAUTH_CLIENT_SECRET', 'BLEND_OAUTH_REFRESH_TOKEN', 'BLEND_METRICS_TOKEN', 'BLEND_OIDC_CLIENT_SECRET', 'BLEND_DKIM_PRIVATE_KEY', 'BLEND_SLACK_SIGNING_SECRET', 'BLEND_MATTERMOST_TOKEN', 'BLEND_ROCKETCHAT_TOKEN', 'BLEND_INBOUND_SECRET']);

/** Configuration as text with every secret masked, for logs and `blend config show`. */
export function maskConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (SECRET_SETTINGS.has(k)) out[k] = v === undefined ? v : '********';
    else if (typeof v === 'string' && /^[a-z]+s?:\/\//i.test(v)) out[k] = maskUrl(v);
    else out[k] = v;
  }
  return out;
}

function maskUrl(v: string): string {
  try {
    const u = new URL(v);
    if (u.password) u.password = '********';
    return u.toString();
  } catch {
    return v;
  }
}

type AddressingSettings = { BLEND_ADDRESSING?: string; BLEND_MAIL_ADDRESS?: string; BLEND_MAIL_DOMAIN?: string };

/**
 * Which of BLEND_MAIL_DOMAIN and BLEND_MAIL_ADDRESS BLEND_ADDRESSING needs. Works on the
 * parsed configuration and on the raw environment alike (unset and empty are the same).
 */
function addressingProblems(c: AddressingSettings): { variable: string; message: string }[] {
  const mode = c.BLEND_ADDRESSING || 'domain';
  if (mode === 'domain' && !c.BLEND_MAIL_DOMAIN) {
    return [{ variable: 'BLEND_MAIL_DOMAIN', message: 'is required when BLEND_ADDRESSING=domain (for example blend.example.com; or set BLEND_ADDRESSING=plus and BLEND_MAIL_ADDRESS to use one mailbox)' }];
  }
  if (mode !== 'plus') return [];
  if (!c.BLEND_MAIL_ADDRESS) return [{ variable: 'BLEND_MAIL_ADDRESS', message: 'is required when BLEND_ADDRESSING=plus (the one mailbox, for example bridge@example.com)' }];
  const at = c.BLEND_MAIL_ADDRESS.lastIndexOf('@');
  const addressDomain = c.BLEND_MAIL_ADDRESS.slice(at + 1).trim().toLowerCase();
  if (at > 0 && c.BLEND_MAIL_DOMAIN && c.BLEND_MAIL_DOMAIN.trim().toLowerCase() !== addressDomain) {
    return [{ variable: 'BLEND_MAIL_DOMAIN', message: `is not used when BLEND_ADDRESSING=plus (Blend's domain is that of BLEND_MAIL_ADDRESS, ${addressDomain}); remove it` }];
  }
  return [];
}

/**
 * Blend's addresses from BLEND_ADDRESSING with BLEND_MAIL_DOMAIN or BLEND_MAIL_ADDRESS, for
 * everything that builds or recognises them (the worker, the API, the CLI).
 * @throws ConfigError when the variable the mode needs is missing (a subset loaded with
 *   {@link loadConfigSubset} has not been through those checks).
 */
export function addressingFrom(c: Pick<Config, 'BLEND_ADDRESSING' | 'BLEND_MAIL_ADDRESS' | 'BLEND_MAIL_DOMAIN'>): Addressing {
  const problems = addressingProblems(c);
  if (problems.length > 0) throw new ConfigError(problems);
  if (c.BLEND_ADDRESSING === 'domain') return { mode: 'domain', domain: c.BLEND_MAIL_DOMAIN! };
  const address = c.BLEND_MAIL_ADDRESS!;
  const at = address.lastIndexOf('@');
  return { mode: 'plus', mailbox: address.slice(0, at), domain: address.slice(at + 1) };
}
