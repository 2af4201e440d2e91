import type { ZoneSizes } from './types.js';

/**
 * The owner's split of a 6 GB RTX 3060 (ARCHITECTURE.md): 2 GB always-resident Critical models,
 * 2.5 GB LRU-evicted High models, 1.5 GB on-demand Flexible models.
 */
export const REFERENCE_TOTAL_MB = 6144;
export const REFERENCE_ZONES: Readonly<ZoneSizes> = { critical: 2048, high: 2560, flexible: 1536 };

/**
 * Zone budgets for a card of `totalMB`: an explicit override (VRAM_ZONES) wins as given; otherwise
 * the reference split is scaled in proportion, rounded down so the zones never exceed the card.
 */
export function zoneBudgets(totalMB: number, override?: ZoneSizes): ZoneSizes {
  if (override) return { ...override };
  const scale = totalMB / REFERENCE_TOTAL_MB;
  return {
    critical: Math.floor(REFERENCE_ZONES.critical * scale),
    high: Math.floor(REFERENCE_ZONES.high * scale),
    flexible: Math.floor(REFERENCE_ZONES.flexible * scale),
  };
}
