// deploy/prometheus/blend-alerts.yml and deploy/grafana/blend-dashboard.json ask only for
// metrics Blend really registers (README.md, "Observability"), and the rules pass promtool's
// own checks and unit tests where promtool is installed (Debian's `prometheus` package).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '@blend/runtime';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rulesFile = path.join(root, 'deploy/prometheus/blend-alerts.yml');
const dashboardFile = path.join(root, 'deploy/grafana/blend-dashboard.json');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (n === 'node_modules') return [];
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(n) && !/\.test\.ts$/.test(n) ? [p] : [];
  });
}

/**
 * Every metric name Blend registers: the process registry as it is built (with prom-client's
 * default metrics, prefixed), and the metrics created elsewhere with a literal name (the API's
 * scrape-time gauges and request durations).
 */
async function registeredNames(): Promise<Set<string>> {
  const names = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  for (const dir of ['packages', 'services']) {
    for (const file of sources(path.join(root, dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bname\s*[:=]\s*'(blend_[a-z0-9_]+)'/g)) names.add(m[1]!);
    }
  }
  return names;
}

/** Metric names a PromQL expression reads (label values and strings left out). */
export function metricNames(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  return [...new Set([...bare.matchAll(/\bblend_[a-z0-9_]+/g)].map((m) => m[0]))];
}

/** A histogram's or summary's series name back to the metric's. */
const metricOf = (series: string, known: Set<string>) => (known.has(series) ? series : series.replace(/_(bucket|sum|count)$/, ''));

type Rule = { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const rules: Rule[] = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr] as const));

function promtool(args: string[]): string | undefined {
  try {
    return execFileSync('promtool', args, { cwd: path.dirname(rulesFile), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('metricNames', () => {
  it.each([
    ['max(blend_a) > 1', ['blend_a']],
    ['sum by (q) (rate(blend_b_total{x="blend_not_a_metric"}[5m])) / blend_c', ['blend_b_total', 'blend_c']],
    ['histogram_quantile(0.9, sum by (le) (rate(blend_d_bucket[5m])))', ['blend_d_bucket']],
    ['up == 0', []],
  ])('%s', (expr, names) => expect(metricNames(expr)).toEqual(names));
});

describe('alert rules and dashboard', () => {
  it('cover held mail ageing, queue depth, mailbox logins, bounce rate and send failures', () => {
    const read = new Set(rules.flatMap((r) => metricNames(r.expr)));
    for (const m of ['blend_inbound_held_oldest_seconds', 'blend_queue_depth', 'blend_imap_auth_failures_total', 'blend_bounces_total', 'blend_outbound_messages_total']) {
      expect(read, m).toContain(m);
    }
    for (const r of rules) {
      expect(r.alert, r.expr).toMatch(/^Blend[A-Za-z]+$/);
      expect(r.labels?.severity, r.alert).toMatch(/^(warning|critical)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  it('read only metrics Blend registers', async () => {
    const known = await registeredNames();
    // Sanity: the registry and the sources were read.
    expect(known).toContain('blend_process_resident_memory_bytes');
    expect(known).toContain('blend_http_request_duration_seconds');
    expect(known).toContain('blend_queue_depth');
    for (const [where, expr] of [...rules.map((r) => [`rule ${r.alert}`, r.expr] as const), ...panelExprs.map(([t, e]) => [`panel ${t}`, e] as const)]) {
      const names = metricNames(expr);
      expect(names.length, `${where} reads no Blend metric`).toBeGreaterThan(0);
      for (const n of names) expect(known.has(metricOf(n, known)), `${where}: ${n} is not registered by Blend`).toBe(true);
    }
  });

  it('would notice a metric that does not exist', async () => {
    const known = await registeredNames();
    expect(known.has(metricOf('blend_inbound_held_oldest', known))).toBe(false);
    expect(known.has(metricOf('blend_process_process_cpu_seconds_total', known))).toBe(false);
  });

  it('has panels with unique ids, each asking something', () => {
    const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.targets.length, p.title).toBeGreaterThan(0);
  });

  const checked = promtool(['--version']);
  it.skipIf(checked === undefined)('pass promtool check rules and promtool test rules', () => {
    expect(promtool(['check', 'rules', 'blend-alerts.yml'])).toMatch(/SUCCESS: \d+ rules found/);
    expect(promtool(['test', 'rules', 'blend-alerts.test.yml'])).toMatch(/SUCCESS/);
  });
});
