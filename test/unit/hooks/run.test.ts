import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingContext } from '../../../src/hooks/run.js';
import { runHook } from '../../../src/hooks/run.js';

describe('runHook', () => {
  let dir: string;

  async function hook(name: string, body: string): Promise<{ name: string; path: string }> {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return { name, path };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-run-test-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes the binding contexts in $BINDING_CONTEXT_PATH and streams prefixed output', async () => {
    const echo = await hook(
      'echo-context.sh',
      [
        'echo "cwd=$(pwd)"',
        'echo "extra=$EXTRA"',
        'cat "$BINDING_CONTEXT_PATH"',
        'echo "to stderr" >&2',
        'echo "path=$BINDING_CONTEXT_PATH"',
      ].join('\n'),
    );
    const contexts: BindingContext[] = [
      {
        binding: 'ClusterConfiguration ks-installer',
        type: 'Event',
        watchEvent: 'Modified',
        object: { spec: { a: 1 } },
      },
      { binding: 'afterInstall', type: 'AfterInstall' },
    ];
    const lines: string[] = [];

    const result = await runHook(echo, contexts, { logger: (l) => lines.push(l), env: { EXTRA: 'yes' } });

    expect(result).toMatchObject({ ok: true, exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(lines[0]).toBe(`[echo-context.sh] cwd=${dir}`);
    expect(lines[1]).toBe('[echo-context.sh] extra=yes');
    expect(lines).toContain('[echo-context.sh] to stderr');
    expect(lines.every((l) => l.startsWith('[echo-context.sh] '))).toBe(true);

    // The hook printed the file verbatim: the output holds the JSON array we passed.
    const json = result.output.slice(result.output.indexOf('['), result.output.lastIndexOf(']') + 1);
    expect(JSON.parse(json)).toEqual(contexts);
    expect(result.output).toContain('to stderr');

    // The temporary file is gone afterwards.
    const contextPath = /^path=(.+)$/m.exec(result.output)?.[1];
    expect(contextPath).toMatch(/binding-context\.json$/);
    expect(existsSync(contextPath as string)).toBe(false);
  });

  it('reports a failing hook with its exit code instead of throwing', async () => {
    const failing = await hook('fail.sh', 'echo "about to fail"\nexit 7');
    const lines: string[] = [];
    const result = await runHook(failing, [{ binding: 'resync', type: 'Schedule' }], {
      logger: (l) => lines.push(l),
    });
    expect(result).toMatchObject({ ok: false, exitCode: 7, timedOut: false });
    expect(result.output).toBe('about to fail\n');
    expect(lines).toEqual(['[fail.sh] about to fail']);
  });

  it('stops a hook that runs past its time limit, children included', async () => {
    const slow = await hook('slow.sh', 'echo started\nsleep 30\necho finished');
    const lines: string[] = [];
    const result = await runHook(slow, [{ binding: 'onStartup', type: 'onStartup' }], {
      timeoutMs: 300,
      logger: (l) => lines.push(l),
    });
    expect(result).toMatchObject({ ok: false, exitCode: null, timedOut: true });
    expect(result.output).toContain('started');
    expect(result.output).not.toContain('finished');
    expect(lines.at(-1)).toBe('[slow.sh] timed out after 300 ms and was stopped');
  });

  it('reports a hook that cannot start', async () => {
    const result = await runHook({ path: join(dir, 'missing.sh') }, []);
    expect(result).toMatchObject({ ok: false, exitCode: null, timedOut: false });
    expect(result.output).toMatch(/could not start: .*ENOENT/);
  });

  it('runs a hook without a logger and names it by its file', async () => {
    const quiet = await hook('quiet.sh', 'printf "no newline"');
    const result = await runHook({ path: quiet.path }, []);
    expect(result).toMatchObject({ ok: true, exitCode: 0, output: 'no newline\n' });
  });
});
