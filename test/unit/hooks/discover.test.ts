import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHooks } from '../../../src/hooks/discover.js';

const repoHooksDir = fileURLToPath(new URL('../../../hooks/', import.meta.url));
const TARGET = { namespace: 'kubesphere-system', name: 'ks-installer' };

async function script(dir: string, name: string, body: string, mode = 0o755): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, mode);
  return path;
}

/** A hook printing `config` on --config and exiting 0 otherwise. */
function configHook(config: string): string {
  return `if [ "$1" = "--config" ]; then\ncat <<'EOF'\n${config}\nEOF\nfi`;
}

describe('loadHooks', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-hooks-test-'));
    await writeFile(join(dir, 'notes.yaml'), 'configVersion: v1\n');
    await writeFile(join(dir, 'README.md'), '# notes\n');

    await script(
      dir,
      'good.sh',
      configHook(
        [
          'configVersion: v1',
          'afterInstall: true',
          'schedule:',
          '- name: hourly',
          '  crontab: "@hourly"',
          'kubernetes:',
          '- kind: ClusterConfiguration',
          '  nameSelector: {matchNames: [ks-installer]}',
          '  jqFilter: .spec.monitoring',
        ].join('\n'),
      ),
    );
    await script(dir, 'legacy-v0.py', configHook('{"onStartup": 5}'));
    await script(dir, 'broken-config.sh', 'echo "cannot print bindings" >&2\nexit 3');
    await script(dir, 'not-executable.sh', configHook('configVersion: v1\nafterInstall: true'), 0o644);
    await script(dir, 'watches-pods.sh', configHook('configVersion: v1\nkubernetes:\n- kind: Pod'));
    await script(
      dir,
      'other-cc.sh',
      configHook(
        'configVersion: v1\nkubernetes:\n- kind: ClusterConfiguration\n  nameSelector: {matchNames: [other]}',
      ),
    );
    await script(dir, 'bad-yaml.sh', configHook('configVersion: v1\nschedule: [oops'));
    await script(
      dir,
      'bad-jq.sh',
      configHook('configVersion: v1\nkubernetes:\n- kind: cc\n  jqFilter: ".spec|keys"'),
    );
    await script(dir, 'no-bindings.sh', configHook('configVersion: v1'));
    await script(dir, 'slow.sh', 'sleep 30');
    await script(dir, 'settings.yaml', 'echo not a hook');
    await mkdir(join(dir, 'examples'));
    await script(join(dir, 'examples'), 'in-subdir.sh', configHook('configVersion: v1\nafterInstall: true'));
    await symlink(join(dir, 'good.sh'), join(dir, 'linked-good'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the user hooks, reporting broken ones without failing', async () => {
    const hooks = await loadHooks(dir, { configTimeoutMs: 1000, target: TARGET });

    expect(hooks.userHooks.map((h) => h.name)).toEqual(['good.sh', 'legacy-v0.py', 'linked-good']);
    const good = hooks.userHooks[0]!;
    expect(good.path).toBe(join(dir, 'good.sh'));
    expect(good.config).toMatchObject({
      configVersion: 'v1',
      afterInstall: true,
      schedule: [{ name: 'hourly', crontab: '@hourly' }],
      kubernetes: [{ kind: 'ClusterConfiguration', jqFilter: '.spec.monitoring' }],
    });
    expect(hooks.userHooks[1]!.config).toMatchObject({ configVersion: 'v0', onStartup: 5 });

    const errors = Object.fromEntries(hooks.errors.map((e) => [e.file.slice(dir.length + 1), e.reason]));
    expect(Object.keys(errors).sort()).toEqual(
      [
        'bad-jq.sh',
        'bad-yaml.sh',
        'broken-config.sh',
        'no-bindings.sh',
        'other-cc.sh',
        'slow.sh',
        'watches-pods.sh',
      ].sort(),
    );
    expect(errors['broken-config.sh']).toBe('--config exited with code 3: cannot print bindings');
    expect(errors['slow.sh']).toBe('--config did not finish within 1000 ms');
    expect(errors['watches-pods.sh']).toMatch(
      /kind Pod is not watched \(only ClusterConfiguration kubesphere-system\/ks-installer\)/,
    );
    expect(errors['other-cc.sh']).toMatch(/ClusterConfiguration other is not watched \(only ks-installer\)/);
    expect(errors['bad-yaml.sh']).toMatch(/^\(document\): not valid YAML/);
    expect(errors['bad-jq.sh']).toMatch(/^kubernetes\[0\]\.jqFilter: only a plain dotted path/);
    expect(errors['no-bindings.sh']).toMatch(/declares no binding/);
  });

  it('checks kubernetes bindings against the given target object', async () => {
    const hooks = await loadHooks(dir, {
      configTimeoutMs: 1000,
      target: { namespace: 'kubesphere-system', name: 'other' },
    });
    expect(hooks.userHooks.map((h) => h.name)).toContain('other-cc.sh');
    expect(hooks.errors.map((e) => e.file)).toContain(join(dir, 'good.sh'));
  });

  it('loads the hooks directory of this repository with no user hooks and no errors', async () => {
    const hooks = await loadHooks(repoHooksDir, { target: TARGET });
    expect(hooks.userHooks).toEqual([]);
    expect(hooks.errors).toEqual([]);
  });
});
