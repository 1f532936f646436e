import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { Schema } from './schema-walker.js';
import { nullsKept, schemaAt, structuralViolations, undeclaredLeaves, validate } from './schema-walker.js';

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
}

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: unknown;
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const root = new URL('../../../', import.meta.url);
const crd = yaml.load(
  readFileSync(new URL('crds/installer.kubesphere.io_clusterconfigurations.yaml', root), 'utf8'),
) as Crd;
const example = yaml.load(readFileSync(new URL('examples/cluster-configuration.yaml', root), 'utf8')) as {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
};
const version = crd.spec.versions[0]!;
const schema = version.schema.openAPIV3Schema;

function at(path: string): Schema {
  const found = schemaAt(schema, path);
  if (!found) throw new Error(`schema has no ${path}`);
  return found;
}

/** A deep copy of the example with each dotted path (below spec) set to its value. */
function exampleWith(changes: Record<string, unknown>): unknown {
  const copy = structuredClone(example);
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    let node = copy.spec;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return copy;
}

/** Every schema node that declares type object, with its path. */
function objectNodes(node: Schema, path: string): [string, Schema][] {
  const own: [string, Schema][] = node.type === 'object' ? [[path, node]] : [];
  const props = Object.entries(node.properties ?? {}).flatMap(([k, s]) => objectNodes(s, `${path}.${k}`));
  const items = node.items ? objectNodes(node.items, `${path}[*]`) : [];
  return [...own, ...props, ...items];
}

