import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/kube/client.js';
import { applyWouldChange } from '../../../src/kube/compare.js';

const MANAGER = 'ks-installer';

/** A Deployment as we render it. */
function desired(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', namespace: 'ns', labels: { app: 'x', 'app.kubernetes.io/managed-by': MANAGER } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'x' } },
      template: {
        metadata: { labels: { app: 'x' } },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'img:1',
              args: ['--a', '--b'],
              ports: [{ name: 'http', containerPort: 8080 }],
              resources: {
                limits: { cpu: '1000m', memory: '1024Mi' },
                requests: { cpu: 0.5, memory: '0.3Gi' },
              },
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
          nodeSelector: {},
        },
      },
    },
  } as unknown as KubeObject;
}

/** Our field set of desired(): what the API server records for our apply. */
const OUR_FIELDS = {
  'f:metadata': { 'f:labels': { 'f:app': {}, 'f:app.kubernetes.io/managed-by': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:selector': {},
    'f:template': {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"c"}': {
            '.': {},
            'f:args': {},
            'f:image': {},
            'f:name': {},
            'f:ports': {
              'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} },
            },
            'f:resources': {
              'f:limits': { 'f:cpu': {}, 'f:memory': {} },
              'f:requests': { 'f:cpu': {}, 'f:memory': {} },
            },
          },
        },
        'f:volumes': { 'k:{"name":"tmp"}': { '.': {}, 'f:emptyDir': {}, 'f:name': {} } },
      },
    },
  },
};

/** desired() as the API server stores it: defaults added, quantities canonical, empty maps dropped, managed fields. */
function live(fields: object = OUR_FIELDS, extra: object[] = []): KubeObject {
  const o = structuredClone(desired()) as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  o.metadata = {
    ...o.metadata,
    uid: 'u',
    resourceVersion: '7',
    generation: 1,
    annotations: { 'deployment.kubernetes.io/revision': '1' },
    managedFields: [
      {
        manager: MANAGER,
        operation: 'Apply',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: fields,
      },
      ...extra,
    ],
  };
  const c = o.spec.template.spec.containers[0];
  c.resources = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '322122547200m' } };
  c.imagePullPolicy = 'IfNotPresent';
  c.ports[0].protocol = 'TCP';
  delete o.spec.template.spec.nodeSelector;
  o.spec.strategy = { type: 'RollingUpdate' };
  o.status = { replicas: 1 };
  return o;
}

describe('applyWouldChange', () => {
  it('finds nothing to change where the API server only defaulted, canonicalised or dropped empties', () => {
    expect(applyWouldChange(desired(), live(), MANAGER)).toBeUndefined();
  });

  it('names the field a scale changed', () => {
    const l = live() as KubeObject & { spec: { replicas: number } };
    l.spec.replicas = 3;
    expect(applyWouldChange(desired(), l, MANAGER)).toBe('spec.replicas: 1 wanted, 3 live');
  });

  it('sees an item added to a list we set, and one removed', () => {
    const added = live() as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    added.spec.template.spec.containers[0].args.push('--c');
    expect(applyWouldChange(desired(), added, MANAGER)).toMatch(/args: 2 items wanted, 3 live/);
    const removed = live() as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    removed.spec.template.spec.containers[0].args.pop();
    expect(applyWouldChange(desired(), removed, MANAGER)).toMatch(/args: 2 items wanted, 1 live/);
  });

  it('sees a removed label and a changed quantity', () => {
    const l = live() as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    delete l.metadata.labels!.app;
    expect(applyWouldChange(desired(), l, MANAGER)).toMatch(/^metadata.labels.app: "x" wanted, absent live/);
    const q = live() as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    q.spec.template.spec.containers[0].resources.limits.memory = '2Gi';
    expect(applyWouldChange(desired(), q, MANAGER)).toMatch(/limits.memory: "1024Mi" wanted, "2Gi" live/);
  });

  it('sees a field we own and no longer render: the apply would remove it', () => {
    const fields = structuredClone(OUR_FIELDS) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    fields['f:spec']['f:minReadySeconds'] = {};
    const l = live(fields) as KubeObject & { spec: Record<string, unknown> };
    l.spec.minReadySeconds = 5;
    expect(applyWouldChange(desired(), l, MANAGER)).toBe('spec.minReadySeconds: owned by us, no longer set');
  });

  it('sees a list item we own and no longer render', () => {
    const fields = structuredClone(OUR_FIELDS) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    fields['f:spec']['f:template']['f:spec']['f:volumes']['k:{"name":"old"}'] = { '.': {}, 'f:name': {} };
    expect(applyWouldChange(desired(), live(fields), MANAGER)).toMatch(
      /volumes\[\{"name":"old"\}\]: owned by us/,
    );
  });

  it('applies what we never applied, and what carries fields of the original installer to take over', () => {
    expect(applyWouldChange(desired(), live({}, []), 'someone-else')).toBe('not applied by someone-else yet');
    const taken = live(OUR_FIELDS, [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:paused': {} } },
      },
    ]);
    expect(applyWouldChange(desired(), taken, MANAGER)).toBe(
      "fields of the original installer's managers to take over",
    );
  });

  it('compares a Secret’s stringData with the base64 data the API server stores', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'ns' },
      type: 'Opaque',
      stringData: { 'config.yaml': 'a: 1\n' },
    } as unknown as KubeObject;
    const stored = {
      ...secret,
      stringData: undefined,
      data: { 'config.yaml': Buffer.from('a: 1\n').toString('base64') },
      metadata: {
        name: 's',
        namespace: 'ns',
        managedFields: [
          {
            manager: MANAGER,
            operation: 'Apply',
            apiVersion: 'v1',
            fieldsV1: { 'f:stringData': { 'f:config.yaml': {} }, 'f:type': {} },
          },
        ],
      },
    } as unknown as KubeObject;
    delete (stored as unknown as Record<string, unknown>).stringData;
    expect(applyWouldChange(secret, stored, MANAGER)).toBeUndefined();
    const edited = structuredClone(stored) as KubeObject & { data: Record<string, string> };
    edited.data['config.yaml'] = Buffer.from('a: 2\n').toString('base64');
    expect(applyWouldChange(secret, edited, MANAGER)).toMatch(/^data.config.yaml: /);
  });
});

