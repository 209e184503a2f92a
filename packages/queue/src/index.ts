export * from './queues';
export * from './send-batch';
export * from './redis';
