/**
 * The alert path of KubeSphere 3.4 with the real components, everything on loopback:
 * - our operator installs the stack with the alerting module on, its query endpoint
 *   (common.monitoring.endpoint) a real Prometheus 2.39.1 on 127.0.0.1 that scrapes itself;
 * - the real prometheus-operator (v0.55.0, as our ServiceAccount) turns our ThanosRuler into
 *   StatefulSet thanos-ruler-kubesphere, Service thanos-ruler-operated and rule ConfigMaps;
 * - the test writes PrometheusRule alertrules-gl-0 as ks-controller-manager does from a
 *   GlobalRuleGroup (labels rule_level, rule_group, alerttype, rule_id...): one alert that must fire
 *   on Prometheus's own series and one that must not;
 * - a real `thanos rule` v0.31.0 runs with the StatefulSet's arguments and the ConfigMaps' rule files,
 *   and sends to a real Alertmanager 0.23.0 configured from our Secret alertmanager-main, whose
 *   notification-manager webhook is a stand-in on loopback.
 * The firing alert must reach Alertmanager's API with its labels and the stand-in webhook, and the
 * ruler's rules API (what ks-apiserver asks) must list both alerts with their state.
 * Only two addresses are moved onto loopback, each asserted first to be what we rendered: the
 * Alertmanager SRV name (there is no cluster DNS here) and the webhook's host.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { alertmanagersUrl } from '../../src/config/alerting.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, type KubeClient } from '../../src/kube/client.js';
import { freePort } from '../../tools/envtest/control-plane.js';
import { MONITORING_COLLECTIONS, waitListed } from './alerting-crd.js';
import {
  createClusterConfiguration,
  ensureMonitoringCrds,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';
import {
  deleteOperatorGenerated,
  serviceAccountKubeconfig,
  startPrometheusOperator,
  startTool,
  type ToolProcess,
} from './prometheus-operator.js';

const CORE = `/api/v1/namespaces/${MONITORING_NS}`;
const APPS = `/apis/apps/v1/namespaces/${MONITORING_NS}`;
const RULES = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheusrules`;
const RULE_OBJECT = 'alertrules-gl-0';
const FIRING = 'KsTestPrometheusScraped';
const SILENT = 'KsTestPrometheusDown';

/** Labels ks-controller-manager puts on each rule of a GlobalRuleGroup it converts. */
function convertedLabels(ruleId: string): Record<string, string> {
  return {
    severity: 'warning',
    rule_id: ruleId,
    rule_group: 'ks-test-global',
    alerttype: 'metric',
    rule_level: 'global',
    rule_type: 'custom',
  };
}

function getJson<T>(port: number, p: string): Promise<T> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body) as T)
            : reject(new Error(`${p}: HTTP ${res.statusCode} ${body}`)),
        );
      })
      .on('error', reject);
  });
}

interface RulerRule {
  name: string;
  state: string;
  labels: Record<string, string>;
  alerts: { labels: Record<string, string>; state: string }[];
}

