import type { Rect } from '../../image/region.js';
import type { HoleMask } from './mask.js';

export type { Rect };

/** Bounding boxes of the mask's 8-connected components (a union-find over row runs). */
export function componentBoxes(mask: HoleMask): Rect[] {
  const { data, width: w, height: h } = mask;
  const label = new Int32Array(w * h).fill(-1);
  const parent: number[] = [];
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]!]!;
    return a;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!data[i]) continue;
      let mine = -1;
      for (const j of [x > 0 ? i - 1 : -1, y > 0 && x > 0 ? i - w - 1 : -1, y > 0 ? i - w : -1, y > 0 && x < w - 1 ? i - w + 1 : -1]) {
        if (j < 0 || label[j]! < 0) continue;
        const root = find(label[j]!);
        if (mine < 0) mine = root;
        else if (root !== mine) {
          const [lo, hi] = root < mine ? [root, mine] : [mine, root];
          parent[hi] = lo;
          mine = lo;
        }
      }
      if (mine < 0) {
        mine = parent.length;
        parent.push(mine);
      }
      label[i] = mine;
    }
  }
  const boxes = new Map<number, [number, number, number, number]>();
  for (let i = 0; i < w * h; i++) {
    if (label[i]! < 0) continue;
    const root = find(label[i]!);
    const x = i % w, y = (i - x) / w;
    const b = boxes.get(root);
    if (!b) boxes.set(root, [x, y, x, y]);
    else {
      b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
    }
  }
  return [...boxes.values()].map(([x0, y0, x1, y1]) => ({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }));
}

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const union = (a: Rect, b: Rect): Rect => {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
};

/**
 * The areas to work on: each component grown by `margin` of context on every side (shifted
 * inwards rather than cut at the image's edge, as IOPaint's crop strategy does, so a region by
 * the border still gets its context), and overlapping areas merged until none overlap, so each
 * hole pixel is filled once, from one consistent context.
 */
export function workAreas(mask: HoleMask, margin: number): Rect[] {
  const { width: W, height: H } = mask;
  let areas = componentBoxes(mask).map((b) => grow(b, margin, W, H));
  for (let merged = true; merged;) {
    merged = false;
    const next: Rect[] = [];
    for (const a of areas) {
      const hit = next.findIndex((b) => overlaps(a, b));
      if (hit < 0) next.push(a);
      else {
        next[hit] = union(next[hit]!, a);
        merged = true;
      }
    }
    areas = next;
  }
  return areas;
}

function grow(b: Rect, margin: number, W: number, H: number): Rect {
  const span = (start: number, size: number, limit: number): [number, number] => {
    const want = Math.min(limit, size + 2 * margin);
    const lo = Math.max(0, Math.min(limit - want, start - margin));
    return [lo, want];
  };
  const [x, width] = span(b.x, b.width, W);
  const [y, height] = span(b.y, b.height, H);
  return { x, y, width, height };
}
