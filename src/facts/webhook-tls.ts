/**
 * A new serving pair for the notification-manager webhook, used when no live one can be kept: a
 * throw-away CA and a certificate for the webhook Service's names. The Secret and every caBundle are
 * rendered from this one pair, so they always match.
 */
import { MONITORING_NAMESPACE } from '../config/values.js';
import { createServingBundle, serviceDnsNames } from '../pki/index.js';
import type { WebhookTls } from './live.js';

export function issueWebhookTls(): Promise<WebhookTls> {
  return createServingBundle({
    caCommonName: 'notification-manager-webhook-ca',
    commonName: 'notification-manager-webhook',
    dnsNames: serviceDnsNames('notification-manager-webhook', MONITORING_NAMESPACE),
    days: 3650,
  });
}
