/**
 * Client-side validation of rendered objects against the maintained OpenAPI models
 * (kubernetes-models for the built-in API groups, @kubernetes-models/prometheus-operator for
 * monitoring.coreos.com). Kinds without a model (notification.kubesphere.io) are checked by the API
 * server's structural schema at apply time. Generated CRDs are guarded by crds:check instead.
 */
import type { ManifestSource } from '../model.js';

interface ValidationProblem {
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

type ModelClassOrNone = ModelClass | undefined;

const models = new Map<string, Promise<ModelClassOrNone>>();

/**
 * The model of one kind, imported from its own module (e.g. kubernetes-models/apps/v1/Deployment):
 * importing a whole API group's index would compile every kind's validator and cost the operator
 * about 120 MiB more resident memory.
 */
function loadModel(apiVersion: string, kind: string): Promise<ModelClassOrNone> {
  const key = `${apiVersion}/${kind}`;
  let p = models.get(key);
  if (!p) {
    const base = modelModule(apiVersion);
    p = base
      ? (import(`${base}/${kind}`) as Promise<Record<string, unknown>>).then(
          (m) => m[kind] as ModelClassOrNone,
          () => undefined,
        )
      : Promise.resolve(undefined);
    models.set(key, p);
  }
  return p;
}

/** Every problem found; an empty list means every modelled object is valid. */
export async function validateManifests(manifests: ManifestSource[]): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (const { source, object } of manifests) {
    if (source.startsWith('crds/')) continue;
    const Model = await loadModel(object.apiVersion, object.kind);
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
