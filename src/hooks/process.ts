/**
 * Runs one hook executable: output collected and streamed line by line, a timeout that stops the
 * hook's whole process group (a shell script's children included), and no exception for a
 * failing hook: the result says what happened.
 */
import { execa } from 'execa';

interface ProcessOptions {
  args?: string[];
  cwd: string;
  env?: Record<string, string>;
  timeoutMs: number;
  /** Each output line (stdout and stderr), as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Wait this long after SIGTERM before SIGKILL. */
  killGraceMs?: number;
}

interface ProcessResult {
  /** Exit code; null when the process was killed by a signal or could not start. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the process could not be started (e.g. EACCES, ENOENT, ENOEXEC). */
  startError?: string;
  stdout: string;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
  durationMs: number;
}

/** Output kept per run; anything beyond is dropped and marked. */
const MAX_OUTPUT_CHARS = 1024 * 1024;

class OutputBuffer {
  private text = '';
  private truncated = false;

  add(line: string): void {
    if (this.truncated) return;
    if (this.text.length + line.length + 1 > MAX_OUTPUT_CHARS) {
      this.truncated = true;
      this.text += '[output truncated]\n';
      return;
    }
    this.text += `${line}\n`;
  }

  toString(): string {
    return this.text;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export async function runProcess(file: string, opts: ProcessOptions): Promise<ProcessResult> {
  const started = performance.now();
  const output = new OutputBuffer();
  const stdout = new OutputBuffer();
  // An execa line transform that only observes: it yields nothing, so no data is left in a stream
  // nobody reads (buffer is off).
  const collect = (stream: 'stdout' | 'stderr') =>
    // eslint-disable-next-line require-yield
    function* (chunk: unknown): Generator<unknown, void, void> {
      const line = String(chunk);
      output.add(line);
      if (stream === 'stdout') stdout.add(line);
      opts.onLine?.(line, stream);
    };

  const subprocess = execa(file, opts.args ?? [], {
    cwd: opts.cwd,
    env: opts.env ?? {},
    stdin: 'ignore',
    stdout: collect('stdout'),
    stderr: collect('stderr'),
    buffer: false,
    reject: false,
    // Its own process group, so a timeout can stop the children of a shell script too.
    detached: true,
  });

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    if (subprocess.pid === undefined) return;
    timedOut = true;
    const pid = subprocess.pid;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), opts.killGraceMs ?? 2000);
  }, opts.timeoutMs);

  const result = await subprocess;
  clearTimeout(timer);
  if (killTimer) clearTimeout(killTimer);

  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
  const signal = result.signal ?? null;
  const base: ProcessResult = {
    exitCode,
    signal,
    timedOut,
    stdout: stdout.toString(),
    output: output.toString(),
    durationMs: Math.round(performance.now() - started),
  };
  if (exitCode === null && signal === null && result.failed) {
    base.startError = result.originalMessage || result.shortMessage;
  }
  return base;
}
