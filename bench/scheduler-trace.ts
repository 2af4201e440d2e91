import { z } from 'zod';
import { ZONES } from '../src/vram/types.js';

/**
 * A scheduler replay trace: the simulated machine, the model set, and timed requests.
 * `requests[].durationMs` is the run time on the GPU; on CPU a run takes `cpuSlowdown` times longer.
 */
const Zone = z.enum(ZONES as ['critical', 'high', 'flexible']);
const MB = z.number().positive();

export const TraceSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    device: z.object({
      /** null: no CUDA, every model on CPU. */
      gpuTotalMB: z.number().int().positive().nullable(),
      zones: z.object({ critical: z.number().int().nonnegative(), high: z.number().int().nonnegative(), flexible: z.number().int().nonnegative() }).optional(),
      cpuBudgetMB: z.number().int().positive(),
      keepAliveMs: z.number().int().positive().default(600_000),
      /** Simulated load time per MB of session, ms (disk read + session creation + warm-up). */
      gpuLoadMsPerMB: z.number().nonnegative().default(3),
      cpuLoadMsPerMB: z.number().nonnegative().default(2),
    }),
    models: z
      .array(
        z.object({
          id: z.string().min(1),
          zone: Zone,
          /** The manifest's estimate, MB. */
          estimatedMB: MB,
          /** What the session really takes once warmed up (the measurement), MB; defaults to the estimate. */
          actualMB: MB.optional(),
          cpuSlowdown: z.number().positive().default(10),
        }),
      )
      .min(1),
    requests: z.array(z.object({ t: z.number().nonnegative(), model: z.string().min(1), durationMs: z.number().nonnegative() })),
  })
  .superRefine((trace, ctx) => {
    const ids = new Set(trace.models.map((m) => m.id));
    if (ids.size !== trace.models.length) ctx.addIssue({ code: 'custom', path: ['models'], message: 'model ids must be unique' });
    trace.requests.forEach((r, i) => {
      if (!ids.has(r.model)) ctx.addIssue({ code: 'custom', path: ['requests', i, 'model'], message: `unknown model "${r.model}"` });
      const prev = trace.requests[i - 1];
      if (prev && r.t < prev.t) ctx.addIssue({ code: 'custom', path: ['requests', i, 't'], message: 'requests must be in time order' });
    });
  });

export type Trace = z.infer<typeof TraceSchema>;
export type TraceInput = z.input<typeof TraceSchema>;
