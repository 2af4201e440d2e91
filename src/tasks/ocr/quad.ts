/** Plane geometry for text boxes: hulls, minimum-area rectangles, quads. Coordinates are pixel indices. */
export type Point = [number, number];
/** Corners clockwise from top-left: tl, tr, br, bl. */
export type Quad = [Point, Point, Point, Point];

const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Andrew's monotone chain; collinear points dropped. */
export function convexHull(points: Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length <= 2) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

export interface RotatedRect {
  corners: Point[];
  width: number;
  height: number;
}

/** The minimum-area enclosing rectangle of a convex hull (rotating calipers: one side lies on a hull edge). */
export function minAreaRect(hull: Point[]): RotatedRect {
  if (hull.length === 1) return { corners: [hull[0]!, hull[0]!, hull[0]!, hull[0]!], width: 0, height: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    let [minU, maxU, minV, maxV] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const at = (u: number, v: number): Point => [u * ux - v * uy, u * uy + v * ux];
      best = { corners: [at(minU, minV), at(maxU, minV), at(maxU, maxV), at(minU, maxV)], width: maxU - minU, height: maxV - minV };
    }
  }
  return best!;
}

/**
 * PaddleOCR's get_mini_boxes order: corners sorted by x; of the two leftmost the upper is top-left,
 * of the two rightmost the upper is top-right.
 */
export function orderedBox(rect: RotatedRect): { quad: Quad; shortSide: number } {
  const byX = [...rect.corners].sort((a, b) => a[0] - b[0]);
  const [l1, l2, r1, r2] = byX as [Point, Point, Point, Point];
  const [tl, bl] = l1[1] <= l2[1] ? [l1, l2] : [l2, l1];
  const [tr, br] = r1[1] <= r2[1] ? [r1, r2] : [r2, r1];
  return { quad: [tl, tr, br, bl], shortSide: Math.min(rect.width, rect.height) };
}

/**
 * The DB paper's unclip: the box grows by area × ratio / perimeter on every side. PaddleOCR
 * offsets the polygon with Clipper (round joins) and takes the minimum-area rectangle again; for a
 * rectangle that is exactly this rectangle grown by the distance, so no polygon library is needed.
 */
export function unclip(rect: RotatedRect, ratio: number): RotatedRect {
  const { width: w, height: h } = rect;
  const perimeter = 2 * (w + h);
  if (perimeter === 0) return rect;
  const d = (w * h * ratio) / perimeter;
  const [c0, c1, , c3] = rect.corners as [Point, Point, Point, Point];
  const ux = w > 0 ? (c1[0] - c0[0]) / w : 1;
  const uy = w > 0 ? (c1[1] - c0[1]) / w : 0;
  const vx = h > 0 ? (c3[0] - c0[0]) / h : -uy;
  const vy = h > 0 ? (c3[1] - c0[1]) / h : ux;
  const at = (u: number, v: number): Point => [c0[0] + u * ux + v * vx, c0[1] + u * uy + v * vy];
  return { corners: [at(-d, -d), at(w + d, -d), at(w + d, h + d), at(-d, h + d)], width: w + 2 * d, height: h + 2 * d };
}

export const distance = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** Whether (x, y) lies inside or on a convex quad given in order. */
export function insideQuad(q: Quad, x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const c = cross(q[i]!, q[(i + 1) % 4]!, [x, y]);
    if (c === 0) continue;
    const s = Math.sign(c);
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}
