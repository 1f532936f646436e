/**
 * What the generators of upstream-derived files (tools/generate-crds.ts, tools/generate-dashboards.ts)
 * share on their command line: `--check`, and local git repositories named by an option
 * (`--x-src <dir>` or `--x-src=<dir>`) or by its environment variable; exit 2 with the usage on bad
 * arguments, 1 on an error.
 */
import path from 'node:path';

export class UsageError extends Error {}

/** A repository a generator reads: its key in the result, its option and its environment variable. */
export interface RepositoryOption {
  key: string;
  option: string;
  envVar: string;
}

export interface GeneratorArguments {
  check: boolean;
  /** Key → local git repository (absolute). */
  repositories: Map<string, string>;
}

/** `--check` and the repositories, the environment first, options overriding it. */
export function parseGeneratorArguments(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: readonly RepositoryOption[],
): GeneratorArguments {
  const args: GeneratorArguments = { check: false, repositories: new Map() };
  for (const o of options) {
    const fromEnv = env[o.envVar];
    if (fromEnv) args.repositories.set(o.key, path.resolve(fromEnv));
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--check') {
      args.check = true;
      continue;
    }
    const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const option = options.find((o) => o.option === name);
    if (!option) throw new UsageError(`unknown argument: ${arg}`);
    const value = inline ?? argv[++i];
    if (!value) throw new UsageError(`${name} needs a directory`);
    args.repositories.set(option.key, path.resolve(value));
  }
  return args;
}

/** The usage line: `usage: npx tsx <script> [--check] [<option> <git repository>]…`. */
export function generatorUsage(script: string, options: readonly RepositoryOption[]): string {
  return `usage: npx tsx ${script} [--check] ${options.map((o) => `[${o.option} <git repository>]`).join(' ')}`;
}

/** Runs a generator's main and exits with its code: 2 and the usage on a UsageError, 1 on any other. */
export function runGenerator<A extends GeneratorArguments>(
  usage: string,
  parse: () => A,
  run: (args: A) => Promise<number>,
): void {
  const main = async (): Promise<number> => {
    let args: A;
    try {
      args = parse();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`${err.message}\n${usage}`);
      return 2;
    }
    return run(args);
  };
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
