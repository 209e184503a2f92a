/**
 * The OAuth 2.0 client settings (BLEND_OAUTH_*) with the contents of their credential files:
 * read by `@blend/config`, turned into a grant and tokens by `@blend/mail`. One set serves IMAP
 * and SMTP: Microsoft's `https://outlook.office365.com/.default` and Google's
 * `https://mail.google.com/` scopes cover both.
 */
export interface OAuthSettings {
  tokenUrl?: string;
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  refreshToken?: string;
  /** Content of BLEND_OAUTH_CLIENT_CERTIFICATE_FILE: private key and certificate (PEM). */
  clientCertificatePem?: string;
  /** Content of BLEND_OAUTH_SERVICE_ACCOUNT_FILE: a Google service-account key (JSON). */
  serviceAccountJson?: string;
}
