/**
 * A cluster for unit tests of the pipeline, on the in-memory API server (fake-kube.ts): the
 * ClusterConfiguration CRD, three Nodes, the ClusterConfiguration itself, and an Installer wired as
 * `ks-installer run` wires it (facts read from the cluster, status written to it).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { keyOf, specHash, type ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ObjectCache } from '../../src/reconcile/cache.js';
import { ClusterFactsSource } from '../../src/facts/cluster.js';
import { selectByJqPath } from '../../src/hooks/bindings.js';
import { Installer } from '../../src/installer/run.js';
import { projectRoot } from '../../src/paths.js';
import { StatusWriter } from '../../src/installer/report/status-writer.js';
import type { KubeObject } from '../../src/kube/client.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { silentLogger, type Logger } from '../../src/observe/logger.js';
import { createRenderer, type Renderer } from '../../src/render/renderer.js';
import { FakeKube } from './fake-kube.js';

export const TARGET = { namespace: 'kubesphere-system', name: 'ks-installer' };
export const KEY = keyOf(TARGET);
export const CC_PATH = `/apis/installer.kubesphere.io/v1alpha1/namespaces/${TARGET.namespace}/clusterconfigurations/${TARGET.name}`;

let renderer: Renderer | undefined;

/** Lets every answer and watch event that is due be delivered. */
export async function settle(ticks = 50): Promise<void> {
  for (let i = 0; i < ticks; i++) await new Promise((r) => setImmediate(r));
}

/** The in-memory API server with the ClusterConfiguration CRD (Established), `nodes` Nodes and, when given, the object. */
export async function fakeCluster(spec?: Record<string, unknown>, nodes = 3): Promise<FakeKube> {
  const kube = new FakeKube();
  const crd = yaml.load(
    readFileSync(
      path.join(projectRoot(), 'crds', 'installer.kubesphere.io_clusterconfigurations.yaml'),
      'utf8',
    ),
  ) as KubeObject;
  kube.seed(crd);
  await settle(5);
  for (let i = 0; i < nodes; i++)
    kube.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}` } });
  if (spec)
    kube.seed(
      {
        apiVersion: 'installer.kubesphere.io/v1alpha1',
        kind: 'ClusterConfiguration',
        metadata: { ...TARGET },
        spec,
      } as KubeObject,
      'kubectl-client-side-apply',
    );
  return kube;
}

/** The ClusterConfiguration as stored now. */
export function currentCc(kube: FakeKube): ClusterConfiguration {
  const cc = kube.stored(
    'installer.kubesphere.io/v1alpha1',
    'ClusterConfiguration',
    TARGET.name,
    TARGET.namespace,
  );
  if (!cc) throw new Error('no ClusterConfiguration');
  return cc as ClusterConfiguration;
}

/** An Installer on the in-memory API server, and the cache the controller would fill. */
export function fakeInstaller(
  kube: FakeKube,
  logger: Logger = silentLogger,
): { installer: Installer; cache: ObjectCache } {
  renderer ??= createRenderer(path.join(projectRoot(), 'templates'));
  const mapper = new RestMapper(kube);
  const cache = new ObjectCache();
  const installer = new Installer({
    client: kube,
    mapper,
    renderer,
    crdsRoot: path.join(projectRoot(), 'crds'),
    facts: new ClusterFactsSource(kube, mapper),
    status: new StatusWriter(kube, TARGET, logger, 'unit-test'),
    cache,
    logger,
  });
  return { installer, cache };
}

/** Puts the stored ClusterConfiguration in the cache, as the controller's watch would. */
export function observe(kube: FakeKube, cache: ObjectCache): ClusterConfiguration {
  const cc = currentCc(kube);
  cache.set(KEY, { object: cc, hash: specHash(selectByJqPath(cc, '.spec')) });
  return cc;
}
