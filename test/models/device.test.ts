import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testConfig } from '../../src/config.js';
import { defaultProbes, detectDevice, explainProbeFailure, type DeviceProbes } from '../../src/models/device.js';

const probes = (o: Partial<{ library: string; probe: { ok: true } | { ok: false; error: string }; vram: number }>): DeviceProbes => ({
  providerLibrary: () => o.library,
  probeSession: async () => o.probe ?? { ok: true },
  vramTotalMB: async () => o.vram,
});
const LIB = '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so';

test('device detection: the CUDA provider library, a probe session and a VRAM size make cuda:0; each missing piece is named', async () => {
  const auto = testConfig({ DEVICE: 'auto' });
  assert.deepEqual(await detectDevice(auto, probes({ library: LIB, vram: 24_576 })), { primary: 'cuda:0', vramTotalMB: 24_576, reason: 'CUDA provider loaded a probe session; 24576 MB of VRAM' });
  assert.match((await detectDevice(auto, probes({}))).reason, /CUDA execution provider is not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/);
  const noCudnn = await detectDevice(auto, probes({ library: LIB, probe: { ok: false, error: 'Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory' } }));
  assert.deepEqual([noCudnn.primary, noCudnn.reason], ['cpu', 'the CUDA provider cannot load libcudnn.so.9: install cuDNN 9 (the gpu image\'s nvidia/cuda base has it)']);
  const noCudart = await detectDevice(auto, probes({ library: LIB, probe: { ok: false, error: 'libcudart.so.12: cannot open shared object file' } }));
  assert.match(noCudart.reason, /cannot load libcudart\.so\.12: install the CUDA 12 runtime/);
  const noDriver = await detectDevice(auto, probes({ library: LIB, probe: { ok: false, error: 'CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version' } }));
  assert.match(noDriver.reason, /no usable NVIDIA driver or device.*--gpus all/);
  assert.match((await detectDevice(auto, probes({ library: LIB }))).reason, /no GPU memory size: set VRAM_TOTAL_MB/);
  assert.equal((await detectDevice(testConfig({ DEVICE: 'auto', VRAM_TOTAL_MB: '6144' }), probes({ library: LIB }))).vramTotalMB, 6144);
  assert.deepEqual(await detectDevice(testConfig({ DEVICE: 'cpu' }), probes({ library: LIB, vram: 8000 })), { primary: 'cpu', reason: 'DEVICE=cpu' });
  await assert.rejects(detectDevice(testConfig({ DEVICE: 'cuda' }), probes({ library: LIB, probe: { ok: false, error: 'libcudnn.so.9: cannot open' } })), /DEVICE=cuda but the CUDA provider cannot load libcudnn\.so\.9/);
  assert.match(explainProbeFailure('something else\nwith detail'), /^a session on the CUDA provider failed: something else$/);
});

test('the real probe runs in a worker and reports a failure here, where no CUDA provider is installed', async () => {
  assert.equal(defaultProbes.providerLibrary(), undefined, 'this machine has the CPU-only onnxruntime-node');
  const probe = await defaultProbes.probeSession();
  assert.equal(probe.ok, false);
  assert.ok(!probe.ok && probe.error.length > 0, 'the error onnxruntime gave comes back');
});
