/**
 * What Blend sends out beyond a single outbox row, shared by the services: the notifications a
 * post or comment causes, mail about threads (reply addresses, conversation and unsubscribe
 * headers), the digests, and where a webhook request may go (docs/ARCHITECTURE.md "Outbound
 * mail", docs/SECURITY.md on webhook targets).
 */
export * from './activity';
export * from './thread-mail';
export * from './digest';
export * from './webhook-target';
