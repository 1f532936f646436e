/** Runs the helm binary on charts/ks-installer and parses what it renders (shared by the chart tests). */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { resolveBinaries } from '../../../tools/envtest/binaries.js';
import { ENVTEST_VERSIONS } from '../../../tools/envtest/versions.js';
import type { KubeObject } from '../../../src/kube/client.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHART_DIR = path.join(ROOT, 'charts', 'ks-installer');

/** helm from the control plane's binary set (the cache, or built once). */
export async function helmBinary(): Promise<string> {
  const found = await resolveBinaries({ needed: ['helm'] });
  if (!found.helm) throw new Error('no helm binary');
  return found.helm;
}

export interface HelmResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs helm; never throws for a non-zero exit (tests judge exitCode and stderr). */
export async function helm(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<HelmResult> {
  const r = await execa(bin, args, { reject: false, env });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  /** `--set` pairs, e.g. { replicas: '3' }. */
  set?: Record<string, string>;
  /** `--kube-version`; default the embedded control plane's. */
  kubeVersion?: string;
}

/** `helm template` with the control plane's Kubernetes version; throws with helm's stderr on failure. */
export async function helmTemplate(bin: string, options: TemplateOptions = {}): Promise<KubeObject[]> {
  const args = [
    'template',
    options.release ?? 'ks-installer',
    CHART_DIR,
    '--namespace',
    options.namespace ?? 'kubesphere-system',
    '--kube-version',
    options.kubeVersion ?? ENVTEST_VERSIONS.kubernetes,
    ...Object.entries(options.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
  ];
  const r = await helm(bin, args);
  if (r.exitCode !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${r.stderr}`);
  return (yaml.loadAll(r.stdout) as (KubeObject | null)[]).filter((o): o is KubeObject => !!o);
}

export function findObject(objects: KubeObject[], kind: string, name?: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export function rulesOf(o: KubeObject | undefined): PolicyRule[] {
  if (!o) throw new Error('no such object in the rendered chart');
  return (o as KubeObject & { rules?: PolicyRule[] }).rules ?? [];
}

export function readYaml<T = unknown>(file: string): T {
  return yaml.load(readFileSync(file, 'utf8')) as T;
}
