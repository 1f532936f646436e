#!/usr/bin/env node
/**
 * ks-installer: `run` (the operator) and `render` (offline manifests). Exit codes: 0 success,
 * 1 failure, 2 bad input (usage, invalid ClusterConfiguration).
 */
import { UsageError, usage, type FlagSpec } from './cli/flags.js';
import { registerSlimClientNode } from './kube/slim-client-node.js';

// Before anything imports the Kubernetes client. Each command's modules load when it runs: render
// never loads the client, run never loads render's file reading.
registerSlimClientNode();

async function help(): Promise<string> {
  const [{ RUN_FLAGS }, { RENDER_FLAGS }] = await Promise.all([
    import('./cli/run.js'),
    import('./cli/render.js'),
  ]);
  return helpText(RUN_FLAGS, RENDER_FLAGS);
}

const helpText = (
  RUN_FLAGS: Record<string, FlagSpec>,
  RENDER_FLAGS: Record<string, FlagSpec>,
) => `ks-installer: installs the KubeSphere monitoring stack and keeps it configured

commands:
  run      the operator: watches the ClusterConfiguration and applies the monitoring roles
  render   prints offline every manifest a run would apply

${usage('run', RUN_FLAGS)}

${usage('render', RENDER_FLAGS)}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command) {
    process.stderr.write(await help());
    return 2;
  }
  if (['help', '--help', '-h'].includes(command) || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(await help());
    return 0;
  }
  if (command === 'render') {
    const { render } = await import('./cli/render.js');
    const manifests = await render(rest);
    // Writes to a pipe are asynchronous: exiting before they drain would cut `render | kubectl apply -f -` short.
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(manifests, (err) => (err ? reject(err) : resolve())),
    );
    return 0;
  }
  if (command === 'run') {
    const { startOperator } = await import('./cli/run.js');
    const op = await startOperator(rest);
    const onSignal = (signal: string) => {
      op.logger.info(`received ${signal}`);
      void op.stop();
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    return op.done;
  }
  throw new UsageError(`unknown command "${command}" (run or render)`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    const { RunError } = await import('./reconcile/contract.js');
    if (err instanceof UsageError || (err instanceof RunError && err.reason === 'InvalidSpec')) {
      console.error(`ks-installer: ${err.message}`);
      process.exit(2);
    }
    console.error(`ks-installer: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof RunError ? 2 : 1);
  },
);
