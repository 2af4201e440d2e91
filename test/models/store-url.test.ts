import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { isAppError } from '../../src/errors.js';
import type { Manifest, ModelSpec } from '../../src/models/manifest.js';
import { ModelStore } from '../../src/models/store/model-store.js';
import { tempDir } from '../kit/onnx.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const payload = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 13) % 256);

/** Requests seen by the server, and a switch to drop the first full-body response halfway. */
const seen: { url: string; range?: string }[] = [];
let dropFirst = false;

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  seen.push({ url: req.url!, range: req.headers.range });
  if (req.url === '/silent.onnx') return; // accepts the request, never answers
  if (req.url === '/moved.onnx') {
    res.writeHead(302, { location: '/model.onnx' }).end();
    return;
  }
  if (req.url !== '/model.onnx') {
    res.writeHead(404).end();
    return;
  }
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
  const body = payload.subarray(start);
  const headers = { 'content-length': String(body.length), 'accept-ranges': 'bytes' };
  if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${payload.length - 1}/${payload.length}` });
  else res.writeHead(200, headers);
  if (dropFirst && start === 0) {
    dropFirst = false;
    res.write(body.subarray(0, 100_000), () => res.destroy());
    return;
  }
  res.end(body);
}

const server = http.createServer(serve);
let base = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function urlModel(id: string, urlPath: string, digest?: string): ModelSpec {
  return {
    id, task: 'test', family: 'depth', zone: 'flexible', priority: 0, default: false, license: 'MIT', memoryMB: 1,
    description: 'test model', inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 8, 8], layout: 'NCHW', color: 'RGB', normalize: { scale: 1, mean: 0, std: 1 } }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    source: { kind: 'url', url: `${base}${urlPath}`, file: `${id}.onnx`, ...(digest ? { verify: 'sha256', sha256: digest } : { verify: 'trust-on-first-use' }) },
  };
}

function storeFor(models: ModelSpec[], downloadTimeoutMs = 10_000) {
  const modelDir = tempDir('fotofun-url-');
  const store = new ModelStore({ modelDir, manifest: { version: 1, models } as Manifest, logger: pino({ level: 'silent' }), downloadTimeoutMs, onProgress: () => undefined });
  return { store, modelDir };
}

describe('ModelStore with url sources', () => {
  test('resumes a download the server dropped mid-body with a Range request, then verifies it', async () => {
    seen.length = 0;
    dropFirst = true;
    const { store } = storeFor([urlModel('depth', '/model.onnx', sha(payload))]);
    const file = await store.ensure('depth');
    assert.equal(sha(fs.readFileSync(file)), sha(payload));
    const ranges = seen.filter((r) => r.url === '/model.onnx').map((r) => r.range);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1] ?? '', /^bytes=[1-9]\d*-$/);
    assert.equal(fs.existsSync(`${file}.partial`), false);
  });

  test('resumes from a .partial an earlier process left behind', async () => {
    seen.length = 0;
    const { store, modelDir } = storeFor([urlModel('depth', '/model.onnx', sha(payload))]);
    fs.writeFileSync(path.join(modelDir, 'depth.onnx.partial'), payload.subarray(0, 5000));
    await store.ensure('depth');
    assert.deepEqual(seen.map((r) => r.range), ['bytes=5000-']);
    assert.equal((await store.verify('depth')).ok, true);
  });

  test('pull (as npm start and the CLI run it) resumes a .partial instead of discarding it', async () => {
    seen.length = 0;
    const { store, modelDir } = storeFor([urlModel('depth', '/model.onnx', sha(payload))]);
    fs.writeFileSync(path.join(modelDir, 'depth.onnx.partial'), payload.subarray(0, 5000));
    const [outcome] = await store.pull(['depth']);
    assert.equal(outcome!.ok, true);
    assert.deepEqual(seen.map((r) => r.range), ['bytes=5000-']);
  });

  test('follows redirects and records the digest on first use when the manifest has none', async () => {
    const { store, modelDir } = storeFor([urlModel('depth', '/moved.onnx')]);
    const file = await store.ensure('depth');
    assert.equal(fs.readFileSync(path.join(modelDir, 'depth.onnx.sha256'), 'utf8'), `${sha(payload)}  depth.onnx\n`);
    fs.writeFileSync(file, payload.subarray(1));
    const report = await store.verify('depth');
    assert.equal(report.files[0]!.state, 'mismatch');
  });

  test('an unreachable url fails after DOWNLOAD_TIMEOUT, naming the path and sha256 to place by hand', async () => {
    const digest = sha(payload);
    const { store, modelDir } = storeFor([urlModel('depth', '/silent.onnx', digest)], 300);
    await assert.rejects(store.ensure('depth'), (err: unknown) => {
      assert.ok(isAppError(err));
      assert.equal(err.code, 'MODEL_UNAVAILABLE');
      assert.match(err.message, /DOWNLOAD_TIMEOUT/);
      assert.ok(err.message.includes(`${path.join(modelDir, 'depth.onnx')} (sha256 ${digest})`), err.message);
      return true;
    });
    assert.equal(store.status('depth'), 'missing');
  });

  test('an aborted ensure stops waiting with the abort reason', async () => {
    const { store } = storeFor([urlModel('depth', '/silent.onnx')], 2000);
    const controller = new AbortController();
    const waiting = store.ensure('depth', { signal: controller.signal });
    controller.abort(new Error('client went away'));
    await assert.rejects(waiting, /client went away/);
  });

  test('a download with the wrong digest is refused and its partial discarded', async () => {
    const wrong = 'f'.repeat(64);
    const { store, modelDir } = storeFor([urlModel('depth', '/model.onnx', wrong)]);
    const [outcome] = await store.pull(['depth']);
    assert.equal(outcome!.ok, false);
    assert.ok(!outcome!.ok && outcome!.error.message.includes(sha(payload)) && outcome!.error.message.includes(wrong));
    assert.deepEqual(fs.readdirSync(modelDir), []);
  });

  test('an HTTP error is reported as unavailable with the status', async () => {
    const { store } = storeFor([urlModel('depth', '/gone.onnx')]);
    const [outcome] = await store.pull(['depth']);
    assert.equal(outcome!.ok, false);
    assert.match(!outcome!.ok ? outcome!.error.message : '', /HTTP 404/);
  });
});