describe('the alert path on the real ruler and Alertmanager', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  const tools: ToolProcess[] = [];
  const work = mkdtempSync(path.join(tmpdir(), 'ks-alerting-'));
  let promPort = 0;
  let amPort = 0;
  let rulerPort = 0;
  let hook: http.Server | undefined;
  const hooked: { alerts: { labels: Record<string, string> }[] }[] = [];
  let rulerArgs: string[] = [];

  const ignoreNotFound = (e: unknown) => {
    if (!(e instanceof ApiError && e.notFound)) throw e;
  };

  async function start(name: Parameters<typeof startTool>[0], args: string[]): Promise<ToolProcess> {
    const t = await startTool(name, args);
    tools.push(t);
    return t;
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('alert-real'));
    await ensureMonitoringCrds(admin);
    await waitListed(admin, MONITORING_COLLECTIONS);
    await deleteOperatorGenerated(admin);
    await admin.request('DELETE', `${RULES}/${RULE_OBJECT}`).catch(ignoreNotFound);

    // Prometheus 2.39.1, scraping itself every second: the data the alerts are evaluated on.
    promPort = await freePort();
    const promDir = path.join(work, 'prometheus');
    mkdirSync(promDir, { recursive: true });
    writeFileSync(
      path.join(promDir, 'prometheus.yml'),
      yaml.dump({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          { job_name: 'prometheus', static_configs: [{ targets: [`127.0.0.1:${promPort}`] }] },
        ],
      }),
    );
    await start('prometheus', [
      `--config.file=${path.join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);

    // The stand-in for notification-manager's webhook, on loopback.
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooked.push(JSON.parse(body) as (typeof hooked)[number]);
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook!.listen(0, '127.0.0.1', resolve));

    op = await startOperatorFor(ns);
    const cc: ClusterConfiguration = sampleClusterConfiguration(ns);
    cc.spec = {
      ...cc.spec,
      common: { monitoring: { endpoint: `http://127.0.0.1:${promPort}` } },
      alerting: { enabled: true, thanosruler: { replicas: 1 } },
    };
    await op.runAfter(() => createClusterConfiguration(admin, cc));
  });

  afterAll(async () => {
    for (const t of tools.reverse()) await t.stop();
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
    expect(await op?.stop()).toBe(0);
    await admin.request('DELETE', `${RULES}/${RULE_OBJECT}`).catch(ignoreNotFound);
    await deleteOperatorGenerated(admin);
    rmSync(work, { recursive: true, force: true });
  });

  it('prometheus-operator turns our ThanosRuler into its StatefulSet, Service and rule ConfigMaps', async () => {
    // What ks-controller-manager writes from a GlobalRuleGroup with two rules.
    await admin.request('POST', RULES, {
      body: {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: RULE_OBJECT, labels: { 'alerting.kubesphere.io/rule_level': 'global' } },
        spec: {
          groups: [
            {
              name: 'ks-test-global',
              interval: '5s',
              rules: [
                {
                  alert: FIRING,
                  expr: 'up{job="prometheus"} == 1',
                  labels: convertedLabels('0123456789abcdef0123456789abcdef'),
                  annotations: { summary: 'Prometheus is scraped.' },
                },
                {
                  alert: SILENT,
                  expr: 'up{job="prometheus"} == 0',
                  for: '1m',
                  labels: convertedLabels('fedcba9876543210fedcba9876543210'),
                  annotations: { summary: 'Prometheus is down.' },
                },
              ],
            },
          ],
        },
      },
    });
    const deployment = await admin.get<Obj>(`${APPS}/deployments/prometheus-operator`);
    const container = (deployment.spec.template.spec.containers as Obj[]).find(
      (c) => c.name === 'prometheus-operator',
    )!;
    tools.push(
      await startPrometheusOperator(
        container.args as string[],
        await serviceAccountKubeconfig(admin, MONITORING_NS, 'prometheus-operator'),
      ),
    );
    const sts = await waitUntil(
      'StatefulSet thanos-ruler-kubesphere',
      () => admin.getOrUndefined<Obj>(`${APPS}/statefulsets/thanos-ruler-kubesphere`),
      90_000,
      1000,
    );
    const svc = await waitUntil(
      'Service thanos-ruler-operated',
      () => admin.getOrUndefined<Obj>(`${CORE}/services/thanos-ruler-operated`),
      60_000,
      1000,
    );
    expect((svc.spec.ports as { name: string; port: number }[]).map((p) => [p.name, p.port])).toEqual(
      expect.arrayContaining([
        ['web', 10902],
        ['grpc', 10901],
      ]),
    );
    const ruler = (sts.spec.template.spec.containers as Obj[]).find((c) => c.name === 'thanos-ruler')!;
    expect(ruler.image).toBe('thanosio/thanos:v0.31.0');
    rulerArgs = ruler.args as string[];
    expect(rulerArgs).toEqual(
      expect.arrayContaining([
        `--query=http://127.0.0.1:${promPort}`,
        `--alertmanagers.url=${alertmanagersUrl(MONITORING_NS)}`,
        '--eval-interval=1m',
      ]),
    );
    // The rule ConfigMaps hold our alertrules-gl-0 (and only what rule_level selects).
    const files = await waitUntil(
      'rule ConfigMaps with alertrules-gl-0',
      async () => {
        const { items } = await admin.get<{ items: Obj[] }>(`${CORE}/configmaps`);
        const maps = items.filter((c) => /^thanos-ruler-kubesphere-rulefiles-\d+$/.test(c.metadata.name));
        const all = maps.flatMap((c) =>
          Object.entries((c.data ?? {}) as Record<string, string>).map(([f, text]) => ({
            dir: c.metadata.name,
            file: f,
            text,
          })),
        );
        return all.some((f) => f.file.includes(RULE_OBJECT)) ? all : undefined;
      },
      60_000,
      1000,
    );
    expect(files.map((f) => f.file).every((f) => f.includes('alertrules-'))).toBe(true);
    for (const f of files) {
      mkdirSync(path.join(work, 'rules', f.dir), { recursive: true });
      writeFileSync(path.join(work, 'rules', f.dir, f.file), f.text);
    }
  }, 180_000);

  it('thanos rule with those arguments fires the alert into Alertmanager 0.23, configured from our Secret', async () => {
    // Alertmanager with our configuration; the webhook's host moved to the stand-in.
    const secret = await admin.get<Obj>(`${CORE}/secrets/alertmanager-main`);
    const config = Buffer.from(secret.data['alertmanager.yaml'] as string, 'base64').toString();
    const webhook = `http://notification-manager-svc.${MONITORING_NS}.svc:19093/api/v2/alerts`;
    expect(config).toContain(webhook);
    const amDir = path.join(work, 'alertmanager');
    mkdirSync(amDir, { recursive: true });
    const hookPort = (hook!.address() as net.AddressInfo).port;
    writeFileSync(
      path.join(amDir, 'alertmanager.yaml'),
      config.replaceAll(webhook, `http://127.0.0.1:${hookPort}/api/v2/alerts`),
    );
    amPort = await freePort();
    await start('alertmanager', [
      `--config.file=${path.join(amDir, 'alertmanager.yaml')}`,
      `--storage.path=${path.join(amDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    await waitUntil(
      'Alertmanager ready',
      () =>
        getJson(amPort, '/api/v2/status').then(
          () => true,
          () => false,
        ),
      30_000,
      250,
    );

    // thanos rule with the StatefulSet's arguments: the pod's paths under work/, $(POD_NAME) as the
    // kubelet expands it, our Alertmanager SRV name onto loopback. The pod listens on Thanos's
    // default ports (10902 web, 10901 gRPC, which Service thanos-ruler-operated targets, on every
    // address): here the same listeners, on loopback ports.
    expect(rulerArgs.filter((a) => /^--(http|grpc)-address/.test(a))).toEqual([]);
    rulerPort = await freePort();
    const grpcPort = await freePort();
    const listeners = [`--http-address=127.0.0.1:${rulerPort}`, `--grpc-address=127.0.0.1:${grpcPort}`];
    const args = rulerArgs.map((a) => {
      const [flag] = a.split('=');
      if (flag === '--data-dir') return `--data-dir=${path.join(work, 'ruler-data')}`;
      if (flag === '--alertmanagers.url') return `--alertmanagers.url=http://127.0.0.1:${amPort}`;
      return a
        .replaceAll('$(POD_NAME)', 'thanos-ruler-kubesphere-0')
        .replace('/etc/thanos/rules/', `${work}/rules/`);
    });
    expect(args.some((a) => a.startsWith('--rule-file=') && a.includes(work))).toBe(true);
    const ruler = await start('thanos', [...args, ...listeners]);

    type Alert = { labels: Record<string, string>; status: { state: string } };
    const firing = await waitUntil(
      `${FIRING} in Alertmanager`,
      async () => {
        const alerts = await getJson<Alert[]>(amPort, '/api/v2/alerts').catch(() => [] as Alert[]);
        return alerts.find((a) => a.labels.alertname === FIRING);
      },
      90_000,
      1000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nthanos rule said:\n${ruler.lines.slice(-20).join('\n')}`);
    });
    expect(firing.labels).toMatchObject({
      alertname: FIRING,
      ...convertedLabels('0123456789abcdef0123456789abcdef'),
      job: 'prometheus',
      instance: `127.0.0.1:${promPort}`,
    });
    // The replica label the operator adds is dropped before sending.
    expect(Object.keys(firing.labels).some((k) => k.includes('replica'))).toBe(false);
    const alerts = await getJson<Alert[]>(amPort, '/api/v2/alerts');
    expect(alerts.map((a) => a.labels.alertname)).not.toContain(SILENT);

    // What ks-apiserver asks the ruler: both alerts, one firing, one inactive.
    const rules = await getJson<{ data: { groups: { name: string; rules: RulerRule[] }[] } }>(
      rulerPort,
      '/api/v1/rules?type=alert',
    );
    const group = rules.data.groups.find((g) => g.name === 'ks-test-global')!;
    const byName = new Map(group.rules.map((r) => [r.name, r]));
    expect([...byName.keys()].sort()).toEqual([FIRING, SILENT].sort());
    expect(byName.get(FIRING)).toMatchObject({
      state: 'firing',
      labels: convertedLabels('0123456789abcdef0123456789abcdef'),
    });
    expect(byName.get(FIRING)!.alerts.map((a) => a.state)).toEqual(['firing']);
    expect(byName.get(SILENT)).toMatchObject({ state: 'inactive', alerts: [] });

    // Our route delivers it to notification-manager (after the route's 30 s group_wait).
    const delivered = await waitUntil(
      'the alert at the notification-manager stand-in',
      async () => hooked.flatMap((h) => h.alerts).find((a) => a.labels.alertname === FIRING),
      60_000,
      1000,
    );
    expect(delivered.labels.rule_id).toBe('0123456789abcdef0123456789abcdef');
  }, 240_000);
});
