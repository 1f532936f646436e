/**
 * The upstream CRDs as committed, checked without generating anything (CI has no copy of
 * notification-manager's repository, which the Go module proxy does not serve): notification-manager's
 * files match the provenance recorded next to them, every group matches its inventory, and every CRD has
 * a full schema instead of keeping unknown fields at its root. `npm run crds:check` regenerates them
 * byte for byte where the repository is at hand (test/integration/crdgen.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { readGroupFiles } from '../../../tools/crdgen/generate.js';
import { checkGroupFiles } from '../../../tools/crdgen/inventory.js';
import { parseCrds } from '../../../tools/crdgen/normalize.js';
import { checkProvenance, PROVENANCE_FILE, type Provenance } from '../../../tools/crdgen/provenance.js';
import { CRD_SOURCES, isLocalGitSource } from '../../../tools/crdgen/sources.js';
import { CRDGEN_VERSIONS } from '../../../tools/crdgen/versions.js';
import { projectRoot } from '../../../src/paths.js';
import { ROLES } from '../../../src/installer/catalog.js';

const CRDS_ROOT = path.join(projectRoot(), 'crds');
const PRESERVE = 'x-kubernetes-preserve-unknown-fields';
const files = await readGroupFiles(
  CRDS_ROOT,
  CRD_SOURCES.map((s) => s.group),
);
const crdFiles = [...files].filter(([rel]) => rel.endsWith('.yaml'));
const notificationManager = CRD_SOURCES.filter(isLocalGitSource).find(
  (s) => s.group === 'notification.kubesphere.io',
)!;

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  [PRESERVE]?: boolean;
}

describe('upstream CRDs as committed', () => {
  it('match their inventory, group by group', () => {
    expect(CRD_SOURCES.flatMap((s) => checkGroupFiles(s, files))).toEqual([]);
  });

  it("notification-manager's match the provenance recorded in SOURCE.json", () => {
    expect(checkProvenance(notificationManager, files)).toEqual([]);
    const recorded = JSON.parse(files.get(`${notificationManager.group}/${PROVENANCE_FILE}`)!) as Provenance;
    expect(recorded).toMatchObject({
      repository: 'https://github.com/kubesphere/notification-manager',
      tag: 'v2.3.0',
      commit: CRDGEN_VERSIONS.notificationManager.commit,
      controllerGen: { version: CRDGEN_VERSIONS.controllerTools },
    });
    expect(Object.keys(recorded.sha256)).toHaveLength(5);
  });

  it('a changed byte is caught by the recorded checksum', () => {
    const rel = `${notificationManager.group}/receivers.${notificationManager.group}.yaml`;
    const tampered = new Map(files).set(rel, `${files.get(rel)!} `);
    expect(checkProvenance(notificationManager, tampered)).toEqual([
      expect.stringMatching(
        new RegExp(`^${rel.replace(/\./g, '\\.')}: sha256 [0-9a-f]{64} is not the recorded`),
      ),
    ]);
  });

  it('no CRD keeps unknown fields at its root, or at the root of spec or status', () => {
    const loose = crdFiles.flatMap(([rel, content]) =>
      parseCrds(content, rel).flatMap((crd) =>
        crd.spec.versions.flatMap((v) => {
          const root = v.schema?.openAPIV3Schema as Schema | undefined;
          const where = `${rel} ${v.name}`;
          return [
            root?.[PRESERVE] ? `${where}: openAPIV3Schema` : [],
            root?.properties?.spec?.[PRESERVE] ? `${where}: spec` : [],
            root?.properties?.status?.[PRESERVE] ? `${where}: status` : [],
          ].flat();
        }),
      ),
    );
    expect(loose).toEqual([]);
  });

  it("every notification-manager version has a full spec schema (the operator's Go types)", () => {
    for (const [rel, content] of crdFiles.filter(([r]) => r.startsWith(`${notificationManager.group}/`))) {
      for (const v of parseCrds(content, rel)[0]!.spec.versions) {
        const spec = (v.schema?.openAPIV3Schema as Schema).properties?.spec;
        expect({ rel, version: v.name, properties: Object.keys(spec?.properties ?? {}).length > 0 }).toEqual({
          rel,
          version: v.name,
          properties: true,
        });
      }
    }
  });

  it('the CRDs the installer gives a conversion webhook are the ones upstream converts', () => {
    const upstream = notificationManager.crds
      .filter((c) => c.conversionWebhook)
      .map((c) => `${c.plural}.${notificationManager.group}`);
    const role = ROLES.find((r) => r.crds.includes(notificationManager.group));
    expect(role?.conversionWebhook?.crds).toEqual(upstream);
    expect(upstream).toEqual(['configs.notification.kubesphere.io', 'receivers.notification.kubesphere.io']);
  });
});
