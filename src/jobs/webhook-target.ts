import { parseHttpUrl, resolvePublicTarget, type LookupAll, type PublicTarget } from '../net/public-target.js';

export { isNonPublicAddress, type LookupAddress, type LookupAll } from '../net/public-target.js';

/** A webhook URL with the one address it was checked against; delivery connects to that address. */
export type WebhookTarget = PublicTarget;

export const parseWebhookUrl = (raw: string): URL => parseHttpUrl(raw, 'webhookUrl');

/** The webhook URL's host checked to be public (WEBHOOK_ALLOW_PRIVATE lifts that). */
export function resolveWebhookTarget(raw: string, opts: { allowPrivate: boolean; lookup?: LookupAll }): Promise<WebhookTarget> {
  return resolvePublicTarget(raw, { ...opts, field: 'webhookUrl', allowVariable: 'WEBHOOK_ALLOW_PRIVATE' });
}
