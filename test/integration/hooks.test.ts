/** User hooks: run after a successful install with a shell-operator binding context; a failing one shows on the status. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import {
  ccPath,
  clusterEvents,
  createClusterConfiguration,
  prepareOperatorTest,
  sampleClusterConfiguration,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

function writeHook(dir: string, name: string, body: string): void {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `#!/bin/sh\nif [ "$1" = "--config" ]; then\n  printf 'configVersion: v1\\nafterInstall: true\\n'\n  exit 0\nfi\n${body}\n`,
  );
  chmodSync(file, 0o755);
}

describe('user hooks', () => {
  let admin: KubeClient;
  let ns: string;
  let dir: string;
  let op: OperatorProcess;

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('hooks'));
    dir = mkdtempSync(path.join(tmpdir(), 'ks-hooks-'));
    writeHook(dir, 'record-context', `cp "$BINDING_CONTEXT_PATH" "${dir}/context.json"\necho recorded`);
    writeHook(dir, 'always-fails', 'echo about to fail\nexit 3');
    writeFileSync(path.join(dir, 'notes.md'), 'not a hook\n');
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    op = startOperatorProcess(['--namespace', ns, '--hooks-dir', dir, '--resync-period', '1h']);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs afterInstall hooks with the binding context and reports a failing one on the status', async () => {
    // The hook's own output file and the status say what the log lines would (read once it parses whole).
    const context = await waitUntil(
      'the binding context recorded',
      async () =>
        JSON.parse(readFileSync(path.join(dir, 'context.json'), 'utf8')) as {
          type: string;
          binding: string;
          object: { kind: string };
        }[],
      150_000,
    );
    expect(context[0]).toMatchObject({ type: 'AfterInstall', object: { kind: 'ClusterConfiguration' } });
    await waitUntil('the hook output in the log', async () => op.lines.some((l) => l.includes('recorded')));
    const cc = await waitUntil('UserHookFailed', async () => {
      const c = await admin.get<ClusterConfiguration>(ccPath(ns));
      return c.status?.conditions?.some((x) => x.type === 'UserHookFailed' && x.status === 'True')
        ? c
        : undefined;
    });
    expect(cc.status?.conditions?.find((x) => x.type === 'UserHookFailed')?.message).toContain(
      'always-fails',
    );
    expect(cc.status?.conditions?.find((x) => x.type === 'UserHookFailed')?.message).toMatch(/code 3/);
    expect(cc.status?.monitoring?.status).toBe('enabled');
    expect(cc.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
    await waitUntil('a UserHookFailed Event', async () =>
      (await clusterEvents(admin, ns, 'ks-installer')).some((e) => e.reason === 'UserHookFailed'),
    );
    expect(op.child.exitCode).toBeNull();
  });
});
