/**
 * The one extractor of live facts, shared by a run (objects read from the cluster) and `render --live`
 * (objects from a file): what carries over, and when the webhook's live serving pair is kept.
 */
import { describe, expect, it } from '@jest/globals';
import { builtinApiVersions } from '../../../src/config/api-versions.js';
import { extractLiveFacts, PROMETHEUS_PVC, WEBHOOK_SECRET } from '../../../src/facts/live.js';
import { FileFactsSource } from '../../../src/facts/file.js';
import { createServingBundle, serviceDnsNames } from '../../../src/pki/index.js';
import type { KubeObject } from '../../../src/kube/client.js';

const NS = 'kubesphere-monitoring-system';
const obj = (kind: string, name: string, rest: Record<string, unknown> = {}, namespace = NS): KubeObject =>
  ({ apiVersion: 'v1', kind, metadata: { name, namespace }, ...rest }) as KubeObject;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secretOf = (pair: { caCert: string; tlsCert: string; tlsKey: string }) =>
  obj('Secret', WEBHOOK_SECRET, {
    data: { 'ca.crt': b64(pair.caCert), 'tls.crt': b64(pair.tlsCert), 'tls.key': b64(pair.tlsKey) },
  });

describe('extractLiveFacts', () => {
  it('carries over the Prometheus volume size, retention, nodeSelector and security context', () => {
    const { live } = extractLiveFacts([
      obj('PersistentVolumeClaim', PROMETHEUS_PVC, {
        spec: { resources: { requests: { storage: '50Gi' } } },
      }),
      obj('Prometheus', 'k8s', {
        spec: {
          retention: '15d',
          nodeSelector: { disk: 'ssd' },
          securityContext: { runAsUser: 0 },
          storage: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '40Gi' } } } } },
        },
      }),
      obj('Secret', 'kube-etcd-client-certs'),
    ]);
    expect(live).toEqual({
      etcdClientCertsSecret: true,
      prometheusPvcSize: '50Gi',
      prometheusRetention: '15d',
      prometheusNodeSelector: { disk: 'ssd' },
      prometheusSecurityContext: { runAsUser: 0 },
      prometheusStorageRequest: '40Gi',
    });
  });

  it('ignores an empty nodeSelector, objects of other namespaces, and gives {} for a Prometheus without a security context', () => {
    const { live } = extractLiveFacts([
      obj('Prometheus', 'k8s', { spec: { nodeSelector: {} } }),
      obj(
        'PersistentVolumeClaim',
        PROMETHEUS_PVC,
        { spec: { resources: { requests: { storage: '9Gi' } } } },
        'other',
      ),
    ]);
    expect(live).toEqual({ etcdClientCertsSecret: false, prometheusSecurityContext: {} });
  });

  it('keeps the live webhook pair only while it is usable for the webhook Service', async () => {
    const good = await createServingBundle({
      caCommonName: 'ca',
      commonName: 'notification-manager-webhook',
      dnsNames: serviceDnsNames('notification-manager-webhook', NS),
      days: 365,
    });
    expect(extractLiveFacts([secretOf(good)]).webhookTls).toEqual(good);
    const wrongName = await createServingBundle({
      caCommonName: 'ca',
      commonName: 'x',
      dnsNames: ['elsewhere.example'],
      days: 365,
    });
    expect(extractLiveFacts([secretOf(wrongName)]).webhookTls).toBeUndefined();
    const expiring = await createServingBundle({
      caCommonName: 'ca',
      commonName: 'notification-manager-webhook',
      dnsNames: serviceDnsNames('notification-manager-webhook', NS),
      days: 10,
    });
    expect(extractLiveFacts([secretOf(expiring)]).webhookTls).toBeUndefined();
  });
});

describe('served API versions from a Kubernetes version', () => {
  it('serves policy/v1 from 1.21 and policy/v1beta1 until 1.24', () => {
    expect(builtinApiVersions('v1.20.15')).toContain('policy/v1beta1');
    expect(builtinApiVersions('v1.20.15')).not.toContain('policy/v1');
    expect(builtinApiVersions('v1.21.0-eks.1')).toEqual(
      expect.arrayContaining(['policy/v1', 'policy/v1beta1']),
    );
    expect(builtinApiVersions('v1.34.4')).not.toContain('policy/v1beta1');
    expect(builtinApiVersions('latest')).toBeUndefined();
  });

  it('render adds the group versions given with --api-versions', async () => {
    const facts = await new FileFactsSource({
      nodeCount: 3,
      kubernetesVersion: 'v1.34.0',
      extraApiVersions: ['alerting.kubesphere.io/v2beta1'],
      liveObjects: [],
    }).gather();
    expect(facts.servedApiVersions).toEqual([
      'v1',
      'apps/v1',
      'rbac.authorization.k8s.io/v1',
      'policy/v1',
      'alerting.kubesphere.io/v2beta1',
    ]);
    expect(facts.webhookTls.caCert).toMatch(/BEGIN CERTIFICATE/);
  });
});
