/**
 * The operator's entry loads client-node's KubeConfig without the package's generated API. A fresh
 * process proves it (module loading is per process): the generated model modules stay unloaded, and
 * the client still reads a kubeconfig and authenticates a request. A client-node upgrade that makes
 * config.js need more of `./gen/index.js` fails here.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../../..');

const script = (slim: boolean) => `
import { registerHooks } from 'node:module';
import { registerSlimClientNode } from './src/kube/slim-client-node.ts';
${slim ? 'registerSlimClientNode();' : ''}
let generated = 0;
registerHooks({ resolve(s, c, next) { const r = next(s, c); if (r.url.includes('/dist/gen/models/')) generated++; return r; } });
const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
const { KubeClient } = await import('./src/kube/client.ts');
const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const error = await new KubeClient(kc).get('/version').catch((e) => e);
console.log(JSON.stringify({ generated, reason: error.reason }));
`;

async function load(slim: boolean): Promise<{ generated: number; reason: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script(slim)],
    { cwd: ROOT },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as { generated: number; reason: string };
}

describe('registerSlimClientNode', () => {
  it('loads KubeConfig without the generated API, and requests still go out', async () => {
    // Nothing listens on port 1: the request got as far as the transport.
    expect(await load(true)).toEqual({ generated: 0, reason: 'TransportError' });
  }, 60_000);

  it('without it the whole generated API loads (what the hook saves)', async () => {
    expect((await load(false)).generated).toBeGreaterThan(1000);
  }, 60_000);
});
