import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TraceSchema } from '../../bench/scheduler-trace.js';

test('the committed sample Zipf trace is a valid replay trace with a realistic model set', () => {
  const file = path.resolve(process.cwd(), 'bench/traces/zipf-4gb.json');
  const trace = TraceSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  assert.equal(trace.requests.length, 3000);
  const isnet = trace.models.find((m) => m.id === 'isnet-general');
  assert.deepEqual([isnet?.zone, isnet?.estimatedMB], ['high', 170]);
  assert.deepEqual(new Set(trace.models.map((m) => m.zone)), new Set(['critical', 'high', 'flexible']));
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
