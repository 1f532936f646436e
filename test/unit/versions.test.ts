import { describe, expect, it } from '@jest/globals';
import { kubernetesGoMod } from '../../tools/envtest/binaries.js';
import { ENVTEST_VERSIONS, stagingVersion } from '../../tools/envtest/versions.js';

describe('envtest versions', () => {
  it('maps a Kubernetes version to its staging module version', () => {
    expect(stagingVersion('v1.34.4')).toBe('v0.34.4');
    expect(() => stagingVersion('1.34')).toThrow(/v1\.<minor>\.<patch>/);
  });

  it('pins Kubernetes 1.31 or newer and etcd 3.5', () => {
    expect(Number(/^v1\.(\d+)\./.exec(ENVTEST_VERSIONS.kubernetes)?.[1])).toBeGreaterThanOrEqual(31);
    expect(ENVTEST_VERSIONS.etcd).toMatch(/^v3\.5\./);
  });

  it('replaces every staging module of k8s.io/kubernetes with its published version', () => {
    const upstream = [
      'module k8s.io/kubernetes',
      'go 1.24.0',
      'godebug default=go1.24',
      'replace (',
      '\tk8s.io/api => ./staging/src/k8s.io/api',
      '\tk8s.io/client-go => ./staging/src/k8s.io/client-go',
      ')',
    ].join('\n');
    const mod = kubernetesGoMod(upstream, 'v1.34.4');
    expect(mod).toContain('require k8s.io/kubernetes v1.34.4');
    expect(mod).toContain('\tk8s.io/api => k8s.io/api v0.34.4');
    expect(mod).toContain('\tk8s.io/client-go => k8s.io/client-go v0.34.4');
    expect(mod).toContain('godebug default=go1.24');
    expect(() => kubernetesGoMod('module x', 'v1.34.4')).toThrow(/no staging replace/);
  });
});
