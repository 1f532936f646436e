/**
 * Client-side validation of rendered objects against the maintained OpenAPI models
 * (kubernetes-models for the built-in API groups, @kubernetes-models/prometheus-operator for
 * monitoring.coreos.com). Kinds without a model (notification.kubesphere.io) are checked by the API
 * server's structural schema at apply time. Generated CRDs are guarded by crds:check instead.
 */
import type { ManifestSource } from './manifests.js';

export interface ValidationProblem {
  source: string;
  object: string;
  message: string;
}

type ModelClass = new (data: unknown) => { validate(): void };

const MODEL_MODULES: Record<string, string> = {
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'monitoring.coreos.com/v1alpha1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1',
};

function modelModule(apiVersion: string): string | undefined {
  if (MODEL_MODULES[apiVersion]) return MODEL_MODULES[apiVersion];
  if (apiVersion === 'v1') return 'kubernetes-models/v1';
  const [group] = apiVersion.split('/');
  if (group === 'apps' || group === 'policy' || group === 'batch' || group!.endsWith('.k8s.io')) {
    return `kubernetes-models/${apiVersion}`;
  }
  return undefined;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: { missingProperty?: string };
}

/**
 * The generated models require apiVersion and kind on embedded objects that carry TypeMeta (e.g.
 * Prometheus.spec.storage.volumeClaimTemplate) although the CRD and the operator do not; those
 * errors below the top level are not problems.
 */
function isEmbeddedTypeMetaError(e: AjvError): boolean {
  if (!e.instancePath) return false;
  if (e.keyword === 'required')
    return e.params?.missingProperty === 'apiVersion' || e.params?.missingProperty === 'kind';
  return /\/(apiVersion|kind)$/.test(e.instancePath) && e.keyword === 'enum';
}

const modules = new Map<string, Promise<Record<string, unknown> | undefined>>();

function loadModels(apiVersion: string): Promise<Record<string, unknown> | undefined> {
  let p = modules.get(apiVersion);
  if (!p) {
    const spec = modelModule(apiVersion);
    p = spec
      ? (import(spec) as Promise<Record<string, unknown>>).catch(() => undefined)
      : Promise.resolve(undefined);
    modules.set(apiVersion, p);
  }
  return p;
}

/** Every problem found; an empty list means every modelled object is valid. */
export async function validateManifests(manifests: ManifestSource[]): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (const { source, object } of manifests) {
    if (source.startsWith('crds/')) continue;
    const models = await loadModels(object.apiVersion);
    const Model = models?.[object.kind] as ModelClass | undefined;
    if (!Model) continue;
    try {
      new Model(object).validate();
    } catch (err) {
      const all = (err as { errors?: AjvError[] }).errors;
      const errors = (all ?? []).filter((e) => !isEmbeddedTypeMetaError(e));
      if (all && errors.length === 0) continue;
      const message = errors.length
        ? errors.map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ')
        : (err as Error).message;
      const ns = object.metadata.namespace ? `${object.metadata.namespace}/` : '';
      problems.push({ source, object: `${object.kind} ${ns}${object.metadata.name}`, message });
    }
  }
  return problems;
}
