#!/usr/bin/env node
/**
 * ks-installer: `run` (the operator) and `render` (offline manifests). Exit codes: 0 success,
 * 1 failure, 2 bad input (usage, invalid ClusterConfiguration).
 */
import { UsageError, usage } from './cli/flags.js';
import { render, RENDER_FLAGS } from './cli/render.js';
import { RUN_FLAGS, startOperator } from './cli/run.js';
import { PlanError } from './installer/plan.js';

const HELP = `ks-installer: installs the KubeSphere monitoring stack and keeps it configured

commands:
  run      the operator: watches the ClusterConfiguration and applies the monitoring roles
  render   prints offline every manifest a run would apply

${usage('run', RUN_FLAGS)}

${usage('render', RENDER_FLAGS)}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command) {
    process.stderr.write(HELP);
    return 2;
  }
  if (['help', '--help', '-h'].includes(command) || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'render') {
    const manifests = await render(rest);
    // Writes to a pipe are asynchronous: exiting before they drain would cut `render | kubectl apply -f -` short.
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(manifests, (err) => (err ? reject(err) : resolve())),
    );
    return 0;
  }
  if (command === 'run') {
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
  (err: unknown) => {
    if (err instanceof UsageError || (err instanceof PlanError && err.reason === 'InvalidSpec')) {
      console.error(`ks-installer: ${err.message}`);
      process.exit(2);
    }
    console.error(`ks-installer: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof PlanError ? 2 : 1);
  },
);
