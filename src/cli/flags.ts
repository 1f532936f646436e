/**
 * Flag parsing for the subcommands: `--flag value` or `--flag=value`, each flag also read from the
 * environment as KS_INSTALLER_<FLAG> (upper case, dashes as underscores). Unknown flags are errors.
 */
import { parseGoDuration } from '../util/duration.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string | boolean;
  short?: string;
  help: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function envName(flag: string): string {
  return `KS_INSTALLER_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export function parseFlags<S extends Record<string, FlagSpec>>(
  argv: string[],
  specs: S,
  env: NodeJS.ProcessEnv = process.env,
): { [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : string | undefined } & { _: string[] } {
  const out: Record<string, unknown> = { _: [] as string[] };
  for (const [name, spec] of Object.entries(specs)) {
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined && fromEnv !== '') {
      out[name] = spec.type === 'boolean' ? !/^(false|0|no)$/i.test(fromEnv) : fromEnv;
    } else out[name] = spec.default;
  }
  const byShort = new Map(
    Object.entries(specs).flatMap(([n, s]) => (s.short ? [[s.short, n] as const] : [])),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      (out._ as string[]).push(arg);
      continue;
    }
    const [rawName, inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    const name = arg.startsWith('--') ? rawName : (byShort.get(rawName) ?? rawName);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag ${arg}`);
    if (spec.type === 'boolean') {
      out[name] = inline === undefined ? true : !/^(false|0|no)$/i.test(inline);
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
      out[name] = value;
    }
  }
  return out as never;
}

export function usage(command: string, specs: Record<string, FlagSpec>): string {
  const lines = Object.entries(specs).map(([name, s]) => {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ' <value>' : ''}`;
    const def = s.default !== undefined && s.default !== '' ? ` (default ${String(s.default)})` : '';
    return `  ${flag.padEnd(34)} ${s.help}${def} [${envName(name)}]`;
  });
  return `usage: ks-installer ${command} [flags]\n${lines.join('\n')}`;
}

/** A Go duration flag (300ms, 5s, 5m, 1h30m) in milliseconds; a usage error names the flag. */
export function parseDurationMs(value: string, flag: string): number {
  try {
    return parseGoDuration(value);
  } catch {
    throw new UsageError(`--${flag}: "${value}" is not a duration (examples: 30s, 5m, 1h)`);
  }
}