describe('ClusterConfiguration CRD', () => {
  it('declares the original names, group, scope and a single served storage version', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.metadata.name).toBe('clusterconfigurations.installer.kubesphere.io');
    expect(crd.spec.group).toBe('installer.kubesphere.io');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({
      kind: 'ClusterConfiguration',
      plural: 'clusterconfigurations',
      singular: 'clusterconfiguration',
      shortNames: ['cc'],
    });
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true });
  });

  it('has no status subresource and keeps unknown fields in spec and status', () => {
    expect(version.subresources).toBeUndefined();
    expect(at('spec')['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(at('status')['x-kubernetes-preserve-unknown-fields']).toBe(true);
  });

  it('is a structural schema wherever it declares types', () => {
    expect(structuralViolations(schema)).toEqual([]);
  });

  it('keeps unknown fields in every typed object below spec and status', () => {
    const nodes = [...objectNodes(at('spec'), 'spec'), ...objectNodes(at('status'), 'status')];
    expect(nodes.length).toBeGreaterThan(40);
    const closed = nodes
      .filter(([, s]) => s['x-kubernetes-preserve-unknown-fields'] !== true && !s.additionalProperties)
      .map(([p]) => p);
    expect(closed).toEqual([]);
  });

  it('types the keys the monitoring module reads', () => {
    const intOrString = [
      'spec.monitoring.prometheusVolumeSize',
      'spec.monitoring.prometheus.volumeSize',
      'spec.monitoring.prometheus.requests.memory',
      'spec.monitoring.kube_state_metrics.limits.memory',
      'spec.alerting.thanosruler.resources.limits.memory',
    ];
    for (const path of intOrString) {
      expect([path, at(path)['x-kubernetes-int-or-string'], at(path).type]).toEqual([path, true, undefined]);
    }
    // CPU also takes a plain number such as 0.5, as the original did: any value, checked by the operator.
    const anyValue = [
      'spec.monitoring.prometheus.resources.limits.cpu',
      'spec.monitoring.prometheus.operator.resources.requests.cpu',
      'spec.monitoring.notification_manager.proxy.resources.limits.cpu',
    ];
    for (const path of anyValue) {
      expect([path, at(path)['x-kubernetes-preserve-unknown-fields'], at(path).type]).toEqual([
        path,
        true,
        undefined,
      ]);
    }
    const integers: [string, number][] = [
      ['spec.monitoring.prometheus.replicas', 0],
      ['spec.monitoring.prometheusReplicas', 0],
      ['spec.monitoring.alertmanager.replicas', 0],
      ['spec.monitoring.node_exporter.port', 1],
      ['spec.etcd.port', 1],
    ];
    for (const [path, minimum] of integers) {
      expect([path, at(path).type, at(path).minimum]).toEqual([path, 'integer', minimum]);
    }
    for (const path of [
      'spec.etcd.monitoring',
      'spec.etcd.tlsEnable',
      'spec.monitoring.grafana.enabled',
      'spec.metrics_server.enabled',
    ]) {
      expect([path, at(path).type]).toEqual([path, 'boolean']);
    }
    for (const path of [
      'spec.monitoring.storageClass',
      'spec.persistence.storageClass',
      'spec.local_registry',
      'spec.zone',
      'spec.namespace_override',
    ]) {
      expect([path, at(path).type, at(path).nullable]).toEqual([path, 'string', true]);
    }
    expect(at('spec.etcd.endpointIps').type).toBe('string');
    expect(at('spec.common.monitoring.endpoint').type).toBe('string');
    for (const base of ['spec', 'spec.monitoring', 'spec.metrics_server']) {
      expect(at(`${base}.nodeSelector`).additionalProperties).toEqual({ type: 'string' });
      expect(at(`${base}.tolerations`).items?.['x-kubernetes-preserve-unknown-fields']).toBe(true);
      expect(at(`${base}.affinity`)).toMatchObject({
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
      });
    }
  });

  it('types the scale keys: shards, remoteWrite, additionalScrapeConfigs and monitoring.thanos', () => {
    expect(at('spec.monitoring.prometheus.shards')).toMatchObject({ type: 'integer', minimum: 1 });
    expect(at('spec.monitoring.prometheus.remoteWrite').type).toBe('array');
    expect(at('spec.monitoring.prometheus.remoteWrite').items?.required).toEqual(['url']);
    for (const ref of [
      'spec.monitoring.prometheus.additionalScrapeConfigs',
      'spec.monitoring.thanos.objectStorageConfig',
    ]) {
      expect([ref, at(`${ref}.name`).type, at(`${ref}.key`).type]).toEqual([ref, 'string', 'string']);
    }
    expect(at('spec.monitoring.thanos.enabled').type).toBe('boolean');
    for (const part of ['query', 'store', 'ruler']) {
      expect(at(`spec.monitoring.thanos.${part}.replicas`)).toMatchObject({ type: 'integer', minimum: 0 });
      expect(at(`spec.monitoring.thanos.${part}.resources.limits.memory`)['x-kubernetes-int-or-string']).toBe(
        true,
      );
    }
    expect(at('spec.monitoring.thanos.sidecar.resources.requests.memory')['x-kubernetes-int-or-string']).toBe(
      true,
    );
    const scaled = exampleWith({
      'monitoring.prometheus': {
        shards: 2,
        remoteWrite: [
          { url: 'http://receive.example/api/v1/receive', basicAuth: { password: { name: 'rw', key: 'p' } } },
        ],
        additionalScrapeConfigs: { name: 'extra', key: 'prometheus-additional.yaml' },
      },
      'monitoring.thanos': {
        enabled: true,
        objectStorageConfig: { name: 'thanos-objstore', key: 'objstore.yml' },
      },
    });
    expect(validate(schema, scaled)).toEqual([]);
    expect(validate(schema, exampleWith({ 'monitoring.prometheus': { shards: 0 } })).length).toBeGreaterThan(
      0,
    );
  });

  it('types the status the operator writes', () => {
    expect(at('status.monitoring.status').type).toBe('string');
    expect(at('status.monitoring.enabledTime').type).toBe('string');
    expect(at('status.metricsServer.status').type).toBe('string');
    expect(at('status.metricsServer.enabledTime').type).toBe('string');
    expect(at('status.progress').type).toBe('string');
    expect(at('status.observedSpecHash').type).toBe('string');
    const condition = at('status.conditions[*]');
    expect(Object.keys(condition.properties ?? {}).sort()).toEqual(
      ['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type'].sort(),
    );
    expect(at('status.conditions[*].observedGeneration').type).toBe('integer');
  });

  it('prints Monitoring, Progress, Ready and Age columns from declared fields', () => {
    const columns = version.additionalPrinterColumns;
    expect(columns.map((c) => c.name)).toEqual(['Monitoring', 'Progress', 'Ready', 'Age']);
    expect(columns.find((c) => c.name === 'Ready')?.jsonPath).toBe(
      '.status.conditions[?(@.type=="Ready")].status',
    );
    expect(columns.find((c) => c.name === 'Age')).toMatchObject({
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
    });
    for (const column of columns.filter((c) => c.jsonPath.startsWith('.status'))) {
      // `.status.conditions[?(...)].status` → `status.conditions[*].status`
      const path = column.jsonPath.slice(1).replace(/\[\?\(.*?\)\]/g, '[*]');
      expect([column.name, schemaAt(schema, path)?.type]).toEqual([column.name, 'string']);
    }
  });
});

describe('the sample ClusterConfiguration', () => {
  it('is kubesphere-system/ks-installer with the original sample values', () => {
    expect(example.metadata).toEqual({ name: 'ks-installer', namespace: 'kubesphere-system' });
    expect(Object.keys(example.spec)[0]).toBe('monitoring');
    expect(example.spec).toMatchObject({
      monitoring: { storageClass: '', node_exporter: { port: 9100 } },
      etcd: { monitoring: false, endpointIps: 'localhost', port: 2379, tlsEnable: true },
      common: {
        monitoring: { endpoint: 'http://prometheus-operated.kubesphere-monitoring-system.svc:9090' },
      },
      persistence: { storageClass: '' },
      local_registry: '',
    });
  });

  it('validates against the declared types', () => {
    expect(validate(schema, example)).toEqual([]);
  });

  it('uses only keys the schema types', () => {
    expect(undeclaredLeaves(at('spec'), example.spec, 'spec')).toEqual([]);
  });
});

