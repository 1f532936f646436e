/**
 * Every PromQL expression of the GPU ClusterDashboard (its panels' targets and its query variables)
 * parses with promtool 2.39.1, the Prometheus release we install: each is written as a recording rule,
 * with the dashboard variables ($node, $gpu) replaced by the all-value `.*` the console sends, and
 * `promtool check rules` must accept the file. label_values(...) is the console's variable syntax, not
 * PromQL: its selector argument is checked instead.
 */
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { resolveTestTool } from '../../../tools/envtest/test-tools.js';
import { findObject, renderRole, withMonitoring } from '../roles/golden.js';

let promtool: string;

beforeAll(async () => {
  promtool = (await resolveTestTool('promtool')).path;
}, 30 * 60_000);

interface Board {
  spec: { panels: { targets: { expr: string }[] }[]; templatings: { query: string }[] };
}

function dashboardExpressions(): string[] {
  const objects = renderRole(
    'gpu-monitoring',
    withMonitoring({ gpu: { nvidia_dcgm_exporter: { enabled: true } } }),
  );
  const board = findObject<Board>(objects, 'ClusterDashboard', 'nvidia-gpu-dcgm-exporter');
  const targets = board.spec.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const variables = board.spec.templatings.map((t) => {
    const m = /^label_values\((.+), *(\w+)\)$/.exec(t.query);
    if (!m) throw new Error(`not a label_values query: ${t.query}`);
    return m[1]!;
  });
  return [...targets, ...variables].map((e) => e.replaceAll('$node', '.*').replaceAll('$gpu', '.*'));
}

describe('the GPU dashboard', () => {
  it('has PromQL that Prometheus 2.39.1 parses', async () => {
    const exprs = dashboardExpressions();
    expect(exprs).toHaveLength(8);
    const dir = mkdtempSync(path.join(tmpdir(), 'ks-gpu-dashboard-'));
    const file = path.join(dir, 'gpu-dashboard.yaml');
    const rules = exprs.map((expr, i) => ({ record: `ks_test:gpu_dashboard_${i}`, expr }));
    writeFileSync(file, yaml.dump({ groups: [{ name: 'gpu-dashboard', rules }] }, { lineWidth: -1 }));
    const r = await execa(promtool, ['check', 'rules', file], { reject: false, all: true });
    expect(r.all).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.exitCode).toBe(0);
  });

  it('a broken expression would fail the check', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ks-gpu-dashboard-'));
    const file = path.join(dir, 'broken.yaml');
    const rules = [
      { record: 'ks_test:broken', expr: 'DCGM_FI_DEV_GPU_TEMP * on (pod group_left kube_pod_info' },
    ];
    writeFileSync(file, yaml.dump({ groups: [{ name: 'broken', rules }] }));
    const r = await execa(promtool, ['check', 'rules', file], { reject: false, all: true });
    expect(r.exitCode).not.toBe(0);
  });
});
