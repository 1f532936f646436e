/**
 * Image names (docs/original-installer.md#images): `base + org + "/" + name : tag`, where
 *   base = "registry.cn-beijing.aliyuncs.com/" when zone is "cn" or local_registry is that registry
 *          (and the org becomes "kubesphereio"), else "<local_registry>/" when set, else "" (Docker Hub);
 *   org  = namespace_override when set, else the above.
 * Each image is overridable as a whole by the top-level keys `<name>_repo` and `<name>_tag`.
 */
import type { Spec } from './spec-path.js';
import { get, isSetScalar } from './spec-path.js';
import type { ImageName, ImageRef } from './values.js';

const CN_REGISTRY = 'registry.cn-beijing.aliyuncs.com';
const CN_NAMESPACE = 'kubesphereio';

interface DefaultImage {
  org: string;
  name: string;
  tag: string;
  /** The registry when neither zone nor local_registry names one (default: Docker Hub, no prefix). */
  registry?: string;
}

const DEFAULT_IMAGES: Readonly<Record<ImageName, DefaultImage>> = {
  prometheus: { org: 'prom', name: 'prometheus', tag: 'v2.39.1' },
  prometheus_config_reloader: { org: 'kubesphere', name: 'prometheus-config-reloader', tag: 'v0.55.1' },
  prometheus_operator: { org: 'kubesphere', name: 'prometheus-operator', tag: 'v0.55.1' },
  kube_rbac_proxy: { org: 'kubesphere', name: 'kube-rbac-proxy', tag: 'v0.11.0' },
  kube_state_metrics: { org: 'kubesphere', name: 'kube-state-metrics', tag: 'v2.6.0' },
  node_exporter: { org: 'prom', name: 'node-exporter', tag: 'v1.3.1' },
  alertmanager: { org: 'prom', name: 'alertmanager', tag: 'v0.23.0' },
  notification_manager_operator_proxy: { org: 'kubesphere', name: 'kube-rbac-proxy', tag: 'v0.11.0' },
  notification_manager_operator: { org: 'kubesphere', name: 'notification-manager-operator', tag: 'v2.3.0' },
  notification_manager: { org: 'kubesphere', name: 'notification-manager', tag: 'v2.3.0' },
  notification_tenant_sidecar: { org: 'kubesphere', name: 'notification-tenant-sidecar', tag: 'v3.2.0' },
  metrics_server: { org: 'kubesphere', name: 'metrics-server', tag: 'v0.4.2' },
  thanos: { org: 'thanosio', name: 'thanos', tag: 'v0.31.0' },
  // NVIDIA's registry by default; Correction: local_registry, zone and namespace_override apply to it too.
  dcgm_exporter: {
    registry: 'nvcr.io',
    org: 'nvidia/k8s',
    name: 'dcgm-exporter',
    tag: '2.1.8-2.4.0-rc.3-ubuntu18.04',
  },
  grafana: { org: 'grafana', name: 'grafana', tag: '8.3.3' },
};

export const IMAGE_NAMES = Object.keys(DEFAULT_IMAGES) as ImageName[];

// Correction: an empty string counts as unset (an empty namespace_override used to yield "R//name").
function stringKey(spec: Spec, key: string): string | undefined {
  const value = get(spec, key);
  return isSetScalar(value) && typeof value === 'string' ? value : undefined;
}

/** Registry prefix (with trailing slash, or empty) and the org that replaces every default org. */
function registryPrefix(spec: Spec): { base: string; orgOverride?: string; fromSpec: boolean } {
  const localRegistry = stringKey(spec, 'local_registry')?.replace(/\/+$/, '');
  const namespaceOverride = stringKey(spec, 'namespace_override');
  const withOrg = (base: string, org: string | undefined) =>
    org === undefined ? { base, fromSpec: base !== '' } : { base, orgOverride: org, fromSpec: base !== '' };
  // zone=cn wins over any other local_registry, as in the original.
  if (get(spec, 'zone') === 'cn' || localRegistry === CN_REGISTRY) {
    return withOrg(`${CN_REGISTRY}/`, namespaceOverride ?? CN_NAMESPACE);
  }
  // Correction: a trailing "/" on local_registry no longer yields "R//org/name".
  if (localRegistry) return withOrg(`${localRegistry}/`, namespaceOverride);
  return withOrg('', namespaceOverride);
}

export function resolveImages(spec: Spec): Record<ImageName, ImageRef> {
  const { base, orgOverride, fromSpec } = registryPrefix(spec);
  const images = {} as Record<ImageName, ImageRef>;
  for (const name of IMAGE_NAMES) {
    const image = DEFAULT_IMAGES[name];
    const registry = fromSpec || !image.registry ? base : `${image.registry}/`;
    const repository =
      stringKey(spec, `${name}_repo`) ?? `${registry}${orgOverride ?? image.org}/${image.name}`;
    const tag = stringKey(spec, `${name}_tag`) ?? image.tag;
    images[name] = { repository, tag, image: `${repository}:${tag}` };
  }
  return images;
}

/** Correction: only ONE leading `v` is stripped (the original removed every `v` of the tag). */
function versionLabel(tag: string): string {
  return tag.replace(/^v/, '');
}

export function resolveVersions(images: Record<ImageName, ImageRef>): Record<ImageName, string> {
  const versions = {} as Record<ImageName, string>;
  for (const name of IMAGE_NAMES) versions[name] = versionLabel(images[name].tag);
  return versions;
}
