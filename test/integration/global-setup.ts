/**
 * One embedded control plane for the whole integration run. Test files find it through
 * KS_ENVTEST_INFO (the path of its cluster.json); they isolate themselves by namespace.
 */
import { ControlPlane } from '../../src/envtest/control-plane.js';
import { TEST_USERS } from './users.js';

declare global {
  var __controlPlane: ControlPlane | undefined;
}

export default async function globalSetup(): Promise<void> {
  const cp = await ControlPlane.start({ withTools: true, users: TEST_USERS });
  globalThis.__controlPlane = cp;
  process.env.KS_ENVTEST_INFO = `${cp.info.dir}/cluster.json`;
}
