/**
 * The scheduler's policies side by side on replayed traces: `npm run bench:scheduler [-- --trace
 * FILE ... --policy belady,lru,ours --gpu-mb N --keep-alive-ms N --json]`. Without --trace it
 * replays every trace in bench/traces. Per policy: GPU hits (session already resident), CPU runs,
 * loads, MB moved, total and p95 simulated latency, and unloads ordered while a run was in flight
 * (must be 0). Belady's furthest-next-use sees the trace's future: the offline reference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { POLICIES, readTrace, replay, summarize, type PolicyName } from './scheduler-sim.js';

type Row = ReturnType<typeof summarize>;

function table(rows: Row[]): string {
  const belady = rows.find((r) => r.policy === 'belady');
  const lru = rows.find((r) => r.policy === 'lru');
  const head = ['policy', 'GPU hits', '% Belady', 'CPU runs', 'loads', '× Belady', 'MB moved', 'total s', 'p95 ms', 'p95 ÷ LRU', 'in-flight unloads'];
  const body = rows.map((r) => [
    r.policy, r.gpuHits,
    belady ? `${((100 * r.gpuHits) / belady.gpuHits).toFixed(1)} %` : '-',
    r.cpuRuns, `${r.loadsGpu}+${r.loadsCpu}`,
    belady ? (r.loads / belady.loads).toFixed(2) : '-',
    r.mbMoved, r.latencyTotalS, r.latencyP95Ms,
    lru ? (r.latencyP95Ms / Math.max(1, lru.latencyP95Ms)).toFixed(2) : '-',
    r.unloadsInFlight,
  ].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trace: { type: 'string', multiple: true },
      policy: { type: 'string', default: POLICIES.join(',') },
      'gpu-mb': { type: 'string' },
      'keep-alive-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const dir = path.join(import.meta.dirname, 'traces');
  const files = values.trace ?? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
  const policies = values.policy.split(',').map((p) => p.trim()) as PolicyName[];
  for (const p of policies) if (!POLICIES.includes(p)) throw new Error(`unknown policy "${p}": use ${POLICIES.join(', ')}`);
  for (const file of files) {
    const rows: Row[] = [];
    for (const policy of policies) {
      const trace = readTrace(file);
      if (values['gpu-mb']) trace.device.gpuTotalMB = Number(values['gpu-mb']);
      if (values['keep-alive-ms']) trace.device.keepAliveMs = Number(values['keep-alive-ms']);
      rows.push(summarize(trace, policy, await replay(trace, policy)));
    }
    if (values.json) {
      for (const r of rows) console.log(JSON.stringify(r));
      continue;
    }
    const t = readTrace(file);
    console.log(`\n${t.name}: ${t.requests.length} requests, ${t.models.length} models, ${t.device.gpuTotalMB ?? 'no'} MB GPU (${path.basename(file)})`);
    console.log(table(rows));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
