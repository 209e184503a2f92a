export * from './parse';
export * from './imap-url';