describe('validation of edited specs', () => {
  it('reports a wrong type with its path', () => {
    const errors = validate(schema, exampleWith({ 'monitoring.prometheus': { replicas: 'two' } }));
    expect(errors).toEqual([
      { path: 'spec.monitoring.prometheus.replicas', message: 'must be of type integer, got string' },
    ]);
  });

  it('reports each kind of violation at its own path', () => {
    const errors = validate(
      schema,
      exampleWith({
        'monitoring.node_exporter.port': 0,
        'monitoring.prometheus': { resources: { limits: { cpu: 0.5, memory: '16 GB' } } },
        'etcd.tlsEnable': 'yes',
        'etcd.port': 70000,
        nodeSelector: { 'kubernetes.io/os': 'linux', dedicated: true },
        tolerations: [{ key: 'dedicated', tolerationSeconds: 'ten' }],
        'monitoring.gpu': null,
      }),
    ).map((e) => e.path);
    expect(errors.sort()).toEqual(
      [
        'spec.etcd.port',
        'spec.etcd.tlsEnable',
        'spec.monitoring.node_exporter.port',
        'spec.monitoring.prometheus.resources.limits.memory',
        'spec.nodeSelector.dedicated',
        'spec.tolerations[0].tolerationSeconds',
      ].sort(),
    );
  });

  it('accepts a fully populated spec, nulls where the original allows them, and unknown keys', () => {
    const resources = { limits: { cpu: '1', memory: '100Mi' }, requests: { cpu: 10, memory: '1e3' } };
    const placement = {
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { anything: ['goes'] } },
    };
    const cc = {
      apiVersion: 'installer.kubesphere.io/v1alpha1',
      kind: 'ClusterConfiguration',
      metadata: { name: 'ks-installer', namespace: 'kubesphere-system' },
      spec: {
        ...placement,
        monitoring: {
          ...placement,
          storageClass: null,
          prometheusReplicas: 2,
          prometheusVolumeSize: '20Gi',
          alertmanagerReplicas: 3,
          prometheus: {
            replicas: 2,
            volumeSize: 21474836480,
            resources,
            ...resources,
            operator: { resources },
          },
          alertmanager: { replicas: 1, resources, ...resources },
          node_exporter: { port: 9101, resources, ...resources },
          kube_rbac_proxy: { resources, ...resources },
          kube_state_metrics: { resources: null, ...resources },
          notification_manager: { resources, operator: { resources }, proxy: { resources } },
          grafana: { enabled: true },
          gpu: { nvidia_dcgm_exporter: { enabled: false, resources } },
          someFutureKey: { x: 1 },
        },
        etcd: { monitoring: true, endpointIps: '10.0.0.1,10.0.0.2', port: 2379, tlsEnable: false },
        common: { monitoring: { type: 'external', endpoint: 'http://prom:9090' }, redis: { enabled: false } },
        persistence: { storageClass: 'fast' },
        alerting: { enabled: true, thanosruler: { replicas: 1, resources } },
        local_registry: null,
        zone: 'cn',
        namespace_override: '',
        devops: { enabled: false },
      },
      status: {
        monitoring: { status: 'enabled', enabledTime: '2024-05-01T10:20:30CST' },
        core: { version: 'master' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Installed',
            message: 'every role applied',
            lastTransitionTime: '2024-05-01T10:20:30Z',
            observedGeneration: 3,
          },
        ],
        progress: '7/7 done',
        observedSpecHash: 'abc123',
      },
    };
    expect(validate(schema, cc)).toEqual([]);
  });

  it('keeps the nulls the original treats as unset and lets the API server drop the others', () => {
    const spec = {
      monitoring: {
        storageClass: null,
        nodeSelector: null,
        tolerations: null,
        gpu: null,
        prometheus: { replicas: null, resources: null },
      },
      etcd: { monitoring: null },
      persistence: { storageClass: null },
      local_registry: null,
      zone: null,
      devops: null,
    };
    expect(validate(at('spec'), spec, 'spec')).toEqual([]);
    expect(nullsKept(at('spec'), spec, 'spec').sort()).toEqual(
      [
        'spec.devops',
        'spec.local_registry',
        'spec.monitoring.gpu',
        'spec.monitoring.nodeSelector',
        'spec.monitoring.prometheus.resources',
        'spec.monitoring.storageClass',
        'spec.monitoring.tolerations',
        'spec.persistence.storageClass',
        'spec.zone',
      ].sort(),
    );
  });

  it('checks condition status values and required condition keys', () => {
    const status = { conditions: [{ type: 'Ready', status: 'Yes' }, { status: 'True' }] };
    expect(validate(at('status'), status, 'status')).toEqual([
      { path: 'status.conditions[0].status', message: 'must be one of "True", "False", "Unknown"' },
      { path: 'status.conditions[1].type', message: 'is required' },
    ]);
  });
});
