import type { CropPlugin } from './crop-plugin.js';
import { FACE_MODELS, outputData, softmax } from './models.js';
import { UNIT } from './raster.js';

/** FER-2013 class order; on the fixtures the three smiling faces come out "happy" at ≥ 0.99. */
export const EXPRESSIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type Expression = (typeof EXPRESSIONS)[number];

export interface ExpressionResult {
  label: Expression;
  probability: number;
  scores: Record<Expression, number>;
}

/**
 * fr_expression: 224×224 RGB in 0..1 of the box grown 1.2× to the right and down from its top-left
 * corner (the reference's crop: it keeps the chin and mouth in view) → 7 logits.
 */
export const expressionPlugin: CropPlugin<ExpressionResult> = {
  model: FACE_MODELS.expression,
  crop(box, img) {
    const width = Math.min((box.x2 - box.x1) * 1.2, img.width - box.x1);
    const height = Math.min((box.y2 - box.y1) * 1.2, img.height - box.y1);
    return { x: box.x1, y: box.y1, width, height };
  },
  norm: UNIT,
  bgr: false,
  decode(outputs) {
    const p = softmax(outputData(outputs, 'output', FACE_MODELS.expression.id));
    let best = 0;
    for (let i = 1; i < EXPRESSIONS.length; i++) if ((p[i] ?? 0) > (p[best] ?? 0)) best = i;
    const scores = Object.fromEntries(EXPRESSIONS.map((e, i) => [e, Math.round((p[i] ?? 0) * 1000) / 1000]));
    return {
      label: EXPRESSIONS[best]!,
      probability: Math.round((p[best] ?? 0) * 1000) / 1000,
      scores: scores as Record<Expression, number>,
    };
  },
};
