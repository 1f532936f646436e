import { describe, expect, it } from '@jest/globals';
import { loggableChange } from '../../../src/kube/change-reason.js';

describe('loggableChange', () => {
  it("keeps a Secret's differing path and drops both values", () => {
    const secret = { apiVersion: 'v1', kind: 'Secret' };
    expect(loggableChange(secret, 'data.admin-password: "bmV3" wanted, "b2xk" live')).toBe(
      'data.admin-password: differs (values not logged)',
    );
    expect(loggableChange(secret, 'absent')).toBe('differs');
  });

  it('leaves the reason of other kinds as it is', () => {
    const reason = 'spec.replicas: 1 wanted, 3 live';
    expect(loggableChange({ apiVersion: 'apps/v1', kind: 'Deployment' }, reason)).toBe(reason);
  });
});
