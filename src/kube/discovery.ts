/**
 * Maps apiVersion + kind to the REST path of a resource, from the API server's discovery documents,
 * cached per group version and refreshed when a kind is missing (a CRD established since).
 */
import { ApiError, type KubeClient, type KubeObject } from './client.js';
import { isEstablished, type WithConditions } from './object-ref.js';

const CRD_COLLECTION = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; kind?: string };
  versions?: { name: string; served?: boolean }[];
}

/** Aggregated discovery (v2, else v2beta1), else the plain APIVersions / APIGroupList. */
const ACCEPT_AGGREGATED = [
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  'application/json',
].join(',');

interface DiscoveryAnswer {
  kind?: string;
  /** APIGroupDiscoveryList */
  items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      resources?: { resource: string; responseKind?: { kind: string }; scope?: string }[];
    }[];
  }[];
  /** APIVersions (/api) */
  versions?: string[];
  /** APIGroupList (/apis) */
  groups?: { versions: { groupVersion: string }[] }[];
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export interface ResourceInfo {
  /** e.g. /apis/apps/v1 */
  base: string;
  resource: string;
  namespaced: boolean;
}

export class RestMapper {
  private readonly cache = new Map<string, Promise<ApiResource[]>>();

  constructor(private readonly client: KubeClient) {}

  private static base(apiVersion: string): string {
    return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  }

  private load(apiVersion: string, refresh: boolean): Promise<ApiResource[]> {
    if (refresh) this.cache.delete(apiVersion);
    let p = this.cache.get(apiVersion);
    if (!p) {
      p = this.client
        .get<{ resources: ApiResource[] }>(RestMapper.base(apiVersion))
        .then((l) => l.resources.filter((r) => !r.name.includes('/')));
      p.catch(() => this.cache.delete(apiVersion));
      this.cache.set(apiVersion, p);
    }
    return p;
  }

  /** Resources learnt from CustomResourceDefinitions (learn), by `apiVersion kind`: no discovery needed. */
  private readonly learnt = new Map<string, ResourceInfo>();

  /**
   * Records the resources a CustomResourceDefinition serves (plural and scope of each served version),
   * so that its custom resources map without a discovery request, also right after it is established.
   */
  learn(crd: KubeObject): void {
    const spec = (crd as unknown as { spec?: CrdSpec }).spec;
    if (!spec?.group || !spec.names?.plural || !spec.names.kind) return;
    for (const v of spec.versions ?? []) {
      if (v.served === false) continue;
      const apiVersion = `${spec.group}/${v.name}`;
      this.learnt.set(`${apiVersion} ${spec.names.kind}`, {
        base: RestMapper.base(apiVersion),
        resource: spec.names.plural,
        namespaced: spec.scope !== 'Cluster',
      });
    }
  }

  /** Whether the kind was learnt from a CRD (learn) rather than from discovery. */
  isLearnt(apiVersion: string, kind: string): boolean {
    return this.learnt.has(`${apiVersion} ${kind}`);
  }

  /**
   * The resource of a kind; a kind missing from a cached discovery document is looked up again (a CRD
   * established since), unless `refresh: false`.
   */
  async resource(
    apiVersion: string,
    kind: string,
    options: { refresh?: boolean } = {},
  ): Promise<ResourceInfo> {
    const learnt = this.learnt.get(`${apiVersion} ${kind}`);
    if (learnt) return learnt;
    for (const refresh of options.refresh === false ? [false] : [false, true]) {
      let resources: ApiResource[];
      try {
        resources = await this.load(apiVersion, refresh);
      } catch (err) {
        if (err instanceof ApiError && err.notFound && !refresh && options.refresh !== false) continue;
        if (err instanceof ApiError && err.notFound) {
          throw new ApiError(
            404,
            'NotFound',
            `the server does not serve ${apiVersion} (is its CRD installed?)`,
          );
        }
        throw err;
      }
      const r = resources.find((x) => x.kind === kind);
      if (r) return { base: RestMapper.base(apiVersion), resource: r.name, namespaced: r.namespaced };
    }
    if (options.refresh !== false) {
      const fromCrd = await this.learnFromEstablishedCrd(apiVersion, kind);
      if (fromCrd) return fromCrd;
    }
    throw new ApiError(
      404,
      'NotFound',
      `the server has no kind ${kind} in ${apiVersion} (is its CRD installed?)`,
    );
  }

  /**
   * A kind missing from discovery after a refresh may belong to a CRD that is already Established:
   * kube-apiserver publishes a CRD's kinds in discovery a moment after the Established condition, so
   * on a busy machine a lookup right after establishment can miss. Rather than wait for discovery (no
   * bound would be right on every machine), the mapping is read from the CRD itself, as `learn` does:
   * one list of CRDs, only on such a miss. A CRD that exists but is not Established maps to nothing.
   */
  private async learnFromEstablishedCrd(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const slash = apiVersion.indexOf('/');
    if (slash < 0) return undefined; // the core group has no CRDs
    const group = apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    let crds: { items: (KubeObject & { spec?: CrdSpec } & WithConditions)[] };
    try {
      crds = await this.client.get(CRD_COLLECTION);
    } catch (err) {
      if (err instanceof ApiError && (err.notFound || err.status === 403)) return undefined;
      throw err;
    }
    const crd = crds.items.find(
      (c) =>
        c.spec?.group === group &&
        c.spec.names?.kind === kind &&
        (c.spec.versions ?? []).some((v) => v.name === version && v.served !== false),
    );
    if (!crd || !isEstablished(crd)) return undefined;
    this.learn(crd);
    return this.learnt.get(`${apiVersion} ${kind}`);
  }

  /** Collection path (namespace ignored for cluster-scoped kinds). */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    if (r.namespaced) {
      if (!namespace) throw new Error(`${kind} is namespaced: metadata.namespace is required`);
      return `${r.base}/namespaces/${encodeURIComponent(namespace)}/${r.resource}`;
    }
    return `${r.base}/${r.resource}`;
  }

  async objectPath(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<string> {
    const base = await this.collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace);
    return `${base}/${encodeURIComponent(obj.metadata.name)}`;
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return (await this.resource(apiVersion, kind)).namespaced;
  }

  /**
   * Every group version the server serves, e.g. ['v1', 'apps/v1', 'policy/v1', …]. Asked as aggregated
   * discovery (apidiscovery.k8s.io, Kubernetes 1.26+), whose two answers also hold every resource of
   * every group version: the cache is filled from them, so mapping a kind needs no request of its own.
   * A server without it answers the plain lists.
   */
  async servedGroupVersions(): Promise<string[]> {
    const [core, groups] = await Promise.all(
      ['/api', '/apis'].map((p) => this.client.get<DiscoveryAnswer>(p, { accept: ACCEPT_AGGREGATED })),
    );
    const out: string[] = [];
    for (const answer of [core!, groups!]) {
      if (answer.kind === 'APIGroupDiscoveryList') {
        for (const group of answer.items ?? [])
          for (const v of group.versions ?? []) {
            const apiVersion = group.metadata?.name ? `${group.metadata.name}/${v.version}` : v.version;
            out.push(apiVersion);
            const resources = (v.resources ?? []).map((r) => ({
              name: r.resource,
              kind: r.responseKind?.kind ?? '',
              namespaced: r.scope === 'Namespaced',
            }));
            this.cache.set(apiVersion, Promise.resolve(resources));
          }
      } else if (answer.versions) {
        out.push(...answer.versions);
      } else {
        out.push(...(answer.groups ?? []).flatMap((g) => g.versions.map((v) => v.groupVersion)));
      }
    }
    return out;
  }
}
