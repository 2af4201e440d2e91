import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadManifest, ManifestError, parseManifest, sourceFiles, type Source } from '../../src/models/manifest.js';

const shipped = loadManifest();

/** Every digest a source is checked against before its files are trusted. */
function inputDigests(source: Source): (string | undefined)[] {
  if (source.kind === 'npm-chunks') return [source.sha256, ...source.chunks.map((c) => c.sha256)];
  if (source.kind === 'convert') return sourceFiles(source.from).map((f) => f.sha256);
  return sourceFiles(source).map((f) => f.sha256);
}

function withModel(patch: (m: Record<string, unknown>) => void): unknown {
  const json = structuredClone(shipped) as unknown as { models: Record<string, unknown>[] };
  patch(json.models[0]!);
  return json;
}

describe('models.manifest.json', () => {
  test('the shipped manifest parses and every default model is checked by sha256', () => {
    const defaults = shipped.models.filter((m) => m.default);
    assert.ok(defaults.length >= 8);
    for (const m of defaults) {
      assert.notEqual(m.source.kind, 'url', `${m.id} is default, so it must come from a reachable package`);
      for (const digest of inputDigests(m.source)) assert.match(digest ?? '', /^[0-9a-f]{64}$/, `${m.id} lacks a sha256`);
    }
  });

  test('names the default set the issue asks for', () => {
    const defaults = shipped.models.filter((m) => m.default).map((m) => m.id).sort();
    assert.deepEqual(defaults, ['centernet', 'face-age', 'face-antispoof', 'face-detect', 'face-embed', 'face-gender', 'face-landmark', 'isnet-general', 'isnet-general-int8', 'realesrgan-x4fast']);
    assert.equal(shipped.models.find((m) => m.id === 'face-detect')?.zone, 'critical');
  });

  test('chunk sizes add up to the assembled file', () => {
    for (const m of shipped.models) {
      if (m.source.kind !== 'npm-chunks') continue;
      assert.equal(m.source.chunks.reduce((n, c) => n + c.size, 0), m.source.size, m.id);
    }
  });

  test('rejects a url source that claims sha256 verification without a digest', () => {
    const bad = withModel((m) => {
      m.source = { kind: 'url', url: 'https://example.com/m.onnx', file: 'm.onnx', verify: 'sha256' };
    });
    assert.throws(() => parseManifest(bad), (err: unknown) => err instanceof ManifestError && /sha256 exactly when verify is 'sha256'/.test(err.message));
  });

  test('rejects an unpinned package, a plain-http url and duplicate ids, naming each path', () => {
    const bad = withModel((m) => {
      m.source = { kind: 'url', url: 'http://example.com/m.onnx', file: 'm.onnx', verify: 'trust-on-first-use' };
    }) as { models: Record<string, unknown>[] };
    const npmIndex = shipped.models.findIndex((m) => m.source.kind === 'npm');
    (bad.models[npmIndex]!.source as { package: string }).package = 'faceplugin-face-recognition-js@latest';
    bad.models[1]!.id = bad.models[2]!.id;
    assert.throws(() => parseManifest(bad), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.match(err.message, /models\.0\.source\.url: expects an https:\/\/ URL/);
      assert.match(err.message, /duplicate id/);
      assert.match(err.message, new RegExp(`models\\.${npmIndex}\\.source\\.package: expects name@exact\\.version`));
      return true;
    });
  });
});
