import { ownershipLabels } from '../../../src/config/ownership.js';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { KubeObject } from '../../../src/kube/client.js';
import { expectGolden, renderRoleText, sampleSpec, unsafeOutputsOf } from './golden.js';

describe('role defaults', () => {
  const text = renderRoleText('defaults', sampleSpec());
  const objects = yaml.loadAll(text) as KubeObject[];

  it('renders the sample spec as in the golden file', () => {
    expectGolden('defaults', text);
  });

  it('ensures both monitoring namespaces with the labels KubeSphere gives system namespaces', () => {
    expect(objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`)).toEqual([
      'v1 Namespace kubesphere-monitoring-system',
      'v1 Namespace kubesphere-monitoring-federated',
    ]);
    for (const ns of objects) {
      expect(ns.metadata.namespace).toBeUndefined();
      expect(ns.metadata.labels).toEqual({
        'kubesphere.io/workspace': 'system-workspace',
        'kubesphere.io/namespace': ns.metadata.name,
        ...ownershipLabels('defaults'),
      });
    }
  });

  it('prints every value through a safe serializer', () => {
    const templates = unsafeOutputsOf('defaults');
    expect(templates.length).toBeGreaterThan(0);
    expect(templates.filter((t) => t.unsafe.length > 0)).toEqual([]);
  });
});
