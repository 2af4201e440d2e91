import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/database.js';
import { LATENCY_SAMPLES_KEPT, ModelStats } from '../../src/db/model-stats.js';
import { VramScheduler } from '../../src/vram/scheduler.js';

test('keeps estimates per model and device across a restart, and the scheduler starts from them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-stats-'));
  const file = path.join(dir, 'service.db');
  try {
    const first = openDatabase(file);
    const stats = new ModelStats(first);
    stats.set('isnet', 'cuda:0', 236);
    stats.set('isnet', 'cuda:0', 354.4);
    stats.set('isnet', 'cpu', 190);
    first.close();
    const db = openDatabase(file);
    const reopened = new ModelStats(db);
    assert.equal(reopened.get('isnet', 'cuda:0'), 354);
    assert.equal(reopened.get('isnet', 'cpu'), 190);
    assert.equal(reopened.get('esrgan', 'cpu'), undefined);
    const scheduler = new VramScheduler({
      gpu: { id: 'cuda:0', totalMB: 6144 }, cpuBudgetMB: 4096, keepAliveMs: 1000, estimates: reopened,
      models: [{ id: 'isnet', zone: 'high', estimatedMB: 170 }],
    });
    assert.equal(scheduler.estimateOf('isnet', 'cuda:0'), 354);
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reports run counts, mean and percentiles per device and overall, keeping a bounded sample', () => {
  const db = openDatabase(':memory:');
  const stats = new ModelStats(db);
  for (let i = 1; i <= 100; i++) stats.recordRun('esrgan', 'cpu', i * 10);
  stats.recordRun('esrgan', 'cuda:0', 5);
  assert.deepEqual(stats.latency('esrgan', 'cpu'), { runs: 100, meanMs: 505, p50Ms: 510, p95Ms: 960, p99Ms: 1000 });
  assert.equal(stats.latency('esrgan').runs, 101);
  assert.equal(stats.latency('esrgan', 'cuda:0').p50Ms, 5);
  assert.deepEqual(stats.latency('nothing'), { runs: 0, meanMs: null, p50Ms: null, p95Ms: null, p99Ms: null });
  for (let i = 0; i < LATENCY_SAMPLES_KEPT + 50; i++) stats.recordRun('face', 'cpu', 1);
  assert.equal(stats.latency('face', 'cpu').runs, LATENCY_SAMPLES_KEPT + 50);
  const kept = db.prepare("SELECT COUNT(*) FROM model_run_samples WHERE model_id = 'face'").pluck().get();
  assert.equal(kept, LATENCY_SAMPLES_KEPT);
});
