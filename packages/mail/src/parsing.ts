// What the worker's parse threads load (`@blend/mail/parsing`): the parser and the reading of
// attached messages, without the IMAP, SMTP and template modules each thread would otherwise
// carry in its own heap (docs/ARCHITECTURE.md "Processes and the flow").
export * from './parse';
export * from './attached-messages';
