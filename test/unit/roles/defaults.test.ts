import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { projectRoot } from '../../../src/installer/manifests.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { findUnsafeOutputs } from '../../../src/render/safety.js';
import { expectGolden, renderRoleText, sampleSpec } from './golden.js';

const root = projectRoot();

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
        'app.kubernetes.io/managed-by': 'ks-installer',
      });
    }
  });

  it('prints every value through a safe serializer', () => {
    const dir = path.join(root, 'templates', 'defaults');
    const files = readdirSync(dir).filter((f) => f.endsWith('.njk'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect({ file, unsafe: findUnsafeOutputs(readFileSync(path.join(dir, file), 'utf8')) }).toEqual({
        file,
        unsafe: [],
      });
    }
  });
});
