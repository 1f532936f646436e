/**
 * Why an object is to be changed, as the debug log may print it: the first differing path with both
 * values (kube/compare.ts), except for a Secret, whose values are never logged: only the path stays.
 */
import type { KubeObject } from './client.js';

export function loggableChange(object: Pick<KubeObject, 'kind' | 'apiVersion'>, change: string): string {
  if (object.kind !== 'Secret' || object.apiVersion !== 'v1') return change;
  const path = /^(.*?): /.exec(change)?.[1];
  return path === undefined ? 'differs' : `${path}: differs (values not logged)`;
}
