/**
 * The compare stage: reads the live objects of the plan (a list per kind, kube/live-objects.ts) and
 * decides for each whether an apply would change it (kube/compare.ts): only those are checked and
 * sent. Objects found equal are remembered (kube/fingerprints.ts), so the next run reads only their
 * metadata.
 */
import { applyWouldChange } from '../../kube/compare.js';
import type { KubeClient } from '../../kube/client.js';
import type { RestMapper } from '../../kube/discovery.js';
import type { Fingerprints } from '../../kube/fingerprints.js';
import { readLiveObjects, type LiveObjects } from '../../kube/live-objects.js';
import { identity } from '../../kube/object-ref.js';
import { JSON_ONLY, type Logger } from '../../observe/logger.js';
import type { Plan, PlannedObject } from '../model.js';

interface CompareDeps {
  client: KubeClient;
  mapper: RestMapper;
  fingerprints: Fingerprints;
  fieldManager: string;
  logger: Logger;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** Every object of the roles that run, with its live state and whether an apply would change it. */
export async function compareWithLive(
  plan: Plan,
  deps: CompareDeps,
): Promise<{ objects: PlannedObject[]; live: LiveObjects }> {
  const started = performance.now();
  const items = plan.roles
    .filter((rp) => !rp.skip)
    .flatMap((rp) => rp.manifests.map((m) => ({ role: rp.role.name, source: m.source, object: m.object })));
  const live = await readLiveObjects(
    deps.client,
    deps.mapper,
    items.map((x) => x.object),
    { fingerprints: deps.fingerprints },
  );
  const objects = items.map<PlannedObject>((x) => {
    const found = live.objects.get(identity(x.object));
    return {
      ...x,
      live: found,
      change: found ? applyWouldChange(x.object, found, deps.fieldManager) : 'absent',
    };
  });
  for (const o of objects) {
    if (o.live && !o.change) deps.fingerprints.remember(o.object, o.live);
    else deps.fingerprints.forget(o.object);
  }
  const absent = objects.filter((o) => !o.live).length;
  const differ = objects.filter((o) => o.live && o.change).length;
  deps.logger.info(
    `compare: ${objects.length} objects with the live ones (${live.requests} requests) in ${seconds(performance.now() - started)}s: ${absent} to create, ${differ} to change, ${objects.length - absent - differ} unchanged`,
    { [JSON_ONLY]: { objects: objects.length, requests: live.requests, create: absent, change: differ } },
  );
  for (const o of objects)
    if (o.live && o.change)
      deps.logger.debug(`${o.object.kind} ${o.object.metadata.name}: ${o.change}`, { role: o.role });
  return { objects, live };
}
