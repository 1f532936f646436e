import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROLES } from '../../src/installer/catalog.js';
import { loadWatches, parseWatches } from '../../src/watches.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const watch = (extra: Record<string, string> = {}) => {
  const fields: Record<string, string> = {
    group: 'installer.kubesphere.io',
    version: 'v1alpha1',
    kind: 'ClusterConfiguration',
    namespace: 'kubesphere-system',
    name: 'ks-installer',
    jqFilter: '.spec',
    resync: "'*/5 * * * *'",
    roles: '[defaults, prometheus-stack]',
    ...extra,
  };
  return Object.entries(fields)
    .map(([k, v], i) => `${i === 0 ? '- ' : '  '}${k}: ${v}`)
    .join('\n');
};

describe('watches.yaml', () => {
  it('watches kubesphere-system/ks-installer spec changes, checks drift every five minutes and runs every role in order', async () => {
    const w = await loadWatches(ROOT);
    expect(w.target).toEqual({ namespace: 'kubesphere-system', name: 'ks-installer' });
    expect(w.jqFilter).toBe('.spec');
    expect(w.resync).toBe('*/5 * * * *');
    expect(w.roles).toEqual(ROLES);
    expect(w.owns.map((r) => `${r.group}/${r.version} ${r.kind} ${r.resource}`)).toEqual([
      '/v1 Service services',
      '/v1 ServiceAccount serviceaccounts',
      'apps/v1 Deployment deployments',
      'apps/v1 DaemonSet daemonsets',
    ]);
  });

  it('owns nothing when the file says nothing', () => {
    expect(parseWatches(watch()).owns).toEqual([]);
  });

  it('reads a subset of the roles in the order given', () => {
    expect(parseWatches(watch({ roles: '[node-exporter, defaults]' })).roles.map((r) => r.name)).toEqual([
      'node-exporter',
      'defaults',
    ]);
  });

  it.each([
    [{ kind: 'Pod' }, 'f: [0].kind: must be ClusterConfiguration'],
    [{ name: 'KS' }, 'f: [0].name: must be a lower-case DNS label, got "KS"'],
    [
      { jqFilter: "'.spec | del(.x)'" },
      'f: [0].jqFilter: only a plain dotted path such as ".spec" is supported',
    ],
    [
      { resync: "'61 * * * *'" },
      'f: [0].resync: crontab "61 * * * *": minute field: 61 is out of range 0-59',
    ],
    [
      { roles: '[defaults, kibana]' },
      'f: [0].roles[1]: unknown role "kibana" (known: metrics-server, defaults,',
    ],
    [{ roles: '[defaults, defaults]' }, 'f: [0].roles: role defaults is listed twice'],
    [{ role: '[defaults]' }, 'f: [0].role: unknown key'],
    [{ owns: 'services' }, 'f: [0].owns: must be a list of kinds such as'],
    [{ owns: '[{version: v1, kind: Service}]' }, 'f: [0].owns[0].resource: must be the plural resource'],
    [
      { owns: '[{version: v1, kind: service, resource: services}]' },
      'f: [0].owns[0].kind: must be a Kind such as Deployment, got "service"',
    ],
    [
      { owns: '[{group: apps, version: v1, kind: Deployment, resource: deployments, namespace: x}]' },
      'f: [0].owns[0].namespace: unknown key',
    ],
    [
      {
        owns: '[{version: v1, kind: Service, resource: services}, {version: v1, kind: Service, resource: services}]',
      },
      'f: [0].owns[1]: Service of group core is listed twice',
    ],
  ])('refuses %j naming the field', (extra, message) => {
    expect(() => parseWatches(watch(extra), 'f')).toThrow(message);
  });

  it('serves exactly one object', () => {
    expect(() => parseWatches(`${watch()}\n${watch()}`, 'f')).toThrow(/exactly one watch/);
  });
});
