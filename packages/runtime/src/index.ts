export * from './logger';
export * from './run-service';
export * from './metrics';
export * from './health-server';
