/**
 * Growing the Prometheus volumes. The Prometheus CR's volumeClaimTemplate only shapes PVCs created
 * from then on; the PVCs prometheus-k8s-db-prometheus-k8s-<n> that already exist keep their request.
 * After the prometheus-stack role is applied, each existing PVC smaller than the resolved size is
 * expanded when its StorageClass allows volume expansion; otherwise a warning condition names the
 * PVCs, the StorageClass and what to do. Nothing is deleted; a smaller size never reaches here (the
 * config layer keeps the live size and warns PrometheusStorageShrinkRefused).
 */
import { tryParseQuantity } from '../../config/quantity.js';
import type { ValueWarning } from '../../config/values.js';
import { ApiError, CONTENT_TYPE, type KubeClient, type KubeObject } from '../../kube/client.js';
import { listAll } from '../../kube/list.js';
import type { Logger } from '../../observe/logger.js';

const PROMETHEUS_PVC_PATTERN = /^prometheus-k8s-db-prometheus-k8s-\d+$/;
export const STORAGE_NOT_EXPANDABLE = 'PrometheusStorageNotExpandable';
const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/** What the decision needs of a live PVC. */
interface PvcFacts {
  name: string;
  /** spec.storageClassName: undefined when unset (the default class applies), "" for no class. */
  storageClassName?: string;
  /** spec.resources.requests.storage. */
  request?: string;
  /** status.capacity.storage: smaller than the request while an expansion is in progress. */
  capacity?: string;
}

/** What growing the volumes did: warnings for the ones that cannot grow, and whether any is still growing. */
interface StorageGrowth {
  warnings: ValueWarning[];
  /** An expansion was requested now or is still in progress (capacity below the request). */
  expanding: boolean;
}

/** What the decision needs of a StorageClass. */
export interface StorageClassFacts {
  name: string;
  allowVolumeExpansion: boolean;
  isDefault: boolean;
}

interface PvcExpansion {
  pvc: string;
  from: string;
  to: string;
  storageClass: string;
}

interface StorageGrowthPlan {
  expand: PvcExpansion[];
  /** PVCs that need more space but cannot get it. */
  notExpandable: NotExpandable[];
}

interface NotExpandable {
  pvc: string;
  from: string;
  storageClass?: string;
  /** `notAllowed`: the StorageClass exists and does not allow expansion (the one case a user can fix in place). */
  cause: 'noClass' | 'missingClass' | 'notAllowed' | 'refused';
  why: string;
}

/** The class a PVC uses: its own, else the default one; "" (explicitly no class) has none. */
function classOf(pvc: PvcFacts, classes: StorageClassFacts[]): { name?: string; found?: StorageClassFacts } {
  if (pvc.storageClassName === '') return {};
  const name =
    pvc.storageClassName ??
    classes.filter((c) => c.isDefault).sort((a, b) => a.name.localeCompare(b.name))[0]?.name;
  return { name, found: classes.find((c) => c.name === name) };
}

/** Which Prometheus PVCs to expand to `size`, and which cannot be. Pure: no cluster access. */
export function planStorageGrowth(
  size: string,
  pvcs: PvcFacts[],
  classes: StorageClassFacts[],
): StorageGrowthPlan {
  const plan: StorageGrowthPlan = { expand: [], notExpandable: [] };
  const target = tryParseQuantity(size);
  if (target === undefined) return plan;
  const sorted = pvcs
    .filter((p) => PROMETHEUS_PVC_PATTERN.test(p.name))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  for (const pvc of sorted) {
    const current = tryParseQuantity(pvc.request);
    if (current === undefined || current >= target) continue;
    const from = pvc.request as string;
    const { name, found } = classOf(pvc, classes);
    if (found?.allowVolumeExpansion) {
      plan.expand.push({ pvc: pvc.name, from, to: size, storageClass: found.name });
      continue;
    }
    if (name === undefined) {
      plan.notExpandable.push({ pvc: pvc.name, from, cause: 'noClass', why: 'it has no StorageClass' });
    } else if (found === undefined) {
      const why = `its StorageClass ${name} does not exist`;
      plan.notExpandable.push({ pvc: pvc.name, from, storageClass: name, cause: 'missingClass', why });
    } else {
      const why = `its StorageClass ${name} does not allow volume expansion`;
      plan.notExpandable.push({ pvc: pvc.name, from, storageClass: name, cause: 'notAllowed', why });
    }
  }
  return plan;
}

