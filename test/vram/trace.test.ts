import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TraceSchema } from '../../bench/scheduler-trace.js';
import { zoneBudgets } from '../../src/vram/zones.js';

test('the committed sample Zipf trace is a valid replay trace with a realistic model set', () => {
  const file = path.resolve(process.cwd(), 'bench/traces/zipf-4gb.json');
  const trace = TraceSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  assert.equal(trace.requests.length, 3000);
  const isnet = trace.models.find((m) => m.id === 'isnet-general');
  assert.deepEqual([isnet?.zone, isnet?.estimatedMB], ['high', 170]);
  assert.deepEqual(new Set(trace.models.map((m) => m.zone)), new Set(['critical', 'high', 'flexible']));
});

test('every committed trace is valid, 3000 requests long, and overfills a GPU zone', () => {
  const dir = path.resolve(process.cwd(), 'bench/traces');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.deepEqual(files.sort(), ['bursty-6gb.json', 'overcommit-6gb.json', 'size-skewed-6gb.json', 'zipf-4gb.json', 'zipf-6gb.json']);
  for (const f of files) {
    const trace = TraceSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    assert.equal(trace.requests.length, 3000, f);
    const budgets = zoneBudgets(trace.device.gpuTotalMB!, trace.device.zones);
    const over = (['high', 'flexible'] as const).filter((z) => trace.models.filter((m) => m.zone === z).reduce((sum, m) => sum + (m.actualMB ?? m.estimatedMB), 0) > budgets[z]);
    assert.ok(over.length > 0, `${f}: every zone holds all its models, so no policy would ever evict`);
  }
});

test('a trace naming an unknown model or out of time order is refused with the path', () => {
  const bad = {
    name: 'bad', device: { gpuTotalMB: null, cpuBudgetMB: 100 },
    models: [{ id: 'a', zone: 'high', estimatedMB: 10 }],
    requests: [{ t: 5, model: 'a', durationMs: 1 }, { t: 1, model: 'b', durationMs: 1 }],
  };
  const result = TraceSchema.safeParse(bad);
  assert.equal(result.success, false);
  assert.deepEqual(result.error?.issues.map((i) => i.path.join('.')).sort(), ['requests.1.model', 'requests.1.t']);
});
