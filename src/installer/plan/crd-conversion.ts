/**
 * The conversion webhook of CRDs whose versions an upstream operator converts itself (notification-manager's
 * configs and receivers, v2beta1 ↔ v2beta2). Their files in crds/ are generated and static, but the
 * stanza names the webhook's Service namespace and carries the CA of the webhook certificate, both known only
 * when a run is planned; this step sets `spec.conversion` on the loaded CRD objects from the resolved values.
 * The caBundle is the same value the webhook Secret's ca.crt and the ValidatingWebhookConfiguration are
 * rendered from (values.notificationManager.webhookTls, see webhook-tls.ts), so all three always agree.
 */
import type { MonitoringValues } from '../../config/values.js';
import type { KubeObject } from '../../kube/client.js';
import type { ConversionWebhook, ManifestSource } from '../model.js';

/**
 * notification-manager v2.3.0 serves /convert with controller-runtime v0.9.7, which decodes the review as
 * plain JSON and echoes the request's apiVersion, so a v1 ConversionReview (what API servers send) works.
 */
export const CONVERSION_REVIEW_VERSIONS = ['v1'] as const;

export function conversionStanza(
  webhook: ConversionWebhook,
  values: MonitoringValues,
): Record<string, unknown> {
  return {
    strategy: 'Webhook',
    webhook: {
      conversionReviewVersions: [...CONVERSION_REVIEW_VERSIONS],
      clientConfig: {
        caBundle: Buffer.from(values.notificationManager.webhookTls.caCert, 'utf8').toString('base64'),
        service: { name: webhook.service, namespace: values.namespace, path: webhook.path, port: 443 },
      },
    },
  };
}

/**
 * The CRDs with `spec.conversion` set on those the webhook converts; the others as they are. Returns new
 * objects: the loaded CRDs are cached for the process and shared between runs.
 */
export function withConversionWebhook(
  crds: readonly ManifestSource[],
  webhook: ConversionWebhook,
  values: MonitoringValues,
): ManifestSource[] {
  const missing = webhook.crds.filter((name) => !crds.some((m) => m.object.metadata.name === name));
  if (missing.length > 0)
    throw new Error(
      `conversion webhook for ${missing.join(', ')}: no such CustomResourceDefinition in crds/`,
    );
  const conversion = conversionStanza(webhook, values);
  return crds.map((m) => {
    if (!webhook.crds.includes(m.object.metadata.name)) return m;
    const spec = m.object.spec as Record<string, unknown>;
    const object: KubeObject = { ...m.object, spec: { ...spec, conversion } };
    return { source: m.source, object };
  });
}
