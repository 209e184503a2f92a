export * from './config';
export * from './conversion';
export * from './imap-after';
export * from './oauth-settings';
export * from './secret-files';
export * from './dkim-key';
export * from './dkim-settings';
export * from './secret-strength';
