import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { tempDir } from '../kit/onnx.js';
import { REAL_MODEL_DIR } from '../kit/real-models.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []));
}

test('npm run build compiles a service that starts with node alone, loads a model into a compiled worker, and imports no dev dependency', { timeout: 180_000 }, async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  const dist = path.join(ROOT, 'dist');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const seen = new Set<string>();
  for (const file of jsFiles(dist)) {
    const source = fs.readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(['"]([^'"]+)['"]\)/g)) {
      if (!spec || spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      seen.add(name);
      assert.ok(name in pkg.dependencies, `${path.relative(ROOT, file)} imports ${spec}, which is not a production dependency`);
    }
  }
  assert.ok(seen.has('express') && seen.has('onnxruntime-node') && seen.has('sharp'), `the scan found the service's packages: ${[...seen].join(', ')}`);
  const port = 18_200 + Math.floor(Math.random() * 500);
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', PULL_MODELS_ON_START: 'false', MODEL_DIR: REAL_MODEL_DIR, DATA_DIR: tempDir(), AUTH_MODE: 'off' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if ((await fetch(`${url}/health`).then((r) => r.status, () => 0)) === 200) break;
      assert.ok(i < 300 && child.exitCode === null, `no /health answer: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const load = await fetch(`${url}/api/v1/models/face-detect/load`, { method: 'POST' });
    const body = await load.text();
    assert.equal(load.status, 200, body);
    const info = JSON.parse(body) as { result: { state: string; device: string } };
    assert.equal(info.result.device, 'cpu', 'the compiled session worker loaded it');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
