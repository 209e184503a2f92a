// The Kubernetes manifests of deploy/kustomize (README.md, "Kubernetes quick start"), checked
// against the Kubernetes API's own schemas (the OpenAPI definitions compiled into
// kubernetes-models; KEDA's CRD schema in @kubernetes-models/keda), strictly: a field the
// schema does not know (a typo such as `livenesProbe`) fails, as with `kubeconform -strict`.
// Every file is checked as written, and, where `kubectl` is installed, also as
// `kubectl kustomize` renders the base and the example overlay.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ConfigSchema, FILE_SETTINGS, loadConfig } from '@blend/config';
import { STOP_TIMEOUT_MS } from '@blend/runtime';
import { QueueName, createProducerRedis, createQueues, enqueueIngest, enqueueSend } from '@blend/queue';
import { randomBytes, randomUUID } from 'node:crypto';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kustomize = path.join(root, 'deploy/kustomize');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
type ValidationIssue = { instancePath: string; message?: string };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** The schema's complaints about `doc` ([] when valid). */
function schemaIssues(doc: unknown): ValidationIssue[] {
  const m = doc as Manifest;
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) return [{ instancePath: '', message: `no schema for ${m.apiVersion} ${m.kind}` }];
  try {
    new Model(doc).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: ValidationIssue[] }).errors;
    if (!errors) throw err;
    return errors;
  }
}

/**
 * Fields the schema does not know. The compiled schemas ignore unknown properties, so each
 * field is tried with a value no schema accepts (a BigInt, which is no JSON type): a known field then fails at its
 * own path, an unknown one passes unnoticed. Keys of maps (labels, ConfigMap data) are known
 * this way too, since the map's value type rejects it; free-form fields (KEDA's
 * trigger metadata) accept anything below them.
 */
function unknownFields(doc: unknown): string[] {
  const unknown: string[] = [];
  const visit = (node: unknown, at: string[]) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, [...at, String(i)]));
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const key of Object.keys(node)) {
      // apiVersion and kind choose the schema itself.
      if (at.length === 0 && (key === 'apiVersion' || key === 'kind')) continue;
      const probe = JSON.parse(JSON.stringify(doc));
      let parent = probe;
      for (const k of at) parent = parent[k];
      parent[key] = 1n;
      const pointer = '/' + [...at, key].map((k) => k.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
      if (!schemaIssues(probe).some((e) => e.instancePath === pointer)) unknown.push(pointer);
      else visit((node as Record<string, unknown>)[key], [...at, key]);
    }
  };
  visit(doc, []);
  return unknown;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(n) && n !== 'kustomization.yaml' ? [p] : [];
  });
}

function docs(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS() as Manifest;
    })
    .filter(Boolean);
}

const files = yamlFiles(kustomize);
const base: Manifest[] = yamlFiles(path.join(kustomize, 'base')).flatMap((f) => docs(readFileSync(f, 'utf8')));
const byKind = (kind: string, list = base) => list.filter((m) => m.kind === kind);
const deployments = byKind('Deployment');

function kubectlKustomize(dir: string): string | undefined {
  try {
    return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no kubectl here
    throw err;
  }
}

describe('schema checks themselves', () => {
  const ok = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } };
  it('accept a valid manifest', () => {
    expect(schemaIssues(ok)).toEqual([]);
    expect(unknownFields(ok)).toEqual([]);
  });
  it('refuse a wrong type and a missing required field', () => {
    expect(schemaIssues({ ...ok, spec: { ...ok.spec, replicas: 'two' } })).not.toEqual([]);
    expect(schemaIssues({ ...ok, spec: { template: ok.spec.template } })).not.toEqual([]);
  });
  it('find a misspelt field, at any depth', () => {
    const typo = JSON.parse(JSON.stringify(ok));
    typo.spec.template.spec.containers[0].livenesProbe = { httpGet: { path: '/healthz', port: 3000 } };
    expect(unknownFields(typo)).toEqual(['/spec/template/spec/containers/0/livenesProbe']);
  });
});

