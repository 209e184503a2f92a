export * from './parse';
export * from './attached-messages';
export * from './imap-url';
export * from './compose';
export * from './sender-auth';
export * from './templates';
export * from './oauth-login';
export * from './oauth2';