/** The warning for PVCs that keep their size, saying what to do; undefined when there are none. */
export function notExpandableWarning(size: string, notExpandable: NotExpandable[]): ValueWarning | undefined {
  if (notExpandable.length === 0) return undefined;
  const list = notExpandable.map((n) => `${n.pvc} (${n.from}; ${n.why})`).join(', ');
  const classes = [
    ...new Set(
      notExpandable.flatMap((n) => (n.cause === 'notAllowed' && n.storageClass ? [n.storageClass] : [])),
    ),
  ];
  const fixes: string[] = [];
  if (classes.length > 0) {
    fixes.push(
      `Set allowVolumeExpansion: true on StorageClass ${classes.join(', ')} if its provisioner supports expansion; the next run then expands the volumes.`,
    );
  }
  if (notExpandable.some((n) => n.cause === 'noClass' || n.cause === 'missingClass')) {
    fixes.push(
      'A volume without an expandable StorageClass can only grow by moving its data to a new, larger volume.',
    );
  }
  if (notExpandable.some((n) => n.cause === 'refused')) {
    fixes.push(
      'Each run tries again, so an expansion refused for a passing reason happens once that is fixed.',
    );
  }
  const fix = fixes.join(' ');
  return {
    type: STORAGE_NOT_EXPANDABLE,
    reason: 'VolumeExpansionNotAllowed',
    message:
      `The Prometheus CR asks for ${size}, but the existing volumes keep their size: ${list}. ` +
      `${fix} New replicas get ${size}; nothing is deleted.`,
  };
}

interface PvcObject extends KubeObject {
  spec?: { storageClassName?: string | null; resources?: { requests?: { storage?: string } } };
  status?: { capacity?: { storage?: string } };
}

interface StorageClassObject extends KubeObject {
  allowVolumeExpansion?: boolean;
}

async function readPvcs(client: KubeClient, namespace: string): Promise<PvcFacts[]> {
  const { items } = await listAll<PvcObject>(
    client,
    `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
  );
  return items
    .filter((p) => PROMETHEUS_PVC_PATTERN.test(p.metadata.name))
    .map((p) => {
      const facts: PvcFacts = { name: p.metadata.name };
      const sc = p.spec?.storageClassName;
      if (typeof sc === 'string') facts.storageClassName = sc;
      const request = p.spec?.resources?.requests?.storage;
      if (request) facts.request = request;
      const capacity = p.status?.capacity?.storage;
      if (capacity) facts.capacity = capacity;
      return facts;
    });
}

async function readStorageClasses(client: KubeClient): Promise<StorageClassFacts[]> {
  const { items } = await listAll<StorageClassObject>(client, '/apis/storage.k8s.io/v1/storageclasses');
  return items.map((c) => ({
    name: c.metadata.name,
    allowVolumeExpansion: c.allowVolumeExpansion === true,
    isDefault: c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true',
  }));
}

/**
 * Expands the Prometheus PVCs smaller than `size` whose StorageClass allows it, and returns the
 * warnings for the rest (also for an expansion the API server refuses, or a check that failed), and
 * whether an expansion is under way so the run is looked at again. Only reads StorageClasses when
 * some PVC is smaller than `size`. Never throws.
 */
export async function growPrometheusStorage(
  client: KubeClient,
  namespace: string,
  size: string,
  logger: Logger,
): Promise<StorageGrowth> {
  try {
    return await grow(client, namespace, size, logger);
  } catch (err) {
    // The stack is installed; a volume that could not be checked is reported, not a failed run.
    const message = `could not check the Prometheus volumes against the requested ${size}: ${(err as Error).message}`;
    logger.warn(message, { condition: STORAGE_NOT_EXPANDABLE });
    return { warnings: [{ type: STORAGE_NOT_EXPANDABLE, reason: 'CheckFailed', message }], expanding: false };
  }
}

/** A PVC whose capacity is still below its request: the volume is being resized. */
function stillExpanding(pvc: PvcFacts): boolean {
  const request = pvc.request === undefined ? undefined : tryParseQuantity(pvc.request);
  const capacity = pvc.capacity === undefined ? undefined : tryParseQuantity(pvc.capacity);
  return request !== undefined && capacity !== undefined && capacity < request;
}

async function grow(
  client: KubeClient,
  namespace: string,
  size: string,
  logger: Logger,
): Promise<StorageGrowth> {
  const pvcs = await readPvcs(client, namespace);
  const target = tryParseQuantity(size);
  const smaller = pvcs.some((p) => {
    const current = tryParseQuantity(p.request);
    return target !== undefined && current !== undefined && current < target;
  });
  if (!smaller) return { warnings: [], expanding: pvcs.some(stillExpanding) };
  const plan = planStorageGrowth(size, pvcs, await readStorageClasses(client));
  const refused: NotExpandable[] = [...plan.notExpandable];
  for (const e of plan.expand) {
    try {
      await client.request('PATCH', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${e.pvc}`, {
        body: { spec: { resources: { requests: { storage: e.to } } } },
        contentType: CONTENT_TYPE.merge,
      });
      logger.info(
        `Prometheus volume ${e.pvc} expanded from ${e.from} to ${e.to} (StorageClass ${e.storageClass} allows expansion)`,
        { pvc: e.pvc, from: e.from, to: e.to, storageClass: e.storageClass },
      );
    } catch (err) {
      // Forbidden or Invalid: e.g. the claim is not bound yet, or an admission plugin refuses it.
      if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 422)) throw err;
      refused.push({
        pvc: e.pvc,
        from: e.from,
        storageClass: e.storageClass,
        cause: 'refused',
        why: `the API server refused the expansion: ${err.message}`,
      });
    }
  }
  const warning = notExpandableWarning(size, refused);
  const expanded = plan.expand.length > refused.length - plan.notExpandable.length;
  return { warnings: warning ? [warning] : [], expanding: expanded || pvcs.some(stillExpanding) };
}
