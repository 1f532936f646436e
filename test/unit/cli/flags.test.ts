import { describe, expect, it } from '@jest/globals';
import { envName, parseDurationMs, parseFlags, UsageError } from '../../../src/cli/flags.js';

const SPECS = {
  kubeconfig: { type: 'string', help: '' },
  'log-format': { type: 'string', default: 'text', help: '' },
  'leader-elect': { type: 'boolean', default: false, help: '' },
  filename: { type: 'string', short: 'f', help: '' },
} as const;

describe('flags', () => {
  it('reads --flag value, --flag=value, short flags and booleans', () => {
    const f = parseFlags(
      ['--kubeconfig', '/k', '--log-format=json', '--leader-elect', '-f', 'cc.yaml', 'extra'],
      SPECS,
      {},
    );
    expect(f).toMatchObject({
      kubeconfig: '/k',
      'log-format': 'json',
      'leader-elect': true,
      filename: 'cc.yaml',
      _: ['extra'],
    });
  });

  it('takes defaults, then KS_INSTALLER_<FLAG> from the environment, then the command line', () => {
    expect(parseFlags([], SPECS, {})['log-format']).toBe('text');
    const env = { KS_INSTALLER_LOG_FORMAT: 'json', KS_INSTALLER_LEADER_ELECT: 'true' };
    expect(parseFlags([], SPECS, env)).toMatchObject({ 'log-format': 'json', 'leader-elect': true });
    expect(parseFlags(['--log-format', 'text'], SPECS, env)['log-format']).toBe('text');
    expect(envName('health-addr')).toBe('KS_INSTALLER_HEALTH_ADDR');
  });

  it('rejects unknown flags and missing values', () => {
    expect(() => parseFlags(['--nope'], SPECS, {})).toThrow(UsageError);
    expect(() => parseFlags(['--kubeconfig'], SPECS, {})).toThrow(/needs a value/);
  });

  it('parses Go-style durations', () => {
    expect(parseDurationMs('15s', 'x')).toBe(15_000);
    expect(parseDurationMs('1h30m', 'x')).toBe(5_400_000);
    expect(parseDurationMs('250ms', 'x')).toBe(250);
    expect(() => parseDurationMs('5 minutes', 'resync-period')).toThrow(/--resync-period/);
  });
});
