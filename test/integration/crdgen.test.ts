/**
 * The upstream CRDs in crds/ are what tools/generate-crds.ts generates from the pinned Go API types,
 * byte for byte, and the API server accepts every CRD file. notification-manager's API types are not on the
 * Go module proxy: its CRDs are regenerated here only when NOTIFICATION_MANAGER_SRC names a git repository
 * holding the pinned commit; otherwise they are checked against their recorded provenance (also a unit test).
 * The first run builds controller-gen into the cache (minutes); later runs take seconds.
 */
import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import path from 'node:path';
import { CONTENT_TYPE, type KubeObject } from '../../src/kube/client.js';
import { checkCrds, readGroupFiles, type CheckResult } from '../../tools/crdgen/generate.js';
import { expectedFirstLine } from '../../tools/crdgen/inventory.js';
import {
  CONTROLLER_GEN_VERSION_ANNOTATION,
  normalizeGenerated,
  parseCrds,
} from '../../tools/crdgen/normalize.js';
import { CRD_SOURCES, crdRelativePath, type CrdSource } from '../../tools/crdgen/sources.js';
import { CRDGEN_VERSIONS } from '../../tools/crdgen/versions.js';
import { adminClient } from './cluster.js';

jest.setTimeout(15 * 60_000);

const CRDS_ROOT = path.resolve('crds');
const monitoringSource = CRD_SOURCES.find((s) => s.group === 'monitoring.coreos.com')!;
const notificationSource: CrdSource = CRD_SOURCES.find((s) => s.group === 'notification.kubesphere.io')!;
const dashboardSource: CrdSource = CRD_SOURCES.find((s) => s.group === 'monitoring.kubesphere.io')!;
/** Git repositories holding notification-manager's and monitoring-dashboard's pinned commits, when this machine has them. */
const notificationManagerRepository = process.env.NOTIFICATION_MANAGER_SRC;
const monitoringDashboardRepository = process.env.MONITORING_DASHBOARD_SRC;
const localRepositories = new Map([
  ...(notificationManagerRepository
    ? [[notificationSource.group, path.resolve(notificationManagerRepository)] as const]
    : []),
  ...(monitoringDashboardRepository
    ? [[dashboardSource.group, path.resolve(monitoringDashboardRepository)] as const]
    : []),
]);
const isCrdFile = (rel: string) => rel.endsWith('.yaml');
const inGroup = (source: CrdSource) => (rel: string) => rel.startsWith(`${source.group}/`);

/** Every string-valued `description` in a schema tree (a property named "description" is an object). */
function schemaDescriptions(node: unknown, at = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => schemaDescriptions(n, `${at}[${i}]`));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'description' && typeof v === 'string'
      ? [`${at}.description`]
      : schemaDescriptions(v, `${at}.${k}`),
  );
}

describe('CRD generation from the pinned API types', () => {
  let result: CheckResult;

  beforeAll(async () => {
    result = await checkCrds(CRDS_ROOT, { localRepositories });
  });

  it('regenerates byte-identical copies of the committed generated files', async () => {
    expect(result.differences).toEqual([]);
    const committed = await readGroupFiles(CRDS_ROOT, result.generation.groups);
    expect([...result.generation.files.keys()].sort()).toEqual([...committed.keys()].sort());
    for (const [rel, content] of result.generation.files) expect(content).toBe(committed.get(rel));
  });

  it('finds every group complete and consistent with its inventory', () => {
    expect(result.problems).toEqual([]);
  });

  it('generates exactly the inventory of the pinned prometheus-operator, with the pinned controller-gen', () => {
    const expected = monitoringSource.crds
      .map((c) => crdRelativePath(c.plural, monitoringSource.group))
      .sort();
    const generated = [...result.generation.files].filter(([rel]) => inGroup(monitoringSource)(rel));
    expect(generated.map(([rel]) => rel)).toEqual(expected);
    expect(result.generation.controllerGen.version).toBe(CRDGEN_VERSIONS.controllerTools);
    for (const [, content] of generated) {
      expect(content.split('\n')[0]).toBe(expectedFirstLine(monitoringSource));
      const [crd] = parseCrds(content, 'generated');
      expect(crd!.metadata.annotations?.[CONTROLLER_GEN_VERSION_ANNOTATION]).toBe(
        CRDGEN_VERSIONS.controllerTools,
      );
    }
  });

  (notificationManagerRepository ? it : it.skip)(
    "regenerates notification-manager's CRDs and their SOURCE.json from NOTIFICATION_MANAGER_SRC",
    () => {
      expect(result.generation.groups).toContain(notificationSource.group);
      const generated = [...result.generation.files.keys()].filter(inGroup(notificationSource));
      expect(generated).toHaveLength(notificationSource.crds.length + 1);
    },
  );

  (monitoringDashboardRepository ? it : it.skip)(
    "regenerates monitoring-dashboard's CRDs and their SOURCE.json from MONITORING_DASHBOARD_SRC",
    () => {
      expect(result.generation.groups).toContain(dashboardSource.group);
      const generated = [...result.generation.files.keys()].filter(inGroup(dashboardSource));
      expect(generated).toHaveLength(dashboardSource.crds.length + 1);
    },
  );

  it('strips schema descriptions and keeps matcher operators as strings', () => {
    const crdFiles = [...result.generation.files.entries()].filter(([rel]) => isCrdFile(rel));
    const all = crdFiles.flatMap(([rel, content]) =>
      parseCrds(content, rel).flatMap((crd) => crd.spec.versions.map((v) => ({ rel, schema: v.schema }))),
    );
    expect(all.flatMap(({ rel, schema }) => schemaDescriptions(schema).map((d) => `${rel}${d}`))).toEqual([]);
    const amc = result.generation.files.get(crdRelativePath('alertmanagerconfigs', 'monitoring.coreos.com'))!;
    expect(amc).toContain("- '='");
    const matchType = JSON.stringify(parseCrds(amc, 'amc')[0]);
    expect(matchType).toContain('"enum":["!=","=","=~","!~"]');
  });

  it('keeps every CRD small enough for client-side apply (256 KiB last-applied annotation)', async () => {
    const files = await readGroupFiles(
      CRDS_ROOT,
      CRD_SOURCES.map((s) => s.group),
    );
    const sizes = [...files]
      .filter(([rel]) => isCrdFile(rel))
      .map(([rel, content]) => ({
        rel,
        bytes: JSON.stringify(parseCrds(content, rel)[0]).length,
      }));
    expect(sizes.filter((s) => s.bytes >= 256 * 1024)).toEqual([]);
  });
});

