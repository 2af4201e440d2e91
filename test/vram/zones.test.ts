import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionLog } from '../../src/vram/decision-log.js';
import type { Decision } from '../../src/vram/types.js';
import { zoneBudgets } from '../../src/vram/zones.js';

test('zone budgets are 2048/2560/1536 MB on a 6 GB card and scale with the card', () => {
  assert.deepEqual(zoneBudgets(6144), { critical: 2048, high: 2560, flexible: 1536 });
  assert.deepEqual(zoneBudgets(12288), { critical: 4096, high: 5120, flexible: 3072 });
  const small = zoneBudgets(4000);
  assert.ok(small.critical + small.high + small.flexible <= 4000);
  assert.equal(small.high, 1666);
});

test('VRAM_ZONES overrides the scaled split as given', () => {
  assert.deepEqual(zoneBudgets(6144, { critical: 512, high: 4096, flexible: 1536 }), { critical: 512, high: 4096, flexible: 1536 });
});

test('the decision log keeps state changes, logs routine reuse at debug only, and warns on rejects', () => {
  const lines: string[] = [];
  const log = new DecisionLog(2, {
    info: (_o, m) => lines.push(`info ${m}`),
    debug: (_o, m) => lines.push(`debug ${m}`),
    warn: (_o, m) => lines.push(`warn ${m}`),
  });
  const d = (kind: Decision['kind'], modelId: string): Decision => ({ kind, modelId, device: 'cpu', zone: 'high', mb: 1, victims: [], reason: `${kind} ${modelId}`, at: 0 });
  log.record(d('load', 'a'));
  log.record(d('reuse', 'a'));
  log.record(d('reject', 'b'));
  log.record(d('unload', 'a'));
  assert.deepEqual(log.recent().map((x) => x.reason), ['unload a', 'reject b']);
  assert.deepEqual(lines, ['info load a', 'debug reuse a', 'warn reject b', 'info unload a']);
});
