/**
 * A new serving pair for the notification-manager webhook, used when no live one can be kept: a
 * throw-away CA and a certificate for the webhook Service's names. The Secret and every caBundle are
 * rendered from this one pair, so they always match.
 */
import { MONITORING_NAMESPACE } from '../config/values.js';
import type { WebhookTls } from './live.js';

/** Loads the certificate code (@peculiar/x509, reflect-metadata) only when a pair is issued. */
export async function issueWebhookTls(): Promise<WebhookTls> {
  const { createServingBundle, serviceDnsNames } = await import('../pki/certificates.js');
  return createServingBundle({
    caCommonName: 'notification-manager-webhook-ca',
    commonName: 'notification-manager-webhook',
    dnsNames: serviceDnsNames('notification-manager-webhook', MONITORING_NAMESPACE),
    days: 3650,
  });
}
