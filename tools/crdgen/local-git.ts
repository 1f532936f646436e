/**
 * Copies the API types of a source that is not on the Go module proxy out of a local git repository (a clone
 * or a bare mirror) into a scratch directory, at the pinned commit only. The repository's own go.mod and
 * go.sum come along, so `go` resolves the dependencies at the versions upstream built with.
 */
import { execa } from 'execa';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LocalGitCrdSource } from './sources.js';

async function git(repo: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await execa('git', ['-C', repo, ...args], { reject: false });
  return { ok: r.exitCode === 0, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** Checks that `repo` holds the pinned commit and that the tag, if present, points at it. */
export async function verifyLocalGitSource(source: LocalGitCrdSource, repo: string): Promise<void> {
  const { commit, option, envVar } = source.origin;
  const named = `${option} / ${envVar}=${repo}`;
  if (
    !(await stat(repo).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    throw new Error(`${named}: not a directory`);
  const tag = await git(repo, ['rev-parse', '--verify', '--quiet', `refs/tags/${source.version}^{commit}`]);
  if (tag.ok && tag.stdout !== commit)
    throw new Error(`${named}: tag ${source.version} is commit ${tag.stdout}, ${commit} is pinned`);
  const has = await git(repo, ['cat-file', '-e', `${commit}^{commit}`]);
  if (!has.ok)
    throw new Error(
      `${named}: not a git repository holding commit ${commit} (${source.version}): ${has.stderr}`,
    );
}

/** Extracts the source's paths at its pinned commit into `dest` (created). */
export async function extractLocalGitSource(
  source: LocalGitCrdSource,
  repo: string,
  dest: string,
): Promise<void> {
  await verifyLocalGitSource(source, repo);
  await mkdir(dest, { recursive: true });
  const archive = path.join(path.dirname(dest), `${path.basename(dest)}.tar`);
  try {
    await execa('git', [
      '-C',
      repo,
      'archive',
      '--format=tar',
      '-o',
      archive,
      source.origin.commit,
      '--',
      ...source.origin.paths,
    ]);
    await execa('tar', ['-xf', archive, '-C', dest]);
  } finally {
    await rm(archive, { force: true });
  }
}
