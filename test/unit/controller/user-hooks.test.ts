import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserHooks } from '../../../src/controller/user-hooks.js';
import { parseHookConfig } from '../../../src/hooks/bindings.js';
import type { UserHook } from '../../../src/hooks/discover.js';
import { silentLogger } from '../../../src/observe/logger.js';

/** A ClusterConfiguration as the watch delivers it: our status writes change everything but .spec. */
function cc(port: number, statusProgress: string): object {
  return {
    apiVersion: 'installer.kubesphere.io/v1alpha1',
    kind: 'ClusterConfiguration',
    metadata: { name: 'ks-installer', namespace: 'kubesphere-system', resourceVersion: statusProgress },
    spec: { monitoring: { node_exporter: { port } } },
    status: { progress: statusProgress },
  };
}

describe('UserHooks kubernetes bindings', () => {
  let dir: string;
  let hooks: UserHooks;

  /** A hook that appends the type, watch event and filter result of each call to a file. */
  async function recordingHook(name: string, config: string): Promise<UserHook> {
    const path = join(dir, name);
    await writeFile(
      path,
      `#!/bin/sh\nnode -e 'const [c] = JSON.parse(require("fs").readFileSync(process.env.BINDING_CONTEXT_PATH, "utf8")); console.log([c.type, c.watchEvent ?? "", JSON.stringify(c.filterResult ?? c.objects?.[0]?.filterResult ?? null)].join(" "))' >> "${path}.calls"\n`,
    );
    await chmod(path, 0o755);
    return { name, path, config: parseHookConfig(config, name) };
  }

  const calls = async (name: string) =>
    (await readFile(join(dir, `${name}.calls`), 'utf8').catch(() => '')).split('\n').filter(Boolean);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-user-hooks-'));
    hooks = new UserHooks(
      [
        await recordingHook(
          'on-spec',
          [
            'configVersion: v1',
            'kubernetes:',
            '- name: spec',
            '  kind: ClusterConfiguration',
            '  executeHookOnEvent: [Modified, Deleted]',
            '  jqFilter: .spec',
          ].join('\n'),
        ),
        await recordingHook(
          'on-anything',
          [
            'configVersion: v1',
            'kubernetes:',
            '- name: any',
            '  kind: ClusterConfiguration',
            '  executeHookOnEvent: [Modified]',
            '  executeHookOnSynchronization: false',
          ].join('\n'),
        ),
      ],
      silentLogger,
    );
  });

  afterAll(async () => {
    hooks.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fires a jqFilter binding on Modified only when the selected value changed, in event order', async () => {
    const events: Promise<void>[] = [
      hooks.onObjectEvent('Synchronization', cc(9100, '1')),
      hooks.onObjectEvent('Modified', cc(9100, '2')), // a status write: .spec unchanged
      hooks.onObjectEvent('Modified', cc(9111, '3')), // an edit of the spec
      hooks.onObjectEvent('Modified', cc(9111, '4')), // a status write
      hooks.onObjectEvent('Modified', cc(9112, '5')), // another edit
      hooks.onObjectEvent('Deleted', cc(9112, '6')),
    ];
    await Promise.all(events);

    expect(await calls('on-spec')).toEqual([
      'Synchronization  {"monitoring":{"node_exporter":{"port":9100}}}',
      'Event Modified {"monitoring":{"node_exporter":{"port":9111}}}',
      'Event Modified {"monitoring":{"node_exporter":{"port":9112}}}',
      'Event Deleted {"monitoring":{"node_exporter":{"port":9112}}}',
    ]);
    // Without a jqFilter every Modified event fires, and synchronization is off.
    expect(await calls('on-anything')).toHaveLength(4);
  });
});
