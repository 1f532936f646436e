/** A problem with one field of the ClusterConfiguration, said so that a user can fix it. */
export interface FieldProblem {
  /** Full path from the object, e.g. `spec.monitoring.prometheus.replicas`. */
  field: string;
  /** What is wrong, naming the field and the bad value. */
  message: string;
  /** What to write instead. */
  fix: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: FieldProblem[];

  constructor(problems: FieldProblem[]) {
    const lines = problems.map((p) => `  - ${p.message} Fix: ${p.fix}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid ClusterConfiguration (${count}):\n${lines.join('\n')}`);
    this.problems = problems;
  }
}

const SECRET_KEY = /(password|passwd|secret|token|credential|private[-_]?key|api[-_]?key|access[-_]?key)/i;

/** The value for a message: JSON, shortened, and never the value of a key that looks secret. */
export function describeValue(field: string, value: unknown): string {
  const lastKey =
    field
      .split(/[.[\]]/)
      .filter(Boolean)
      .pop() ?? '';
  if (SECRET_KEY.test(lastKey)) return '<redacted>';
  const text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
