import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GpuFootprints, nvidiaSmiMemoryReader, parseComputeApps, parseMemoryUsed, type GpuMemoryReading } from '../../src/models/gpu-memory.js';

/** A GPU whose used memory the test sets, read the way nvidia-smi would be. */
function fakeGpu(startMB: number) {
  const state = { mb: startMB, reads: 0 };
  const read = async (): Promise<GpuMemoryReading> => {
    state.reads++;
    return { mb: state.mb, scope: 'process' };
  };
  return { state, read };
}

function collectingLogger() {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, logger: { info: (_o: object, m?: string) => infos.push(m ?? ''), warn: (_o: object, m?: string) => warnings.push(m ?? '') } };
}

describe('nvidia-smi readings', () => {
  test('the compute-apps query gives this process its own memory, summed over its lines', () => {
    const out = '4242, 300\n777, 9000\n4242, 120\n';
    assert.equal(parseComputeApps(out, 4242), 420);
    assert.equal(parseComputeApps(out, 1), undefined, 'a process the driver does not list has no reading');
    assert.equal(parseComputeApps('[N/A], [N/A]\n', 4242), undefined, 'inside a PID namespace the pids do not match');
    assert.equal(parseComputeApps('', 4242), undefined);
  });

  test('the device-wide query reads the first GPU line and refuses what is not a number', () => {
    assert.equal(parseMemoryUsed('5120\n81\n'), 5120);
    assert.equal(parseMemoryUsed(''), undefined);
    assert.equal(parseMemoryUsed('[N/A]\n'), undefined);
  });

  test('without nvidia-smi the reader answers undefined instead of throwing', async () => {
    const previous = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      assert.equal(await nvidiaSmiMemoryReader(0)(), undefined);
    } finally {
      process.env.PATH = previous;
    }
  });
});

describe('GpuFootprints', () => {
  test('a load is measured as the memory it added, after the CUDA context is primed once', async () => {
    const gpu = fakeGpu(0);
    const { logger, infos } = collectingLogger();
    let primes = 0;
    const footprints = new GpuFootprints(gpu.read, logger, async () => {
      primes++;
      gpu.state.mb += 480; // the process's CUDA context
    });
    const a = await footprints.measureLoad('isnet@cuda:0', async () => { gpu.state.mb += 236; });
    const b = await footprints.measureLoad('esrgan@cuda:0', async () => { gpu.state.mb += 310; });
    assert.deepEqual([a, b], [236, 310], 'the context is nobody\'s model');
    assert.equal(primes, 1);
    assert.match(infos[0]!, /isnet@cuda:0 takes 236 MB of GPU memory \(process-wide reading\)/);
  });

  test('concurrent loads are measured one after another, so each delta is its own', async () => {
    const gpu = fakeGpu(1000);
    const { logger } = collectingLogger();
    const footprints = new GpuFootprints(gpu.read, logger);
    const order: string[] = [];
    const slowLoad = (name: string, mb: number, ms: number) => async () => {
      order.push(`${name} start`);
      await new Promise((r) => setTimeout(r, ms));
      gpu.state.mb += mb;
      order.push(`${name} end`);
    };
    const sizes = await Promise.all([
      footprints.measureLoad('a', slowLoad('a', 100, 30)),
      footprints.measureLoad('b', slowLoad('b', 50, 1)),
    ]);
    assert.deepEqual(sizes, [100, 50]);
    assert.deepEqual(order, ['a start', 'a end', 'b start', 'b end']);
  });

  test('a failed prime is logged and measuring goes on; a missing reading gives no measure', async () => {
    const { logger, warnings } = collectingLogger();
    const footprints = new GpuFootprints(async () => undefined, logger, async () => { throw new Error('no device'); });
    assert.equal(await footprints.measureLoad('x', async () => undefined), undefined);
    assert.match(warnings[0]!, /GPU context warm-up failed/);
  });

  test('a release that gives back less than half the measured size is reported', async () => {
    const gpu = fakeGpu(2000);
    const { logger, warnings } = collectingLogger();
    const footprints = new GpuFootprints(gpu.read, logger);
    await footprints.measureLoad('good@cuda:0', async () => { gpu.state.mb += 400; });
    await footprints.measureLoad('leaky@cuda:0', async () => { gpu.state.mb += 400; });
    await footprints.checkRelease('good@cuda:0', async () => { gpu.state.mb -= 390; });
    assert.equal(warnings.length, 0);
    await footprints.checkRelease('leaky@cuda:0', async () => { gpu.state.mb -= 100; });
    assert.deepEqual(warnings, ['released leaky@cuda:0, but GPU memory fell by only 100 MB of its 400 MB']);
    const reads = gpu.state.reads;
    await footprints.checkRelease('unmeasured@cuda:0', async () => undefined);
    assert.equal(gpu.state.reads, reads, 'a session never measured is released without readings');
  });
});
