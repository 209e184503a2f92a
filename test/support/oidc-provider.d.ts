// oidc-provider ships no type declarations; the test IdP uses a small part of it.
declare module 'oidc-provider' {
  import type { Server } from 'node:http';
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number, host: string, listening?: () => void): Server;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
