// One embedded control plane for the whole integration run. Test files find it through
// KS_ENVTEST_INFO (the path of its cluster.json) and isolate themselves by namespace.
// Plain ESM loaded by Node itself (jest does not transform global setup); the `tsx` import hook
// that `npm test` registers lets it import the TypeScript sources.
import { ControlPlane } from '../../tools/envtest/control-plane.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { TEST_USERS } from './users.ts';

export default async function globalSetup() {
  const cp = await ControlPlane.start({ withTools: true, users: TEST_USERS });
  globalThis.__controlPlane = cp;
  process.env.KS_ENVTEST_INFO = `${cp.info.dir}/cluster.json`;
  const version = await KubeClient.fromKubeconfig(cp.kubeconfig).get('/version');
  process.stderr.write(
    `\nintegration tests talk to kube-apiserver ${version.gitVersion} (${version.platform}) at ${cp.server}\n`,
  );
}
