/**
 * The operator's logger: winston underneath, a small interface of ours on top, so the rest of the
 * code does not depend on winston's types. One line per event, text or JSON, secrets redacted.
 */
import winston from 'winston';
import { formatJson, formatText } from './log-format.js';
import type { LogEvent, LogFields, LogFormat, LogLevel } from './log-format.js';

export { redact, isSecretKey, REDACTED } from './redact.js';
export { errorMessage, JSON_ONLY } from './log-format.js';
export type { LogFields, LogFormat, LogLevel } from './log-format.js';

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every event (the call's own fields win on a clash). */
  child(fields: LogFields): Logger;
  /** Whether events of `level` are written; lets callers skip building costly fields. */
  isLevelEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go; standard output by default. */
  stream?: NodeJS.WritableStream;
  /** The clock, for tests. */
  now?: () => Date;
}

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

const SEVERITY: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const MESSAGE = Symbol.for('message');
const EVENT = Symbol('ks-installer.log-event');

/** Parses a `--log-level` value (case-insensitive; `warning` is `warn`). */
export function parseLogLevel(value: string): LogLevel {
  const v = value.trim().toLowerCase();
  const level = v === 'warning' ? 'warn' : v;
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`invalid log level "${value}": expected one of ${LOG_LEVELS.join(', ')}`);
}

/** Parses a `--log-format` value. */
export function parseLogFormat(value: string): LogFormat {
  const v = value.trim().toLowerCase();
  if ((LOG_FORMATS as readonly string[]).includes(v)) return v as LogFormat;
  throw new Error(`invalid log format "${value}": expected one of ${LOG_FORMATS.join(', ')}`);
}

class WinstonLogger implements Logger {
  constructor(
    private readonly target: winston.Logger,
    private readonly now: () => Date,
    private readonly base: LogFields,
  ) {}

  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new WinstonLogger(this.target, this.now, { ...this.base, ...fields });
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.target.isLevelEnabled(level);
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.target.isLevelEnabled(level)) return;
    const event: LogEvent = { time: this.now(), level, msg, fields: { ...this.base, ...fields } };
    this.target.log({ level, message: msg, [EVENT]: event });
  }
}

/** A winston format that turns our event into the finished line. */
function lineFormat(format: LogFormat, stacks: boolean): winston.Logform.Format {
  const render = format === 'json' ? formatJson : formatText;
  return winston.format((info) => {
    const event = info[EVENT] as LogEvent | undefined;
    info[MESSAGE] = event ? render(event, { stacks }) : String(info.message);
    return info;
  })();
}

/** Creates the logger: text by default, level info, to standard output. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const target = winston.createLogger({
    levels: SEVERITY,
    level,
    format: lineFormat(options.format ?? 'text', level === 'debug'),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout, eol: '\n' })],
    exitOnError: false,
  });
  return new WinstonLogger(target, options.now ?? (() => new Date()), {});
}

/** A logger that writes nothing, for code and tests that need one. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