describe('deploy/kustomize', () => {
  it.each(files.map((f) => [path.relative(root, f)]))('%s matches the Kubernetes schemas, strictly', (rel) => {
    for (const doc of docs(readFileSync(path.join(root, rel), 'utf8'))) {
      expect(schemaIssues(doc), `${doc.kind} ${doc.metadata?.name}`).toEqual([]);
      expect(unknownFields(doc), `${doc.kind} ${doc.metadata?.name}`).toEqual([]);
    }
  });

  it('lists every file of a kustomization, and only files that exist', () => {
    for (const dir of ['base', 'components/keda', 'components/hpa', 'overlays/example']) {
      const k = docs(readFileSync(path.join(kustomize, dir, 'kustomization.yaml'), 'utf8'))[0] as unknown as Record<string, any>;
      const listed = [...(k.resources ?? []), ...(k.components ?? []), ...(k.patches ?? []).map((p: { path: string }) => p.path)];
      for (const p of listed) expect(() => statSync(path.join(kustomize, dir, p)), `${dir}: ${p}`).not.toThrow();
      const here = readdirSync(path.join(kustomize, dir)).filter((n) => n !== 'kustomization.yaml');
      for (const n of here) expect(listed, `${dir}/${n} is not used`).toContain(n);
    }
  });

  it('runs api, worker and poller from the one image, with probes on their health ports', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['blend-api', 'blend-poller', 'blend-worker']);
    const ports: Record<string, number> = {
      'blend-api': ConfigSchema.shape.PORT.parse(undefined) as number,
      'blend-worker': ConfigSchema.shape.BLEND_WORKER_HEALTH_PORT.parse(undefined) as number,
      'blend-poller': ConfigSchema.shape.BLEND_POLLER_HEALTH_PORT.parse(undefined) as number,
    };
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      expect(pod.containers).toHaveLength(1);
      expect(c.image).toBe('blend');
      const named = Object.fromEntries(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = c[probe]?.httpGet;
        expect(get, `${d.metadata.name} ${probe}`).toBeDefined();
        expect(named[get.port], `${d.metadata.name} ${probe} port`).toBe(ports[d.metadata.name]);
        expect(get.path).toBe(probe === 'readinessProbe' ? '/readyz' : '/healthz');
      }
      // Every pod (and the migration Job's) waits for the schema, from the same image.
      expect(pod.initContainers.map((i: { image: string }) => i.image)).toEqual(['blend']);
      expect(pod.initContainers[0].command.join(' ')).toContain('db status');
    }
    for (const j of byKind('Job')) for (const c of j.spec.template.spec.containers) expect(c.image).toBe('blend');
  });

  it('binds the health servers to the pod address, so the probes reach them', () => {
    const [cm] = byKind('ConfigMap');
    expect(cm!.data!.BLEND_HEALTH_HOST).toBe('0.0.0.0');
    expect(cm!.data!.HOST).toBe('0.0.0.0');
  });

  it('runs everything as a non-root user that cannot gain privileges, with memory limits', () => {
    for (const m of [...deployments, ...byKind('Job')]) {
      const pod = m.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, m.metadata.name).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        expect(c.securityContext, `${m.metadata.name}/${c.name}`).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(c.resources.requests.memory, `${m.metadata.name}/${c.name}`).toBeDefined();
        expect(c.resources.limits.memory, `${m.metadata.name}/${c.name}`).toBeDefined();
      }
    }
    // README, "Memory": give the worker's container at least 512 MiB.
    const worker = deployments.find((d) => d.metadata.name === 'blend-worker')!;
    expect(worker.spec.template.spec.containers[0].resources.limits.memory).toBe('512Mi');
  });

  it('gives pods longer to stop than a Blend service takes to drain', () => {
    for (const d of deployments) expect(d.spec.template.spec.terminationGracePeriodSeconds * 1000, d.metadata.name).toBeGreaterThan(STOP_TIMEOUT_MS);
  });

  it('reads secrets only from the Secret, as files, and settings from the ConfigMap', () => {
    const [cm] = byKind('ConfigMap');
    const known = new Set(Object.keys(ConfigSchema.shape));
    for (const key of Object.keys(cm!.data!)) {
      expect(known.has(key), `ConfigMap key ${key} is not a setting`).toBe(true);
      expect(FILE_SETTINGS as readonly string[], `secret ${key} in the ConfigMap`).not.toContain(key);
    }
    for (const m of [...deployments, ...byKind('Job')]) {
      const pod = m.spec.template.spec;
      const mounts = new Map<string, string>();
      for (const v of pod.volumes) if (v.secret) mounts.set(v.name, v.secret.secretName);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const secretDirs = c.volumeMounts.filter((vm: { name: string }) => mounts.get(vm.name) === 'blend-secrets').map((vm: { mountPath: string }) => vm.mountPath);
        for (const e of c.env ?? []) {
          expect(FILE_SETTINGS as readonly string[], `${m.metadata.name}/${c.name}: ${e.name} as a plain value`).not.toContain(e.name);
          if (e.name.endsWith('_FILE') && (FILE_SETTINGS as readonly string[]).includes(e.name.slice(0, -5))) {
            expect(secretDirs.map((d: string) => path.posix.dirname(e.value)), `${e.name} points into the mounted Secret`).toContain(path.posix.dirname(e.value));
            expect(path.posix.basename(e.value)).toBe(e.name.slice(0, -5));
          }
        }
      }
    }
  });

  it("gives each service a configuration that loads (ConfigMap, the pod's env, the Secret's files)", () => {
    const [cm] = byKind('ConfigMap');
    const fake: Record<string, string> = {
      BLEND_SECRET: 'a1'.repeat(32),
      DATABASE_URL: 'postgres://blend@db/blend',
      REDIS_URL: 'redis://redis:6379',
      BLEND_IMAP_URL: 'imaps://bridge%40example.com:pw@imap.example.com:993/INBOX',
      BLEND_SMTP_URL: 'smtps://bridge%40example.com:pw@smtp.example.com:465',
    };
    for (const d of deployments) {
      const env: Record<string, string> = { ...cm!.data! };
      for (const e of d.spec.template.spec.containers[0].env) {
        if (e.name.endsWith('_FILE')) env[e.name.slice(0, -5)] = fake[e.name.slice(0, -5)]!;
        else env[e.name] = e.value;
      }
      expect(() => loadConfig(env), d.metadata.name).not.toThrow();
    }
  });

  it('has a PodDisruptionBudget for each Deployment', () => {
    const pdbs = byKind('PodDisruptionBudget');
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels;
      const matching = pdbs.filter((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v));
      expect(matching, d.metadata.name).toHaveLength(1);
    }
  });

  it('migrates with a Job that runs `blend db migrate` with the database URL only', () => {
    const [job] = byKind('Job');
    const c = job!.spec.template.spec.containers[0];
    expect(c.command.slice(-2)).toEqual(['db', 'migrate']);
    expect(c.env.map((e: { name: string }) => e.name)).toEqual(['DATABASE_URL_FILE']);
  });

  it("scales the workers on BullMQ's wait lists of the default queue prefix (KEDA) or on blend_queue_depth (HPA)", () => {
    const keda = docs(readFileSync(path.join(kustomize, 'components/keda/scaledobject.yaml'), 'utf8'));
    const [so] = byKind('ScaledObject', keda);
    expect(so!.spec.scaleTargetRef.name).toBe('blend-worker');
    const prefix = ConfigSchema.shape.BLEND_QUEUE_PREFIX.parse(undefined);
    const lists = so!.spec.triggers.map((t: { type: string; metadata: { listName: string } }) => `${t.type} ${t.metadata.listName}`);
    expect(lists).toEqual([`redis ${prefix}:${QueueName.ingest}:wait`, `redis ${prefix}:${QueueName.ingestBacklog}:wait`, `redis ${prefix}:${QueueName.send}:wait`]);
    const [hpa] = byKind('HorizontalPodAutoscaler', docs(readFileSync(path.join(kustomize, 'components/hpa/hpa.yaml'), 'utf8')));
    expect(hpa!.spec.scaleTargetRef.name).toBe('blend-worker');
    expect(readFileSync(path.join(kustomize, 'components/hpa/kustomization.yaml'), 'utf8')).toContain(`blend_queue_depth{queue=~"${QueueName.ingest}|${QueueName.ingestBacklog}",state="waiting"}`);
  });

  it("names the Redis lists in which BullMQ really keeps the queues' waiting jobs (real Redis)", async () => {
    const prefix = `blend_t_keda${randomBytes(4).toString('hex')}`;
    const redis = createProducerRedis('redis://127.0.0.1:6379');
    const queues = createQueues(redis, prefix);
    try {
      await enqueueIngest(queues.ingest, randomUUID());
      await enqueueIngest(queues.ingest, randomUUID());
      for (let i = 0; i < 3; i++) await enqueueIngest(queues.ingestBacklog, randomUUID());
      await enqueueSend(queues.send, randomUUID());
      const so = byKind('ScaledObject', docs(readFileSync(path.join(kustomize, 'components/keda/scaledobject.yaml'), 'utf8')))[0]!;
      const lists = so.spec.triggers.map((t: { metadata: { listName: string } }) => t.metadata.listName.replace(/^blend:/, `${prefix}:`));
      expect(await Promise.all(lists.map((l: string) => redis.llen(l)))).toEqual([2, 3, 1]);
    } finally {
      await queues.ingest.obliterate({ force: true });
      await queues.ingestBacklog.obliterate({ force: true });
      await queues.send.obliterate({ force: true });
      await queues.close();
      redis.disconnect();
    }
  });

  const rendered = kubectlKustomize(path.join(kustomize, 'overlays/example'));
  it.skipIf(rendered === undefined)('renders with kubectl kustomize: every object valid, in the namespace, with the overlay image', () => {
    const out = docs(rendered!);
    expect(out.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'Deployment', 'Deployment', 'Job', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PodDisruptionBudget', 'ScaledObject', 'Service', 'TriggerAuthentication'],
    );
    for (const m of out) {
      expect(schemaIssues(m), `${m.kind} ${m.metadata.name}`).toEqual([]);
      expect(unknownFields(m), `${m.kind} ${m.metadata.name}`).toEqual([]);
      expect(m.metadata.namespace, m.metadata.name).toBe('blend');
    }
    for (const m of [...byKind('Deployment', out), ...byKind('Job', out)]) {
      for (const c of [...m.spec.template.spec.containers, ...(m.spec.template.spec.initContainers ?? [])]) expect(c.image).toBe('registry.example.com/blend:1.0.0');
    }
    expect(byKind('ConfigMap', out)[0]!.data!.BLEND_SENDER_AUTH).toBe('trusted-mta');
  });

  it.skipIf(rendered === undefined)('renders the base with the HPA component instead of KEDA', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blend-kustomize-'));
    try {
      const rel = path.relative(dir, kustomize);
      writeFileSync(
        path.join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${rel}/base]\ncomponents: [${rel}/components/hpa]\n`,
      );
      const out = docs(kubectlKustomize(dir)!);
      expect(byKind('HorizontalPodAutoscaler', out)).toHaveLength(1);
      expect(byKind('ScaledObject', out)).toHaveLength(0);
      for (const m of out) expect(schemaIssues(m), `${m.kind} ${m.metadata.name}`).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
