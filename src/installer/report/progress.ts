/**
 * The progress string on the status while a run applies. It is written at most once a run, at a role
 * boundary a second or more after the run's first write: with the start and the end, a run writes the
 * object at most three times (each write bumps metadata.generation: there is no status subresource).
 */
import type { StatusWriter } from './status-writer.js';

/** The least time between a run's first status write and its one progress write. */
const PROGRESS_INTERVAL_MS = 1000;

export class RunProgress {
  private lastWriteAt: number;
  /** Whether the progress was written this run. */
  written = false;

  /** `startWritten`: the run wrote its start just now; `quiet`: the run writes no progress at all. */
  constructor(
    private readonly status: StatusWriter,
    private readonly quiet: boolean,
    startWritten: boolean,
  ) {
    this.lastWriteAt = startWritten ? performance.now() : -Infinity;
  }

  /** A role's last object is done (`done` of `total` roles): the progress is written when due. */
  async roleDone(role: string, done: number, total: number): Promise<void> {
    if (this.quiet || this.written || done === total) return;
    if (performance.now() - this.lastWriteAt < PROGRESS_INTERVAL_MS) return;
    this.written = true;
    this.lastWriteAt = performance.now();
    await this.status.patch({ progress: `${done}/${total} ${role} applied` });
  }
}
