import { describe, expect, it } from '@jest/globals';
import type { FieldProblem } from '../../../src/config/validate.js';
import { ConfigError, validateSpec } from '../../../src/config/validate.js';

/** Builds a spec with `value` at the dotted `path`. */
function specWith(path: string, value: unknown, base: Record<string, unknown> = {}): Record<string, unknown> {
  const spec = structuredClone(base);
  const segments = path.split('.');
  let current: Record<string, unknown> = spec;
  for (const segment of segments.slice(0, -1)) {
    current[segment] ??= {};
    current = current[segment] as Record<string, unknown>;
  }
  current[segments[segments.length - 1] as string] = value;
  return spec;
}

function fields(problems: FieldProblem[]): string[] {
  return problems.map((p) => p.field);
}

function only(problems: FieldProblem[]): FieldProblem {
  expect(problems).toHaveLength(1);
  return problems[0] as FieldProblem;
}

describe('validateSpec', () => {
  it('accepts an empty spec and the sample spec', () => {
    expect(validateSpec({})).toEqual([]);
    expect(validateSpec(undefined)).toEqual([]);
    const sample = {
      persistence: { storageClass: '' },
      common: {
        monitoring: { endpoint: 'http://prometheus-operated.kubesphere-monitoring-system.svc:9090' },
      },
      etcd: { monitoring: false, endpointIps: 'localhost', port: 2379, tlsEnable: true },
      monitoring: {
        storageClass: '',
        node_exporter: { port: 9100 },
        gpu: { nvidia_dcgm_exporter: { enabled: false } },
      },
      local_registry: '',
    };
    expect(validateSpec(sample)).toEqual([]);
  });

  it('rejects a spec that is not a mapping', () => {
    expect(fields(validateSpec('x'))).toEqual(['spec']);
  });

  it('reports a parent that is not a mapping once', () => {
    const problems = validateSpec({ monitoring: { prometheus: 'big' } });
    expect(fields(problems)).toEqual(['spec.monitoring.prometheus']);
    expect(problems[0]?.message).toContain('"big"');
  });

  describe('replicas', () => {
    const keys = [
      'monitoring.prometheus.replicas',
      'monitoring.prometheusReplicas',
      'monitoring.alertmanager.replicas',
      'monitoring.alertmanagerReplicas',
      'monitoring.notification_manager.replicas',
    ];
    it.each(keys)('%s must be a non-negative integer', (key) => {
      for (const bad of [-1, 1.5, 'two', true, [2]]) {
        const problem = only(validateSpec(specWith(key, bad)));
        expect(problem.field).toBe(`spec.${key}`);
        expect(problem.message).toContain(`spec.${key}`);
        expect(problem.message).toContain(JSON.stringify(bad));
        expect(problem.fix).toMatch(/whole number/);
      }
      for (const good of [0, 1, 3, '2', null]) expect(validateSpec(specWith(key, good))).toEqual([]);
    });
  });

  describe('storage and retention', () => {
    it.each(['monitoring.prometheus.volumeSize', 'monitoring.prometheusVolumeSize'])(
      '%s must be a positive quantity',
      (key) => {
        for (const bad of ['20GB', 'lots', '0', -5, {}]) {
          expect(fields(validateSpec(specWith(key, bad)))).toEqual([`spec.${key}`]);
        }
        for (const good of ['20Gi', '1.5Ti', '500G', 1e11, '', null])
          expect(validateSpec(specWith(key, good))).toEqual([]);
      },
    );

    it('monitoring.prometheus.retention must be a Prometheus duration', () => {
      for (const bad of ['7 days', '1d7w', '7D', 7, '-1d']) {
        const problem = only(validateSpec(specWith('monitoring.prometheus.retention', bad)));
        expect(problem.field).toBe('spec.monitoring.prometheus.retention');
        expect(problem.fix).toContain('7d');
      }
      for (const good of ['7d', '12h', '1w', '30d12h', '1y2w', '90m', '0', null, '']) {
        expect(validateSpec(specWith('monitoring.prometheus.retention', good))).toEqual([]);
      }
    });

    it.each(['monitoring.storageClass', 'persistence.storageClass'])(
      '%s is a StorageClass name, null or ""',
      (key) => {
        for (const bad of [5, 'Fast SSD', {}])
          expect(fields(validateSpec(specWith(key, bad)))).toEqual([`spec.${key}`]);
        for (const good of ['local-path', 'csi.example.com', '', null])
          expect(validateSpec(specWith(key, good))).toEqual([]);
      },
    );
  });

  describe('resources', () => {
    const bases = [
      'monitoring.prometheus',
      'monitoring.prometheus.operator',
      'monitoring.kube_rbac_proxy',
      'monitoring.kube_state_metrics',
      'monitoring.node_exporter',
      'monitoring.alertmanager',
      'monitoring.notification_manager',
      'monitoring.notification_manager.operator',
      'monitoring.notification_manager.proxy',
    ];
    it.each(bases)('%s resources in both forms must be quantities', (base) => {
      for (const key of [
        `${base}.resources.limits.cpu`,
        `${base}.resources.requests.memory`,
        `${base}.limits.memory`,
        `${base}.requests.cpu`,
      ]) {
        const problem = only(validateSpec(specWith(key, '1 core')));
        expect(problem.field).toBe(`spec.${key}`);
        expect(problem.message).toContain('"1 core"');
        expect(validateSpec(specWith(key, 2))).toEqual([]);
        expect(validateSpec(specWith(key, '250m'))).toEqual([]);
        expect(validateSpec(specWith(key, null))).toEqual([]);
      }
      expect(fields(validateSpec(specWith(`${base}.resources.limits`, 'lots')))).toEqual([
        `spec.${base}.resources.limits`,
      ]);
      expect(fields(validateSpec(specWith(`${base}.requests`, [1])))).toEqual([`spec.${base}.requests`]);
    });
  });

  describe('placement', () => {
    it.each(['monitoring.nodeSelector', 'nodeSelector'])('%s is a map of strings', (key) => {
      expect(fields(validateSpec(specWith(key, ['a'])))).toEqual([`spec.${key}`]);
      expect(fields(validateSpec(specWith(key, { role: 'monitoring', gpu: true })))).toEqual([
        `spec.${key}["gpu"]`,
      ]);
      expect(validateSpec(specWith(key, {}))).toEqual([]);
      expect(validateSpec(specWith(key, { 'kubernetes.io/os': 'linux' }))).toEqual([]);
    });

    it.each(['monitoring.tolerations', 'tolerations'])('%s is a list of tolerations', (key) => {
      expect(fields(validateSpec(specWith(key, { key: 'a' })))).toEqual([`spec.${key}`]);
      expect(fields(validateSpec(specWith(key, ['a'])))).toEqual([`spec.${key}[0]`]);
      const bad = [
        { key: 'a', operator: 'Equal', value: 'b', effect: 'NoSchedule' },
        { key: 'b', operator: 'Is', effect: 'Never' },
        { operator: 'Exists', value: 'x', tolerationSeconds: 1.5 },
      ];
      expect(fields(validateSpec(specWith(key, bad)))).toEqual([
        `spec.${key}[1].operator`,
        `spec.${key}[1].effect`,
        `spec.${key}[2].value`,
        `spec.${key}[2].tolerationSeconds`,
      ]);
      expect(validateSpec(specWith(key, []))).toEqual([]);
      expect(validateSpec(specWith(key, [{ operator: 'Exists' }]))).toEqual([]);
    });

    it.each(['monitoring.affinity', 'affinity'])('%s is an affinity mapping', (key) => {
      expect(fields(validateSpec(specWith(key, 'spread')))).toEqual([`spec.${key}`]);
      expect(fields(validateSpec(specWith(key, { podAntiAfinity: {} })))).toEqual([
        `spec.${key}.podAntiAfinity`,
      ]);
      expect(fields(validateSpec(specWith(key, { nodeAffinity: [] })))).toEqual([`spec.${key}.nodeAffinity`]);
      expect(validateSpec(specWith(key, {}))).toEqual([]);
      expect(
        validateSpec(
          specWith(key, { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } }),
        ),
      ).toEqual([]);
    });
  });

  it('monitoring.node_exporter.port is 1-65535', () => {
    for (const bad of [0, 65536, 'http', 91.5]) {
      expect(fields(validateSpec(specWith('monitoring.node_exporter.port', bad)))).toEqual([
        'spec.monitoring.node_exporter.port',
      ]);
    }
    expect(validateSpec(specWith('monitoring.node_exporter.port', 9101))).toEqual([]);
    expect(validateSpec(specWith('monitoring.node_exporter.port', '9101'))).toEqual([]);
  });

  describe('etcd', () => {
    it.each(['etcd.monitoring', 'etcd.tlsEnable'])('%s is a boolean', (key) => {
      expect(fields(validateSpec(specWith(key, 'true')))).toEqual([`spec.${key}`]);
      expect(fields(validateSpec(specWith(key, 1)))).toEqual([`spec.${key}`]);
      expect(validateSpec(specWith(key, false))).toEqual([]);
    });

    it('etcd.port is a port', () => {
      expect(fields(validateSpec(specWith('etcd.port', 70000)))).toEqual(['spec.etcd.port']);
      expect(validateSpec(specWith('etcd.port', 2379))).toEqual([]);
    });

    it('etcd.endpointIps must be node IPs when etcd.monitoring is true', () => {
      const on = (endpointIps: unknown) => validateSpec({ etcd: { monitoring: true, endpointIps } });
      const localhost = only(on('localhost'));
      expect(localhost.field).toBe('spec.etcd.endpointIps');
      expect(localhost.message).toBe('spec.etcd.endpointIps: "localhost" is not an IPv4 or IPv6 address.');
      expect(localhost.fix).toMatch(/node IPs/);
      expect(localhost.fix).toMatch(/localhost/);
      expect(only(on('10.0.0.1,127.0.0.1')).message).toMatch(/127\.0\.0\.1.*loopback/);
      expect(only(on('::1')).message).toMatch(/loopback/);
      expect(only(on('169.254.1.1')).message).toMatch(/link-local/);
      expect(only(on('fe80::1')).message).toMatch(/link-local/);
      expect(only(on('0.0.0.0')).message).toMatch(/unspecified/);
      expect(fields(on('10.0.0.1,10.0.0.300'))).toEqual(['spec.etcd.endpointIps']);
      expect(fields(on(''))).toEqual(['spec.etcd.endpointIps']);
      expect(fields(on(undefined))).toEqual(['spec.etcd.endpointIps']);
      expect(fields(on(42))).toEqual(['spec.etcd.endpointIps']);
      expect(on('192.168.0.2, 192.168.0.3,2001:db8::1')).toEqual([]);
      expect(on(['192.168.0.2', '192.168.0.3'])).toEqual([]);
    });

    it('etcd.endpointIps is not checked while etcd.monitoring is off', () => {
      expect(validateSpec({ etcd: { monitoring: false, endpointIps: 'localhost' } })).toEqual([]);
      expect(validateSpec({ etcd: { endpointIps: 'localhost' } })).toEqual([]);
    });
  });

  it('common.monitoring.type is a string', () => {
    expect(fields(validateSpec(specWith('common.monitoring.type', true)))).toEqual([
      'spec.common.monitoring.type',
    ]);
    expect(validateSpec(specWith('common.monitoring.type', 'external'))).toEqual([]);
  });

  describe('registry and images', () => {
    it.each(['local_registry', 'zone', 'namespace_override'])('%s is a string', (key) => {
      expect(fields(validateSpec({ [key]: 5 }))).toEqual([`spec.${key}`]);
      expect(validateSpec({ [key]: null })).toEqual([]);
    });

    it('local_registry has no scheme and namespace_override is a plain namespace', () => {
      expect(only(validateSpec({ local_registry: 'http://registry:5000' })).fix).toMatch(/without http/);
      expect(validateSpec({ local_registry: 'registry.example.com:5000' })).toEqual([]);
      expect(fields(validateSpec({ namespace_override: 'my org' }))).toEqual(['spec.namespace_override']);
    });

    it('image overrides are a repository without tag and a quoted tag', () => {
      expect(fields(validateSpec({ prometheus_repo: 'reg/prom/prometheus:v1' }))).toEqual([
        'spec.prometheus_repo',
      ]);
      expect(fields(validateSpec({ node_exporter_repo: 'reg/x@sha256:abc' }))).toEqual([
        'spec.node_exporter_repo',
      ]);
      expect(fields(validateSpec({ alertmanager_tag: 0.23 }))).toEqual(['spec.alertmanager_tag']);
      expect(fields(validateSpec({ alertmanager_tag: 'v 1' }))).toEqual(['spec.alertmanager_tag']);
      expect(
        validateSpec({ prometheus_repo: 'reg:5000/prom/prometheus', prometheus_tag: 'v2.40.0' }),
      ).toEqual([]);
    });
  });

  describe('what the API server would refuse', () => {
    it('nodeSelector label keys and values are checked as the API server checks labels', () => {
      const problem = only(validateSpec({ monitoring: { nodeSelector: { role: 'a\nb' } } }));
      expect(problem.field).toBe('spec.monitoring.nodeSelector["role"]');
      expect(problem.message).toMatch(/is not a label value/);
      expect(problem.fix).toMatch(/null/);
      expect(fields(validateSpec({ nodeSelector: { role: 'x'.repeat(64) } }))).toEqual([
        'spec.nodeSelector["role"]',
      ]);
      expect(fields(validateSpec({ nodeSelector: { 'a/b/c': 'x' } }))).toEqual([
        'spec.nodeSelector["a/b/c"]',
      ]);
      expect(fields(validateSpec({ nodeSelector: { 'Bad_Prefix/x': 'x' } }))).toEqual([
        'spec.nodeSelector["Bad_Prefix/x"]',
      ]);
      expect(
        validateSpec({
          nodeSelector: { 'node-role.kubernetes.io/monitoring': '', 'kubernetes.io/os': 'linux' },
        }),
      ).toEqual([]);
    });

    it('toleration keys and values are label keys and values', () => {
      expect(fields(validateSpec({ tolerations: [{ key: 'a b', operator: 'Exists' }] }))).toEqual([
        'spec.tolerations[0].key',
      ]);
      expect(fields(validateSpec({ tolerations: [{ key: 'k', operator: 'Equal', value: 'a\nb' }] }))).toEqual(
        ['spec.tolerations[0].value'],
      );
      expect(validateSpec({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'mon' }] })).toEqual(
        [],
      );
    });

    it('registry names and image repositories have the shape and length of an image reference', () => {
      const long = only(validateSpec({ local_registry: `r${'e'.repeat(1024 * 1024)}.example.com` }));
      expect(long.field).toBe('spec.local_registry');
      expect(long.message).toMatch(/longer than 200 characters/);
      expect(fields(validateSpec({ local_registry: 'registry_example' }))).toEqual(['spec.local_registry']);
      expect(validateSpec({ local_registry: 'registry.example.com/' })).toEqual([]);
      expect(validateSpec({ local_registry: 'reg.example.com:5000/mirror' })).toEqual([]);
      expect(fields(validateSpec({ namespace_override: 'Mine' }))).toEqual(['spec.namespace_override']);
      expect(fields(validateSpec({ prometheus_repo: `r/${'p'.repeat(200)}` }))).toEqual([
        'spec.prometheus_repo',
      ]);
    });

    it('common.monitoring.type is external or internal; a typo is refused, naming the field', () => {
      const problem = only(validateSpec(specWith('common.monitoring.type', 'externel')));
      expect(problem.field).toBe('spec.common.monitoring.type');
      expect(problem.message).toMatch(/is not a monitoring type \(external or internal\)/);
      expect(validateSpec(specWith('common.monitoring.type', 'internal'))).toEqual([]);
      expect(validateSpec(specWith('common.monitoring.type', ''))).toEqual([]);
    });
  });

  it('never prints the value of a key that looks secret', () => {
    const problem = only(validateSpec({ tolerations: [{ key: 'a', operator: 'Exists', value: 'hunter2' }] }));
    expect(problem.message).toContain('hunter2');
    const secret = only(validateSpec({ nodeSelector: { api_token: 12345 } }));
    expect(secret.message).not.toContain('12345');
    expect(secret.message).toContain('<redacted>');
  });

  it('collects every problem at once and ConfigError lists them', () => {
    const problems = validateSpec({
      monitoring: { prometheus: { replicas: -1, volumeSize: 'big' }, node_exporter: { port: 0 } },
    });
    expect(fields(problems)).toEqual([
      'spec.monitoring.prometheus.replicas',
      'spec.monitoring.prometheus.volumeSize',
      'spec.monitoring.node_exporter.port',
    ]);
    const error = new ConfigError(problems);
    expect(error.problems).toBe(problems);
    expect(error.message).toContain('3 problems');
    for (const problem of problems) expect(error.message).toContain(problem.message);
  });
});
