import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, parseBytes, parseDuration } from '../../src/config.js';

describe('configuration', () => {
  test('uses the documented defaults when nothing is set', () => {
    const c = loadConfig({}, '/srv/app');
    assert.equal(c.PORT, 8080);
    assert.equal(c.MAX_FILE_SIZE, 50_000_000);
    assert.equal(c.MAX_IMAGE_PIXELS, 40_000_000);
    assert.equal(c.REQUEST_TIMEOUT, 30_000);
    assert.equal(c.CORS_ORIGINS, '*');
    assert.equal(c.API_KEY, undefined);
    assert.equal(c.MODEL_DIR, path.resolve('/srv/app', '.models'));
  });

  test('reads units for sizes, durations and pixel counts', () => {
    const c = loadConfig({ MAX_FILE_SIZE: '10mb', REQUEST_TIMEOUT: '2m', MAX_IMAGE_PIXELS: '12mp', MODEL_KEEP_ALIVE: '1500' });
    assert.equal(c.MAX_FILE_SIZE, 10_000_000);
    assert.equal(c.REQUEST_TIMEOUT, 120_000);
    assert.equal(c.MAX_IMAGE_PIXELS, 12_000_000);
    assert.equal(c.MODEL_KEEP_ALIVE, 1500);
    assert.equal(parseBytes('2 KiB'), 2048);
    assert.equal(parseDuration('1h'), 3_600_000);
  });

  test('names every bad variable at once with what it expects', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', MAX_FILE_SIZE: 'lots', LOG_LEVEL: 'loud', API_KEY: 'short', VRAM_ZONES: '1,2' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const names = err.problems.map((p) => p.split(':')[0]);
        assert.deepEqual(names.sort(), ['API_KEY', 'LOG_LEVEL', 'MAX_FILE_SIZE', 'PORT', 'VRAM_ZONES']);
        assert.match(err.message, /PORT: expects a whole number/);
        assert.match(err.message, /MAX_FILE_SIZE: expects a size like 50mb/);
        return true;
      },
    );
  });

  test('treats empty variables as unset, so API_KEY= does not switch auth on', () => {
    assert.equal(loadConfig({ API_KEY: '', PORT: '' }).API_KEY, undefined);
  });

  test('splits CORS_ORIGINS into a list', () => {
    assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).CORS_ORIGINS, ['https://a.example', 'https://b.example']);
  });

  test('parses VRAM_ZONES as critical,high,flexible MB', () => {
    assert.deepEqual(loadConfig({ VRAM_ZONES: '1024,2048,512' }).VRAM_ZONES, { critical: 1024, high: 2048, flexible: 512 });
  });
});
