/** Compares two sets of files (path → content) and summarises the differences. Pure. */

export type FileChange = 'missing' | 'unexpected' | 'changed';

export interface FileDifference {
  path: string;
  change: FileChange;
  /** For `changed`: where the files first differ, and how many lines differ. */
  detail?: string;
}

function firstDifference(expected: string, actual: string): string {
  const want = expected.split('\n');
  const got = actual.split('\n');
  let differing = 0;
  let first = -1;
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i]) {
      differing++;
      if (first < 0) first = i;
    }
  }
  const show = (line: string | undefined) => (line === undefined ? '(end of file)' : JSON.stringify(line));
  return (
    `line ${first + 1}: expected ${show(want[first])}, found ${show(got[first])}; ` +
    `${differing} line(s) differ (${want.length} expected, ${got.length} found)`
  );
}

/** `expected` is what generation produces, `actual` what is committed. */
export function compareFileSets(
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>,
): FileDifference[] {
  const out: FileDifference[] = [];
  const paths = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const path of paths) {
    const want = expected.get(path);
    const got = actual.get(path);
    if (got === undefined) out.push({ path, change: 'missing' });
    else if (want === undefined) out.push({ path, change: 'unexpected' });
    else if (want !== got) out.push({ path, change: 'changed', detail: firstDifference(want, got) });
  }
  return out;
}

export function formatDifferences(differences: readonly FileDifference[]): string {
  const label: Record<FileChange, string> = {
    missing: 'missing (generation produces it, it is not committed)',
    unexpected: 'unexpected (committed, generation does not produce it)',
    changed: 'differs',
  };
  return differences
    .map((d) => `  ${d.path}: ${label[d.change]}${d.detail ? `\n    ${d.detail}` : ''}`)
    .join('\n');
}