describe('differences never show a credential', () => {
  const applied = (o: KubeObject, fields: object): KubeObject =>
    ({
      ...o,
      metadata: {
        ...o.metadata,
        managedFields: [{ manager: MANAGER, operation: 'Apply', apiVersion: o.apiVersion, fieldsV1: fields }],
      },
    }) as unknown as KubeObject;

  it("names the key of a Secret's data that differs, not its values (neither side, nor base64)", () => {
    const ours =
      'route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: https://hooks.example/abc';
    const theirs =
      'route:\n  receiver: other\nglobal:\n  slack_api_url: https://hooks.slack.example/SECRETVALUE';
    const want = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'alertmanager-main', namespace: 'm' },
      stringData: { 'alertmanager.yaml': ours },
    } as unknown as KubeObject;
    const live = applied(
      {
        ...want,
        stringData: undefined,
        data: { 'alertmanager.yaml': Buffer.from(theirs).toString('base64') },
      } as unknown as KubeObject,
      { 'f:data': { 'f:alertmanager.yaml': {} } },
    );
    const why = applyWouldChange(want, live, MANAGER)!;
    expect(why).toBe('data.alertmanager.yaml: differs (value not shown)');
    for (const v of [
      ours,
      theirs,
      Buffer.from(ours).toString('base64'),
      Buffer.from(theirs).toString('base64'),
    ])
      expect(why).not.toContain(v.slice(0, 8));
    const missing = applied({ ...want, stringData: undefined, data: {} } as unknown as KubeObject, {});
    expect(applyWouldChange(want, missing, MANAGER)).toBe(
      'data.alertmanager.yaml: a value wanted, absent live',
    );
  });

  it('hides basicAuth, passwords and tokens of other kinds; shows public fields such as caBundle', () => {
    const want = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 's', namespace: 'm' },
      spec: {
        endpoints: [{ basicAuth: { username: 'admin', password: 'hunter2-ours' }, bearerToken: 'tok-ours' }],
        caBundle: 'CA-ours',
      },
    } as unknown as KubeObject;
    const fields = { 'f:spec': { 'f:endpoints': {}, 'f:caBundle': {} } };
    const withLive = (spec: object) => applied({ ...want, spec } as KubeObject, fields);
    const basic = applyWouldChange(
      want,
      withLive({
        ...(want['spec'] as object),
        endpoints: [{ basicAuth: { username: 'root', password: 'x' }, bearerToken: 'tok-ours' }],
      }),
      MANAGER,
    )!;
    expect(basic).toBe('spec.endpoints[0].basicAuth.username: differs (value not shown)');
    const token = applyWouldChange(
      want,
      withLive({
        ...(want['spec'] as object),
        endpoints: [
          { basicAuth: { username: 'admin', password: 'hunter2-ours' }, bearerToken: 'tok-theirs' },
        ],
      }),
      MANAGER,
    )!;
    expect(token).toBe('spec.endpoints[0].bearerToken: differs (value not shown)');
    const ca = applyWouldChange(
      want,
      withLive({ ...(want['spec'] as object), caBundle: 'CA-theirs' }),
      MANAGER,
    );
    expect(ca).toBe('spec.caBundle: "CA-ours" wanted, "CA-theirs" live');
  });
});
