/**
 * Child processes of the embedded control plane, and the guarantee that none outlives its owner:
 * every started process and its temporary directory are registered here and removed on normal exit,
 * on SIGINT/SIGTERM/SIGHUP, and — for owners that were killed outright — by the next control plane
 * that starts (see reapOrphans).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processAlive } from './go-build.js';

export const TEMP_PREFIX = 'ks-envtest-';
const OWNER_FILE = 'owner.json';

interface OwnerRecord {
  owner: number;
  children: { pid: number; name: string }[];
}

export class ManagedProcess {
  private exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(code);
      });
      child.once('error', () => {
        this.exitCode = -1;
        resolve(-1);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines this process wrote, for error messages. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** One temporary directory and the processes started for it. */
export class ProcessGroup {
  readonly processes: ManagedProcess[] = [];
  private removed = false;

  constructor(readonly dir: string) {
    live.add(this);
    installExitHandlers();
    this.writeOwner();
  }

  start(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): ManagedProcess {
    const logFile = path.join(this.dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    const p = new ManagedProcess(name, child, logFile);
    this.processes.push(p);
    this.writeOwner();
    return p;
  }

  private writeOwner(): void {
    const record: OwnerRecord = {
      owner: process.pid,
      children: this.processes.map((p) => ({ pid: p.pid, name: p.name })),
    };
    writeFileSync(path.join(this.dir, OWNER_FILE), JSON.stringify(record));
  }

  /** Stops processes in reverse start order, then removes the directory. */
  async stop(): Promise<void> {
    for (const p of [...this.processes].reverse()) await p.stop();
    this.remove();
  }

  /** Synchronous last resort (exit and signal handlers cannot await). */
  killNow(): void {
    for (const p of this.processes) p.killNow();
    this.remove();
  }

  private remove(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const live = new Set<ProcessGroup>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const g of [...live]) g.killNow();
  });
  const signals: [NodeJS.Signals, number][] = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ];
  for (const [signal, code] of signals) {
    process.once(signal, () => {
      for (const g of [...live]) g.killNow();
      process.exit(code);
    });
  }
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Removes what a control plane left behind when its owner was killed without a chance to clean up
 * (SIGKILL, OOM): its etcd and kube-apiserver processes and its temporary directory.
 * Returns how many directories were reaped.
 */
export function reapOrphans(base = tmpdir()): number {
  let reaped = 0;
  let entries: string[];
  try {
    entries = readdirSync(base).filter((e) => e.startsWith(TEMP_PREFIX));
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const dir = path.join(base, entry);
    let record: OwnerRecord;
    try {
      record = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    } catch {
      continue;
    }
    if (record.owner === process.pid || processAlive(record.owner)) continue;
    for (const child of record.children) {
      // Only kill a pid that still runs the binary we started (pids get reused).
      if (processAlive(child.pid) && child.name.startsWith(commandName(child.pid).slice(0, 15) || '\0')) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    reaped++;
  }
  return reaped;
}
