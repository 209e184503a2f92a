// .env.example is what scripts/env-example.ts writes: every setting of ConfigSchema and nothing else,
// with README.md's description (README.md, "Deploying"); regenerate it with
// `pnpm tsx scripts/env-example.ts > .env.example` after adding or describing a setting.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, FILE_SETTINGS } from '@blend/config';
import { envExample } from '../scripts/env-example';

const root = path.resolve(import.meta.dirname, '..');
const text = readFileSync(path.join(root, '.env.example'), 'utf8');
/** `NAME=…` and `# NAME=…` lines. */
const listed = [...text.matchAll(/^(?:#\s*)?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

describe('.env.example', () => {
  it('lists exactly the settings of ConfigSchema, each once', () => {
    expect([...listed].sort()).toEqual(Object.keys(ConfigSchema.shape).sort());
  });

  it('is what the generator writes: each description and default as README.md and the schema give them today', () => {
    expect(text).toBe(envExample());
  });

  it('leaves every secret empty or a placeholder to replace', () => {
    for (const name of FILE_SETTINGS) {
      const line = text.match(new RegExp(`^(?:#\\s*)?${name}=(.*)$`, 'm'));
      expect(line, name).not.toBeNull();
      const value = line![1]!;
      // Connection URLs carry a PASSWORD placeholder; keys and tokens are empty.
      expect(value === '' || value.includes('PASSWORD') || !/:[^/@]+@/.test(value), `${name}=${value}`).toBe(true);
    }
    expect(text).toMatch(/^BLEND_SECRET=$/m);
  });
});
