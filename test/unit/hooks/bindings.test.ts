import { describe, expect, it } from '@jest/globals';
import {
  BindingConfigError,
  isPlainJqPath,
  parseHookConfig,
  selectByJqPath,
} from '../../../src/hooks/bindings.js';

/** The BindingConfigError thrown by `fn`, for asserting on its file and field. */
function errorOf(fn: () => unknown): BindingConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BindingConfigError) return err;
    throw err;
  }
  throw new Error('expected a BindingConfigError');
}

describe('parseHookConfig', () => {
  it('reads a v1 config with every binding kind', () => {
    const config = parseHookConfig(
      [
        'configVersion: v1',
        'onStartup: 10',
        'afterInstall: true',
        'kubernetes:',
        '- kind: ClusterConfiguration',
        '  executeHookOnEvent: [Modified]',
        '  executeHookOnSynchronization: false',
        '  jqFilter: .spec.monitoring',
        '  queue: main',
        'schedule:',
        '- name: nightly',
        '  crontab: "0 3 * * *"',
        '  allowFailure: true',
        '- crontab: "@every 10m"',
      ].join('\n'),
      'hook.sh',
    );
    expect(config).toEqual({
      configVersion: 'v1',
      onStartup: 10,
      afterInstall: true,
      kubernetes: [
        {
          name: 'ClusterConfiguration',
          kind: 'ClusterConfiguration',
          executeHookOnEvent: ['Modified'],
          executeHookOnSynchronization: false,
          jqFilter: '.spec.monitoring',
          allowFailure: false,
        },
      ],
      schedule: [
        { name: 'nightly', crontab: '0 3 * * *', allowFailure: true },
        { name: '@every 10m', crontab: '@every 10m', allowFailure: false },
      ],
    });
  });

  it('reads JSON, as printed by hooks that emit JSON', () => {
    const config = parseHookConfig(
      '{"configVersion":"v1","schedule":[{"name":"s","crontab":"@daily"}]}',
      'h',
    );
    expect(config.schedule).toEqual([{ name: 's', crontab: '@daily', allowFailure: false }]);
    expect(config.kubernetes).toEqual([]);
    expect(config.afterInstall).toBe(false);
  });

  it('normalises the v0 form of the original installer', () => {
    const config = parseHookConfig(
      JSON.stringify({
        onKubernetesEvent: [
          {
            name: 'Monitor clusterconfiguration',
            kind: 'ClusterConfiguration',
            event: ['add', 'update'],
            objectName: 'ks-installer',
            namespaceSelector: { matchNames: ['kubesphere-system'] },
            jqFilter: '.spec',
            allowFailure: false,
          },
        ],
        schedule: [{ name: 'every month', crontab: '0 0 1 * *', allowFailure: true }],
      }),
      'installRunner.py',
    );
    expect(config).toEqual({
      configVersion: 'v0',
      afterInstall: false,
      kubernetes: [
        {
          name: 'Monitor clusterconfiguration',
          kind: 'ClusterConfiguration',
          executeHookOnEvent: ['Added', 'Modified'],
          executeHookOnSynchronization: true,
          nameSelector: { matchNames: ['ks-installer'] },
          namespace: { nameSelector: { matchNames: ['kubesphere-system'] } },
          jqFilter: '.spec',
          allowFailure: false,
        },
      ],
      schedule: [{ name: 'every month', crontab: '0 0 1 * *', allowFailure: true }],
    });
  });

  it('defaults v0 events to add, update and delete and accepts namespaceSelector any', () => {
    const config = parseHookConfig('onKubernetesEvent:\n- kind: cc\n  namespaceSelector: {any: true}\n', 'h');
    expect(config.kubernetes[0]?.executeHookOnEvent).toEqual(['Added', 'Modified', 'Deleted']);
    expect(config.kubernetes[0]?.namespace).toBeUndefined();
  });

  it.each([
    ['configVersion: v2\n', 'configVersion', /must be "v1"/],
    [
      'configVersion: v1\nkubernetes:\n- kind: ClusterConfiguration\n  jqFilter: ".spec | keys"\n',
      'kubernetes[0].jqFilter',
      /plain dotted path/,
    ],
    ['configVersion: v1\nkubernetes:\n- apiVersion: v1\n', 'kubernetes[0].kind', /is required/],
    [
      'configVersion: v1\nkubernetes:\n- kind: cc\n  executeHookOnEvent: [Created]\n',
      'kubernetes[0].executeHookOnEvent[0]',
      /Added, Modified, Deleted/,
    ],
    [
      'configVersion: v1\nkubernetes:\n- kind: cc\n  labelSelector: {matchLabels: {a: b}}\n',
      'kubernetes[0].labelSelector',
      /not supported/,
    ],
    [
      'configVersion: v1\nkubernetes:\n- kind: cc\n  nameSelector: {matchNames: []}\n',
      'kubernetes[0].nameSelector.matchNames',
      /at least one/,
    ],
    [
      'configVersion: v1\nschedule:\n- name: x\n  crontab: "61 * * * *"\n',
      'schedule[0].crontab',
      /minute field: 61 is out of range 0-59/,
    ],
    [
      'configVersion: v1\nschedule:\n- name: x\n  crontab: "0 0 30 2 *"\n',
      'schedule[0].crontab',
      /never fires/,
    ],
    [
      'configVersion: v1\nschedule:\n- name: x\n  crontab: "* * *"\n',
      'schedule[0].crontab',
      /expected 5 fields/,
    ],
    [
      'configVersion: v1\nschedule:\n- crontab: "@hourly"\n  allowFailure: "yes"\n',
      'schedule[0].allowFailure',
      /true or false/,
    ],
    ['configVersion: v1\nschedule: {name: x}\n', 'schedule', /must be a list/],
    ['configVersion: v1\nschedules: []\n', 'schedules', /unknown field/],
    ['configVersion: v1\nkubernetesValidating: []\n', 'kubernetesValidating', /not supported/],
    ['configVersion: v1\nonStartup: first\n', 'onStartup', /must be a number/],
    ['kubernetes: []\n', 'kubernetes', /needs configVersion: v1/],
    [
      'onKubernetesEvent:\n- kind: cc\n  event: [added]\n',
      'onKubernetesEvent[0].event[0]',
      /add, update, delete/,
    ],
    [
      'onKubernetesEvent:\n- kind: cc\n  selector: {matchLabels: {}}\n',
      'onKubernetesEvent[0].selector',
      /not supported/,
    ],
    ['- just a list\n', '(document)', /must be a mapping/],
    ['', '(document)', /is empty/],
    ['configVersion: v1\nschedule: [\n', '(document)', /not valid YAML/],
  ])('rejects %j naming the field', (text, field, reason) => {
    const err = errorOf(() => parseHookConfig(text, 'hooks/my-hook.sh'));
    expect(err.file).toBe('hooks/my-hook.sh');
    expect(err.field).toBe(field);
    expect(err.reason).toMatch(reason);
    expect(err.message.startsWith(`hooks/my-hook.sh: ${err.field}: `)).toBe(true);
  });
});

