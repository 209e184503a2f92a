export * from './config';
export * from './logger';
export * from './run-service';
export * from './metrics';
export * from './health-server';
export * from './imap-after';
export * from './oauth-settings';
