/**
 * The notification-manager webhook's serving certificate: the live Secret is reused while it is a
 * valid pair for the webhook's name with at least 30 days left; otherwise a new CA and certificate
 * are issued. The Secret and every caBundle are then rendered from this one pair, so they always match.
 */
import { MONITORING_NAMESPACE } from '../config/values.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { createServingBundle, isUsableServingPair, serviceDnsNames } from '../pki/index.js';

export const WEBHOOK_SECRET = 'notification-manager-webhook-server-cert';
export const WEBHOOK_DNS_NAME = `notification-manager-webhook.${MONITORING_NAMESPACE}.svc`;

export interface WebhookTls {
  caCert: string;
  tlsCert: string;
  tlsKey: string;
}

const decode = (v: string | undefined) => (v ? Buffer.from(v, 'base64').toString('utf8') : '');

export async function webhookTls(client: KubeClient, namespace = MONITORING_NAMESPACE): Promise<WebhookTls> {
  const secret = await client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(
    `/api/v1/namespaces/${namespace}/secrets/${WEBHOOK_SECRET}`,
  );
  if (secret?.data) {
    const live = {
      caCert: decode(secret.data['ca.crt']),
      tlsCert: decode(secret.data['tls.crt']),
      tlsKey: decode(secret.data['tls.key']),
    };
    if (isUsableServingPair(live, WEBHOOK_DNS_NAME, 30)) return live;
  }
  return issueWebhookTls();
}

export function issueWebhookTls(): Promise<WebhookTls> {
  return createServingBundle({
    caCommonName: 'notification-manager-webhook-ca',
    commonName: 'notification-manager-webhook',
    dnsNames: serviceDnsNames('notification-manager-webhook', MONITORING_NAMESPACE),
    days: 3650,
  });
}
