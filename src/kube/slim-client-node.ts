/**
 * client-node's KubeConfig (config.js) imports the package's whole generated API (`./gen/index.js`:
 * every model and API class, about 40 MiB resident and most of a second of startup) for two names it
 * uses only in makeApiClient, which this operator never calls. registerSlimClientNode makes that one
 * import resolve to a module holding just those two names, so loading KubeConfig costs what the
 * kubeconfig parsing and authentication code cost. The entry point registers it before anything
 * imports client.ts; without it (tests, tools) the full package loads and everything works the same.
 */
import { registerHooks } from 'node:module';

const CONFIG_MODULE = '@kubernetes/client-node/dist/config.js';
let registered = false;

export function registerSlimClientNode(): void {
  // registerHooks came with Node 22.15 / 23.5; on older lines the full package loads.
  if (registered || typeof registerHooks !== 'function') return;
  registered = true;
  const config = import.meta.resolve(CONFIG_MODULE);
  const gen = new URL('./gen/', config);
  const slim =
    'data:text/javascript,' +
    encodeURIComponent(
      `export { createConfiguration } from ${JSON.stringify(new URL('configuration.js', gen).href)};\n` +
        `export { ServerConfiguration } from ${JSON.stringify(new URL('servers.js', gen).href)};\n`,
    );
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === './gen/index.js' && context.parentURL === config)
        return { url: slim, shortCircuit: true };
      return nextResolve(specifier, context);
    },
  });
}
