/**
 * The rules catalog (rules/catalog.yaml) and its loader (src/rules/load.ts): every group in one file,
 * each placed with a role, the etcd groups only with etcd monitoring, the monitoring namespace from one
 * value, no empty PrometheusRule; and the alert cases cover every group, firing and quiet.
 */
import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { MONITORING_NAMESPACE } from '../../../src/config/values.js';
import { ROLES } from '../../../src/installer/catalog.js';
import { expandVariables, loadRuleCatalog, rulesRoot } from '../../../src/rules/load.js';
import { CASES_DIR } from '../../rules/promtool.js';

const catalog = loadRuleCatalog();

/** A copy of rules/ with one edit, for the loader's refusals. */
function editedCopy(file: string, edit: (text: string) => string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ks-rules-')), 'rules');
  cpSync(rulesRoot(), dir, { recursive: true });
  writeFileSync(path.join(dir, file), edit(readFileSync(path.join(dir, file), 'utf8')));
  return dir;
}

describe('rules catalog', () => {
  it('lists 16 recording groups of ours (135 rules, 112 records), 3 generated for Grafana (26 rules, 24 others), and 21 alert groups (140 rules, 125 alerts)', () => {
    const generated = catalog.recording.filter((e) => e.object === 'prometheus-k8s-grafana-rules');
    const ours = catalog.recording.filter((e) => !generated.includes(e));
    const records = ours.flatMap((e) => e.spec.rules.map((r) => r.record));
    expect(ours).toHaveLength(16);
    expect(records).toHaveLength(135);
    expect(new Set(records).size).toBe(112);
    expect(generated.map((e) => [e.group, e.role])).toEqual([
      ['kubernetes-mixin-k8s.rules', 'grafana'],
      ['kubernetes-mixin-node.rules', 'grafana'],
      ['node-mixin-node-exporter.rules', 'grafana'],
    ]);
    const grafanaRecords = generated.flatMap((e) => e.spec.rules.map((r) => r.record));
    expect(grafanaRecords).toHaveLength(26);
    expect(new Set(grafanaRecords).size).toBe(24);
    // No clash: a generated record never has the name of one of ours.
    expect(grafanaRecords.filter((r) => records.includes(r))).toEqual([]);
    const alerts = catalog.alerts.flatMap((e) => e.spec.rules.map((r) => r.alert));
    expect(catalog.alerts).toHaveLength(21);
    expect(alerts).toHaveLength(140);
    expect(new Set(alerts).size).toBe(125);
  });

  it('has exactly the files the catalog names, and places every group with a known role', () => {
    const listed = [...catalog.recording, ...catalog.alerts].map((e) => e.file).sort();
    const onDisk = ['recording', 'alerts']
      .flatMap((d) => readdirSync(path.join(rulesRoot(), d)).map((f) => `${d}/${f}`))
      .sort();
    expect(listed).toEqual(onDisk);
    const roles = new Set(ROLES.map((r) => r.name));
    for (const e of [...catalog.recording, ...catalog.alerts]) expect(roles).toContain(e.role);
  });

  it('installs the etcd groups only with etcd monitoring, and nothing else conditionally', () => {
    const conditional = [...catalog.recording, ...catalog.alerts].filter((e) => e.when).map((e) => e.group);
    expect(conditional).toEqual(['etcd.rules', 'etcd_histogram.rules', 'etcd']);
  });

  it('writes the monitoring namespace only as $(MONITORING_NAMESPACE), filled in from one value', () => {
    for (const e of [...catalog.recording, ...catalog.alerts]) {
      expect(readFileSync(path.join(rulesRoot(), e.file), 'utf8')).not.toContain(MONITORING_NAMESPACE);
    }
    expect(expandVariables('up{namespace="$(MONITORING_NAMESPACE)"}', { MONITORING_NAMESPACE: 'x' })).toBe(
      'up{namespace="x"}',
    );
    expect(() => expandVariables('up{namespace="$(NAMESPACE)"}', { MONITORING_NAMESPACE: 'x' })).toThrow(
      /unknown variable \$\(NAMESPACE\)/,
    );
  });

  it('refuses a file whose group is not the one the catalog names', () => {
    const dir = editedCopy('alerts/etcd.yaml', (t) => t.replace('- name: etcd', '- name: etcd-2'));
    expect(() => loadRuleCatalog(dir)).toThrow('rules/alerts/etcd.yaml: its one group must be named etcd');
  });

  it('refuses an alert without a known severity', () => {
    const dir = editedCopy('alerts/etcd.yaml', (t) => t.replace('severity: critical', 'severity: page'));
    expect(() => loadRuleCatalog(dir)).toThrow(/rules\/alerts\/etcd.yaml: etcdMembersDown: labels.severity/);
  });

  it('refuses a PrometheusRule without groups and an unknown condition', () => {
    const empty = editedCopy('catalog.yaml', (t) =>
      t.replace('objects:\n', 'objects:\n  node-exporter-rules: { role: node-exporter }\n'),
    );
    expect(() => loadRuleCatalog(empty)).toThrow(/object node-exporter-rules has no group/);
    const unknown = editedCopy('catalog.yaml', (t) => t.replace('when: etcd-monitoring }', 'when: etcd }'));
    expect(() => loadRuleCatalog(unknown)).toThrow(/unknown condition "etcd"/);
  });
});

interface AlertCase {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

describe('alert cases (test/rules/cases/alerts)', () => {
  it.each(catalog.alerts.map((e) => [e.group, e] as const))(
    '%s: one case file, on its rule file, with a firing and a quiet check of its own alerts',
    (group, entry) => {
      const c = yaml.load(readFileSync(path.join(CASES_DIR, 'alerts', `${group}.yaml`), 'utf8')) as AlertCase;
      expect(c.rule_files).toEqual([`../rules/alerts/${group}.yaml`]);
      const names = new Set(entry.spec.rules.map((r) => r.alert));
      const checks = c.tests.flatMap((t) => t.alert_rule_test ?? []);
      for (const check of checks) expect(names).toContain(check.alertname);
      expect(checks.some((check) => check.exp_alerts.length > 0)).toBe(true);
      expect(checks.some((check) => check.exp_alerts.length === 0)).toBe(true);
    },
  );
});
