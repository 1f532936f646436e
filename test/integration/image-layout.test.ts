/**
 * The container image's file set, without a container engine: the Dockerfile's runtime stage is
 * read, its steps are redone in a temporary directory (production dependencies from the lock file,
 * the compiled program, the data folders), and the operator is started from there the way the
 * image's ENTRYPOINT starts it, until monitoring is enabled. A file the program needs at run time
 * that the image does not carry fails this test.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import type { KubeClient } from '../../src/kube/client.js';
import { adminClient, createTestNamespace } from './cluster.js';
import {
  ccPath,
  createClusterConfiguration,
  installClusterConfigurationCrd,
  ROOT,
  sampleClusterConfiguration,
} from './fixtures.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';
import { resolveHadolint } from '../../tools/envtest/test-tools.js';

interface RuntimeStage {
  /** COPY sources from the build context, and from the build stage (`--from=build`). */
  copies: { from?: string; source: string; target: string }[];
  runs: string[];
  entrypoint: string[];
  cmd: string[];
  user?: string;
  env: Record<string, string>;
}

/** The instructions of the Dockerfile's last stage (line continuations joined). */
function runtimeStage(dockerfile: string): RuntimeStage {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const last = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const stage: RuntimeStage = { copies: [], runs: [], entrypoint: [], cmd: [], env: {} };
  for (const line of lines.slice(last + 1)) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    switch (instruction!.toUpperCase()) {
      case 'COPY': {
        const words = rest.filter((w) => !w.startsWith('--') || w.startsWith('--from='));
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--from='));
        const target = paths.pop()!;
        for (const source of paths) stage.copies.push({ from, source, target });
        break;
      }
      case 'RUN':
        stage.runs.push(args);
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = JSON.parse(args) as string[];
        break;
      case 'CMD':
        stage.cmd = JSON.parse(args) as string[];
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'ENV': {
        const eq = args.indexOf('=');
        stage.env[args.slice(0, eq)] = args.slice(eq + 1).replace(/^"(.*)"$/, '$1');
        break;
      }
    }
  }
  return stage;
}

describe('the image layout', () => {
  const stage = runtimeStage(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  let app: string;
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess | undefined;

  beforeAll(async () => {
    app = mkdtempSync(path.join(tmpdir(), 'ks-installer-image-'));
    admin = adminClient();
    ns = await createTestNamespace(admin, 'image');
  });

  afterAll(async () => {
    await op?.stop();
    rmSync(app, { recursive: true, force: true });
  });

  it('the runtime stage carries the manifests, production dependencies, dist and data folders, and runs as 65532', () => {
    expect(stage.copies).toEqual([
      { from: undefined, source: 'package.json', target: './' },
      { from: undefined, source: 'package-lock.json', target: './' },
      { from: 'build', source: '/src/dist', target: './dist' },
      { from: undefined, source: 'templates', target: './templates' },
      { from: undefined, source: 'rules', target: './rules' },
      { from: undefined, source: 'crds', target: './crds' },
      { from: undefined, source: 'hooks', target: './hooks' },
      { from: undefined, source: 'watches.yaml', target: './watches.yaml' },
    ]);
    expect(stage.runs.some((r) => r.startsWith('npm ci --omit=dev --ignore-scripts'))).toBe(true);
    expect(stage.entrypoint).toEqual(['node', '--lite-mode', 'dist/main.js']);
    expect(stage.cmd).toEqual(['run']);
    expect(stage.user).toBe('65532:65532');
    expect(stage.env).toEqual({ NODE_ENV: 'production', NODE_OPTIONS: '--max-semi-space-size=2' });
  });

  it('the .dockerignore lets into the build context what the Dockerfile copies, and no tests or build output', () => {
    const rules = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, ''));
    for (const c of stage.copies.filter((x) => !x.from)) expect(allowed).toContain(c.source);
    for (const p of ['src', 'tsconfig.json', 'tsconfig.build.json']) expect(allowed).toContain(p);
    for (const p of ['node_modules', 'dist', 'test', '.git', 'charts']) expect(allowed).not.toContain(p);
  });

  it('hadolint (the pinned test tool) finds nothing to fix in the Dockerfile', async () => {
    const hadolint = (await resolveHadolint()).path;
    const r = await execa(hadolint, ['--no-color', path.join(ROOT, 'Dockerfile')], { reject: false });
    expect({ exitCode: r.exitCode, findings: String(r.stdout) }).toEqual({ exitCode: 0, findings: '' });
  });

  it('rebuilt in a directory, the entrypoint installs the stack for a ClusterConfiguration of its own namespace', async () => {
    // COPY package.json package-lock.json ./ and the same npm ci (from the npm cache when it can).
    for (const c of stage.copies.filter((x) => !x.from && x.target === './')) {
      cpSync(path.join(ROOT, c.source), path.join(app, c.source));
    }
    const npmCi = stage.runs
      .find((r) => r.startsWith('npm ci '))!
      .split('&&')[0]!
      .trim()
      .split(/\s+/);
    await execa('npm', [...npmCi.slice(1), '--prefer-offline'], { cwd: app, stdio: 'pipe' });
    expect(existsSync(path.join(app, 'node_modules', '@kubernetes', 'client-node'))).toBe(true);
    // Dev dependencies are not there, so nothing at run time can lean on them.
    for (const dev of ['typescript', 'tsx', 'jest', 'ts-jest']) {
      expect(existsSync(path.join(app, 'node_modules', dev))).toBe(false);
    }
    // COPY --from=build /src/dist: the build stage's compiler run.
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    // COPY templates crds hooks watches.yaml.
    for (const c of stage.copies.filter((x) => !x.from && x.target !== './')) {
      cpSync(path.join(ROOT, c.source), path.join(app, c.target), { recursive: true });
    }

    await installClusterConfigurationCrd(admin);
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    op = startOperatorProcess(
      ['--namespace', ns, '--resync-period', '1h'],
      { ...stage.env },
      { entry: stage.entrypoint.slice(1), cwd: app },
    );
    const deadline = Date.now() + 240_000;
    for (;;) {
      const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
      if (cc.status?.monitoring?.status === 'enabled') break;
      // A failed run is retried by the operator: only its exit or the deadline ends the wait.
      if (op.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `monitoring not enabled (${op.child.exitCode !== null ? 'the operator exited' : 'timed out'}); ` +
            `last log lines:\n${op.lines.slice(-30).join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    // status.monitoring is written just before the run's last log line: wait for the line, not only look.
    await op.waitFor(/run succeeded/, 10_000);
    expect(await op.stop()).toBe(0);
    op = undefined;
  }, 420_000);
});
