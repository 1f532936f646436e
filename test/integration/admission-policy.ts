/**
 * A ValidatingAdmissionPolicy (CEL, in kube-apiserver: no webhook needed) that refuses a Prometheus with
 * one retention (or any CEL condition), to make the API server refuse what our own checks accept. `reason` decides how the
 * operator sees it: Invalid (422) is a refusal of the object, Forbidden (403) an API error retried.
 */
import { ApiError, type KubeClient } from '../../src/kube/client.js';

const ADMISSION = '/apis/admissionregistration.k8s.io/v1';

export interface RetentionPolicy {
  name: string;
  retention: string;
  reason: 'Invalid' | 'Forbidden';
}

export async function createRetentionPolicy(admin: KubeClient, policy: RetentionPolicy): Promise<void> {
  await createPrometheusPolicy(admin, {
    name: policy.name,
    expression: `!has(object.spec.retention) || object.spec.retention != '${policy.retention}'`,
    message: `retention ${policy.retention} is refused by a test policy`,
    reason: policy.reason,
  });
}

/** A policy refusing a Prometheus for which the CEL `expression` is false, with `message`. */
export async function createPrometheusPolicy(
  admin: KubeClient,
  policy: { name: string; expression: string; message: string; reason: 'Invalid' | 'Forbidden' },
): Promise<void> {
  await admin.request('POST', `${ADMISSION}/validatingadmissionpolicies`, {
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policy.name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['monitoring.coreos.com'],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['prometheuses'],
            },
          ],
        },
        validations: [{ expression: policy.expression, message: policy.message, reason: policy.reason }],
      },
    },
  });
  await admin.request('POST', `${ADMISSION}/validatingadmissionpolicybindings`, {
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policy.name },
      spec: { policyName: policy.name, validationActions: ['Deny'] },
    },
  });
}

export async function deleteRetentionPolicy(admin: KubeClient, name: string): Promise<void> {
  for (const kind of ['validatingadmissionpolicybindings', 'validatingadmissionpolicies']) {
    await admin.request('DELETE', `${ADMISSION}/${kind}/${name}`).catch((e: unknown) => {
      if (!(e instanceof ApiError && e.notFound)) throw e;
    });
  }
}
