import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { metricsApp } from '../metrics/kit.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const read = (file: string) => fs.readFileSync(`${DEPLOY}${file}`, 'utf8');

const Duration = z.string().regex(/^\d+[smh]$/);
const RulesFile = z.strictObject({
  groups: z.array(z.strictObject({
    name: z.string().min(1),
    rules: z.array(z.strictObject({
      alert: z.string().regex(/^[A-Z][A-Za-z0-9]*$/),
      expr: z.string().min(1),
      for: Duration,
      labels: z.strictObject({ severity: z.enum(['critical', 'warning']) }),
      annotations: z.strictObject({ summary: z.string().min(1), description: z.string().min(1) }),
    })).min(1),
  })).min(1),
});

/** Grafana's interval variables and our $instance filter, as a query would be sent. */
const asSent = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');

/** Parses with Prometheus's own PromQL grammar; returns the metric names the expression selects. */
function metricNames(expr: string): string[] {
  const text = asSent(expr);
  const tree = parser.parse(text);
  const names: string[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(text.slice(Math.max(0, node.from - 20), node.to + 20))}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(text.slice(id.from, id.to));
      }
    },
  });
  assert.deepEqual(errors, [], `PromQL syntax errors in ${expr}`);
  return names;
}

describe('monitoring files under deploy/', () => {
  let exported: Set<string>;
  before(async () => {
    const { app, close } = await metricsApp();
    try {
      // Every family is declared with # TYPE even before it has samples; a histogram's series are _bucket, _count and _sum.
      const text = await (await fetch(`${app.url}/metrics`)).text();
      exported = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : type === 'summary' ? [name!, `${name}_count`, `${name}_sum`] : [name!]));
    } finally {
      await close();
    }
  });

  const checkNames = (names: string[], where: string) => {
    for (const name of names) assert.ok(name === 'up' || exported.has(name), `${where} queries ${name}, which the service does not export`);
  };

  test("the alert rules parse, cover seed 004's alerting strategy and name only exported metrics", () => {
    const rules = RulesFile.parse(parseYaml(read('prometheus/alerts.yml'))).groups.flatMap((g) => g.rules);
    const byName = new Map(rules.map((r) => [r.alert, r]));
    const wanted: Record<string, string> = {
      FotoFunDown: '1m', FotoFunGpuMemoryExhausted: '2m', FotoFunHighErrorRate: '5m', FotoFunSlowRequests: '3m',
      FotoFunGpuSaturated: '10m', FotoFunDiskLow: '5m', FotoFunQueueDepthHigh: '5m',
    };
    for (const [alert, duration] of Object.entries(wanted)) assert.equal(byName.get(alert)?.for, duration, alert);
    assert.match(byName.get('FotoFunHighErrorRate')!.expr, /> 0\.05/);
    assert.match(byName.get('FotoFunSlowRequests')!.expr, /histogram_quantile\(0\.95,[\s\S]*> 5\s*$/);
    assert.match(byName.get('FotoFunGpuSaturated')!.expr, /> 0\.9$/);
    assert.match(byName.get('FotoFunDiskLow')!.expr, /< 0\.10$/);
    for (const r of rules) checkNames(metricNames(r.expr), r.alert);
  });

  test('the Grafana dashboard parses and every query names only exported metrics', () => {
    const dash = JSON.parse(read('grafana/fotofun-dashboard.json')) as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { query: string }[] } };
    assert.ok(dash.panels.length >= 12);
    for (const panel of dash.panels) {
      assert.ok(panel.targets.length > 0, panel.title);
      for (const t of panel.targets) checkNames(metricNames(t.expr), panel.title);
    }
    for (const v of dash.templating.list) checkNames([/label_values\((\w+)/.exec(v.query)![1]!], 'the instance variable');
  });

  test('the Prometheus config scrapes the job the rules watch and loads them', () => {
    const config = parseYaml(read('prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; metrics_path: string }[] };
    assert.deepEqual(config.rule_files, ['alerts.yml']);
    assert.equal(config.scrape_configs[0]?.job_name, 'fotofun-ai');
    assert.equal(config.scrape_configs[0]?.metrics_path, '/metrics');
    assert.match(read('prometheus/alerts.yml'), /up\{job="fotofun-ai"\}/);
  });
});
