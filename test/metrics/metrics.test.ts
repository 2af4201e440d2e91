import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { ServiceMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/routes.js';
import { float32 } from '../../src/models/tensor.js';
import { postJson, samplePng } from '../kit/app.js';
import { untilStatus } from '../jobs/kit.js';
import { metricsApp, sample } from './kit.js';

test('/metrics after real requests: HTTP, inference, queue wait, runs in flight, jobs, loads, evictions, zones, process', async () => {
  const { app, kit, h, close } = await metricsApp();
  try {
    const png = (await samplePng()).toString('base64');
    for (let i = 0; i < 2; i++) assert.equal((await postJson(`${app.url}/api/v1/test/invert`, { image: png })).status, 200);
    assert.equal((await postJson(`${app.url}/api/v1/test/invert`, { image: 'bad!' })).status, 400);
    const job = await postJson(`${app.url}/api/v1/test/invert?async=true`, { image: png });
    const { result: { jobId } } = (await job.json()) as { result: { jobId: string } };
    const done = untilStatus(h.queue, jobId, 'completed');
    if (h.queue.get(jobId, 'anonymous').status !== 'completed') await done;
    assert.equal((await fetch(`${app.url}/api/v1/jobs/${jobId}`)).status, 200);
    // a second model in a 12 MB budget pushes the first out
    await kit.manager.run('other', { input: float32(new Float32Array(3 * 4 * 4), [1, 3, 4, 4]) });

    const res = await fetch(`${app.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.equal(sample(text, 'fotofun_http_request_duration_seconds_count', { route: '/api/v1/test/invert', method: 'POST', status: '200' }), 2);
    assert.equal(sample(text, 'fotofun_http_request_duration_seconds_count', { route: '/api/v1/test/invert', method: 'POST', status: '400' }), 1);
    assert.equal(sample(text, 'fotofun_http_request_duration_seconds_count', { route: '/api/v1/jobs/:id', method: 'GET', status: '200' }), 1, 'routes are templates, not ids');
    assert.equal(sample(text, 'fotofun_inference_duration_seconds_count', { model: 'test-invert', device: 'cpu' }), 3);
    assert.ok(sample(text, 'fotofun_inference_duration_seconds_sum', { model: 'test-invert', device: 'cpu' })! > 0);
    assert.equal(sample(text, 'fotofun_inference_queue_wait_seconds_count', { model: 'test-invert' }), 3);
    assert.equal(sample(text, 'fotofun_inference_runs_in_flight', { model: 'test-invert' }), 0);
    assert.equal(sample(text, 'fotofun_jobs', { status: 'completed' }), 1);
    assert.equal(sample(text, 'fotofun_job_duration_seconds_count', { operation: 'test-invert', status: 'completed' }), 1);
    assert.equal(sample(text, 'fotofun_scheduler_decisions_total', { kind: 'load', model: 'test-invert', device: 'cpu' }), 1);
    assert.ok((sample(text, 'fotofun_scheduler_decisions_total', { kind: 'reuse', model: 'test-invert', device: 'cpu' }) ?? 0) >= 2);
    assert.equal(sample(text, 'fotofun_model_evictions_total', { model: 'test-invert', from: 'cpu', to: 'unload' }), 1);
    assert.match(text, /# TYPE fotofun_model_oom_demotions_total counter/);
    assert.equal(sample(text, 'fotofun_zone_budget_bytes', { device: 'cpu', zone: 'cpu' }), 12 * 2 ** 20);
    const used = sample(text, 'fotofun_zone_used_bytes', { device: 'cpu', zone: 'cpu' })!;
    assert.ok(used > 0 && used <= 12 * 2 ** 20, `the loaded model's reservation (measured after its load): ${used}`);
    assert.equal(sample(text, 'fotofun_gpu_memory_bytes', { kind: 'total' }), 6144 * 2 ** 20);
    assert.equal(sample(text, 'fotofun_gpu_utilization_ratio'), 0.25);
    const [free, total] = [sample(text, 'fotofun_disk_bytes', { dir: 'data', kind: 'free' })!, sample(text, 'fotofun_disk_bytes', { dir: 'data', kind: 'total' })!];
    assert.ok(free > 0 && free <= total, `disk ${free} of ${total}`);
    assert.ok(sample(text, 'fotofun_process_cpu_seconds_total')! > 0);
    assert.ok(sample(text, 'fotofun_nodejs_eventloop_lag_seconds')! >= 0);

    const models = (await (await fetch(`${app.url}/api/v1/models/test-invert`)).json()) as { result: { p50Ms: number; p95Ms: number; p99Ms: number } };
    assert.ok(models.result.p50Ms <= models.result.p95Ms && models.result.p95Ms <= models.result.p99Ms, JSON.stringify(models.result));
  } finally {
    await close();
  }
});

test('METRICS_TOKEN guards /metrics; with an API key alone the key does', async () => {
  const token = 'prometheus-scrape-token';
  const guarded = await metricsApp({ METRICS_TOKEN: token, API_KEY: 'the-api-key-0123456789' });
  try {
    assert.equal((await fetch(`${guarded.app.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${guarded.app.url}/metrics`, { headers: { authorization: 'Bearer the-api-key-0123456789' } })).status, 401, 'the API key is not the metrics token');
    assert.equal((await fetch(`${guarded.app.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  } finally {
    await guarded.close();
  }
  const keyed = await metricsApp({ API_KEY: 'the-api-key-0123456789' });
  try {
    assert.equal((await fetch(`${keyed.app.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${keyed.app.url}/metrics`, { headers: { authorization: 'Bearer the-api-key-0123456789' } })).status, 200);
  } finally {
    await keyed.close();
  }
});

test('METRICS_PORT moves /metrics off the API port onto its own listener', async () => {
  const { app, close } = await metricsApp({ METRICS_PORT: '9464' });
  const metrics = new ServiceMetrics();
  const server = await startMetricsServer(metrics, 0, '127.0.0.1');
  try {
    assert.equal((await fetch(`${app.url}/metrics`)).status, 404);
    const port = (server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /fotofun_process_cpu_seconds_total/);
  } finally {
    server.close();
    await close();
  }
});
