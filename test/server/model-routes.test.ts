import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { modelRoutes } from '../../src/endpoints/models.js';
import { startTestApp, type TestApp } from '../kit/app.js';
import { tinyManager, type ManagerKit } from '../kit/models.js';
import { meanSigmoidModel, tempDir } from '../kit/onnx.js';

const ADMIN = 'a'.repeat(20);

describe('model routes', () => {
  let kit: ManagerKit;
  let app: TestApp;
  before(async () => {
    kit = tinyManager(tempDir('model-routes-'), [
      { id: 'tiny-critical', graph: meanSigmoidModel(), zone: 'critical' },
      { id: 'tiny-high', graph: meanSigmoidModel(), zone: 'high' },
    ]);
    app = await startTestApp({
      runner: kit.manager,
      env: { ADMIN_API_KEY: ADMIN },
      deps: { routers: [{ path: '/api/v1', router: modelRoutes({ manager: kit.manager, vram: () => kit.scheduler.snapshot(), adminKey: ADMIN }), inference: false }] },
    });
  });
  after(async () => {
    await app.close();
    await kit.close();
  });

  test('GET /api/v1/models lists every manifest model with its state', async () => {
    const body = (await (await fetch(`${app.url}/api/v1/models`)).json()) as { result: { models: { id: string; state: string; downloaded: boolean; zone: string }[] } };
    assert.deepEqual(body.result.models.map((m) => m.id), ['tiny-critical', 'tiny-high']);
    assert.ok(body.result.models.every((m) => m.state === 'unloaded' && m.downloaded));
  });

  test('GET /api/v1/models/:id answers 404 NOT_FOUND for an unknown id', async () => {
    const res = await fetch(`${app.url}/api/v1/models/nope`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  test('load and unload need the admin key', async () => {
    const res = await fetch(`${app.url}/api/v1/models/tiny-high/load`, { method: 'POST' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
  });

  test('POST load makes a model resident on CPU; unload frees it; /vram shows the budget and decisions', async () => {
    const loaded = await fetch(`${app.url}/api/v1/models/tiny-high/load`, { method: 'POST', headers: { 'x-admin-key': ADMIN } });
    assert.equal(loaded.status, 200);
    assert.equal(((await loaded.json()) as { result: { state: string } }).result.state, 'cpu');
    const vram = (await (await fetch(`${app.url}/api/v1/vram`)).json()) as { result: { pools: { device: string; usedMB: number; models: string[] }[]; decisions: { kind: string; modelId: string; reason: string }[] } };
    const cpu = vram.result.pools.find((p) => p.device === 'cpu');
    assert.ok(cpu && cpu.usedMB > 0 && cpu.models.includes('tiny-high'));
    assert.ok(vram.result.decisions.some((d) => d.kind === 'load' && d.modelId === 'tiny-high' && d.reason.length > 0));
    const unloaded = await fetch(`${app.url}/api/v1/models/tiny-high/unload`, { method: 'POST', headers: { 'x-admin-key': ADMIN } });
    assert.equal(unloaded.status, 200);
    const state = kit.scheduler.snapshot().models.find((m) => m.id === 'tiny-high');
    assert.equal(state?.device, null, 'no device serves it any more');
  });
});
