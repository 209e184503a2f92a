export * from './groups';
export * from './inbound';
export * from './people';
export * from './posts';
export * from './outbound';
export * from './audit';
export * from './esn';
export * from './mailboxes';
