/**
 * `npm run with-cluster -- <command...>`: runs one command against a fresh embedded control plane
 * (KUBECONFIG set, kubectl and helm first on PATH), tears it down, and exits with the command's code.
 * `npm run envtest:binaries`: only finds or builds the binaries, printing where they are; with
 * `--with-test-tools` also promtool, rules-eval, promql-parse, prometheus, prometheus-operator, thanos, alertmanager and the live stack's tools (see test-tools.ts).
 */
import { execa } from 'execa';
import { resolveBinaries } from './binaries.js';
import { ControlPlane } from './control-plane.js';
import { resolveAllTestTools } from './test-tools.js';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--binaries-only') {
    const found = await resolveBinaries();
    for (const [name, file] of Object.entries(found)) console.log(`${name}\t${file}`);
    if (argv.includes('--with-test-tools')) {
      for (const [name, file] of Object.entries(await resolveAllTestTools())) console.log(`${name}\t${file}`);
    }
    return 0;
  }
  const command = argv[0] === '--' ? argv.slice(1) : argv;
  if (command.length === 0) {
    console.error('usage: npm run with-cluster -- <command> [args...]');
    return 2;
  }
  const cp = await ControlPlane.start({ withTools: true });
  try {
    const result = await execa(command[0]!, command.slice(1), {
      env: cp.childEnv(),
      stdio: 'inherit',
      reject: false,
    });
    if (result.failed && result.exitCode === undefined) {
      console.error(`with-cluster: could not run ${command[0]}: ${result.message}`);
      return 127;
    }
    return result.exitCode ?? 1;
  } finally {
    await cp.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
