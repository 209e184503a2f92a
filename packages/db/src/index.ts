export * from './client';
export * from './migrate';
export * as schema from './schema';
export * from './queries/people';
export * from './queries/groups';
export * from './queries/inbound';
export * from './queries/threads';
export * from './queries/feed';
export * from './queries/posts';