describe('jq paths', () => {
  const cc = {
    spec: { monitoring: { storageClass: '' }, etcd: null },
    status: { monitoring: { status: 'enabled' } },
  };

  it('selects plain dotted paths like jq', () => {
    expect(selectByJqPath(cc, '.spec')).toBe(cc.spec);
    expect(selectByJqPath(cc, '.spec.monitoring.storageClass')).toBe('');
    expect(selectByJqPath(cc, '.')).toBe(cc);
    expect(selectByJqPath(cc, ' .status.monitoring.status ')).toBe('enabled');
  });

  it('gives null for missing keys and for indexing null or scalars', () => {
    expect(selectByJqPath(cc, '.spec.alerting')).toBeNull();
    expect(selectByJqPath(cc, '.spec.etcd.port')).toBeNull();
    expect(selectByJqPath(cc, '.spec.monitoring.storageClass.x')).toBeNull();
    expect(selectByJqPath(undefined, '.spec')).toBeNull();
  });

  it('refuses anything that is not a plain path', () => {
    for (const filter of ['.spec | keys', '.spec[]', '.["spec"]', 'spec', '.spec.', '..', '{a: .spec}']) {
      expect([filter, isPlainJqPath(filter)]).toEqual([filter, false]);
    }
    expect(() => selectByJqPath(cc, '.spec | keys')).toThrow(/not a plain dotted path/);
  });
});