describe('normalising controller-gen output', () => {
  const raw = [
    '---',
    'apiVersion: apiextensions.k8s.io/v1',
    'kind: CustomResourceDefinition',
    'metadata:',
    '  annotations:',
    '    controller-gen.kubebuilder.io/version: v0.6.2',
    '  creationTimestamp: null',
    '  name: widgets.monitoring.coreos.com',
    'spec:',
    '  scope: Namespaced',
    '  group: monitoring.coreos.com',
    '  names: {plural: widgets, kind: Widget}',
    '  versions:',
    '  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}',
    'status: {acceptedNames: {kind: "", plural: ""}, conditions: [], storedVersions: []}',
    '',
  ].join('\n');

  it('drops another release’s version annotation, the status stub and creationTimestamp, and sorts keys', () => {
    const [file] = normalizeGenerated(raw, 'x.yaml', monitoringSource, CRDGEN_VERSIONS.controllerTools);
    expect(file!.relativePath).toBe('monitoring.coreos.com/widgets.monitoring.coreos.com.yaml');
    const body = file!.content.split('\n').filter((l) => !l.startsWith('#'));
    expect(body.slice(0, 5)).toEqual([
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata:',
      '  name: widgets.monitoring.coreos.com',
      'spec:',
    ]);
    expect(file!.content).not.toMatch(/controller-gen\.kubebuilder\.io|creationTimestamp|acceptedNames/);
    expect(body.indexOf('  group: monitoring.coreos.com')).toBeLessThan(body.indexOf('  scope: Namespaced'));
  });

  it('keeps the annotation of the pinned release and refuses a CRD of another group', () => {
    const pinned = raw.replace('v0.6.2', CRDGEN_VERSIONS.controllerTools);
    const [file] = normalizeGenerated(pinned, 'x.yaml', monitoringSource, CRDGEN_VERSIONS.controllerTools);
    expect(file!.content).toContain(
      `${CONTROLLER_GEN_VERSION_ANNOTATION}: ${CRDGEN_VERSIONS.controllerTools}`,
    );
    const other = raw.replace('group: monitoring.coreos.com', 'group: example.com');
    expect(() =>
      normalizeGenerated(other, 'x.yaml', monitoringSource, CRDGEN_VERSIONS.controllerTools),
    ).toThrow(/group example\.com, not monitoring\.coreos\.com/);
  });
});

/*
 * Raw JSON through the project's client: @kubernetes/client-node's typed serialisation of a
 * CustomResourceDefinition drops `x-kubernetes-*` keys inside `properties`, which breaks these schemas.
 */
const withCluster = process.env.KS_ENVTEST_INFO ? describe : describe.skip;

withCluster('the API server', () => {
  it('accepts every CRD file (server-side apply, dry run)', async () => {
    const client = adminClient();
    const files = await readGroupFiles(
      CRDS_ROOT,
      CRD_SOURCES.map((s) => s.group),
    );
    const crdFiles = [...files].filter(([rel]) => isCrdFile(rel));
    expect(crdFiles).toHaveLength(CRD_SOURCES.reduce((n, s) => n + s.crds.length, 0));
    const failures: string[] = [];
    for (const [rel, content] of crdFiles) {
      const crd = parseCrds(content, rel)[0]!;
      try {
        const applied = await client.request<KubeObject>(
          'PATCH',
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
          {
            query: { fieldManager: 'ks-installer-crdgen-test', force: true, dryRun: 'All' },
            body: crd as unknown as KubeObject,
            contentType: CONTENT_TYPE.apply,
          },
        );
        if (applied.metadata.name !== crd.metadata.name)
          failures.push(`${rel}: applied ${applied.metadata.name}`);
      } catch (err) {
        failures.push(`${rel}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
