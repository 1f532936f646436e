/**
 * Volumes and mounts: a Pod's Secrets, ConfigMaps, emptyDirs, hostPaths, claims and the projected
 * service-account volume (a TokenRequest for the Pod's ServiceAccount bound to the Pod, the cluster's
 * CA, the namespace) as files under the Pod's directory, which the runner bind-mounts at the containers'
 * mount paths. Mounted Secrets and ConfigMaps are rewritten when they change, as a kubelet does, so the
 * real config reloaders see prometheus-operator's new configuration. Also the values of env
 * secretKeyRef/configMapKeyRef, as files the runner reads.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashOf, isNotFound, type Container, type Kubelet, type LivePod, type Obj } from './model.js';

export function volumeSource(k: Kubelet, live: LivePod, name: string): string | undefined {
  const v = (live.pod.spec.volumes ?? []).find((x: { name: string }) => x.name === name);
  if (!v) return undefined;
  if (v.hostPath) return v.hostPath.path;
  if (v.persistentVolumeClaim) {
    const d = path.join(k.o.dir, 'claims', live.namespace, v.persistentVolumeClaim.claimName);
    mkdirSync(d, { recursive: true });
    return d;
  }
  return path.join(live.dir, 'volumes', name);
}

/** Writes (or rewrites, when changed) the Pod's Secret, ConfigMap, projected and downward volumes. */
export async function writeVolumes(k: Kubelet, live: LivePod): Promise<void> {
  const ns = live.namespace;
  const get = async (kind: 'secrets' | 'configmaps', name: string) => {
    try {
      return await k.o.client.get<
        Obj & { data?: Record<string, string>; binaryData?: Record<string, string> }
      >(`/api/v1/namespaces/${ns}/${kind}/${name}`);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  const decode = (kind: 'secrets' | 'configmaps', o: Awaited<ReturnType<typeof get>>) => {
    const files: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(o?.data ?? {}))
      files[k] = kind === 'secrets' ? Buffer.from(v, 'base64') : Buffer.from(v);
    for (const [k, v] of Object.entries(o?.binaryData ?? {})) files[k] = Buffer.from(v, 'base64');
    return files;
  };
  const pick = (files: Record<string, Buffer>, items?: { key: string; path: string }[]) => {
    if (!items) return files;
    const out: Record<string, Buffer> = {};
    for (const i of items) if (files[i.key]) out[i.path] = files[i.key]!;
    return out;
  };
  const field = (f: string) =>
    Buffer.from(
      ({ 'metadata.namespace': ns, 'metadata.name': live.name } as Record<string, string>)[f] ?? '',
    );
  for (const v of live.pod.spec.volumes ?? []) {
    let files: Record<string, Buffer> | undefined;
    if (v.secret) files = pick(decode('secrets', await get('secrets', v.secret.secretName)), v.secret.items);
    else if (v.configMap)
      files = pick(decode('configmaps', await get('configmaps', v.configMap.name)), v.configMap.items);
    else if (v.emptyDir) {
      mkdirSync(path.join(live.dir, 'volumes', v.name), { recursive: true });
      continue;
    } else if (v.downwardAPI) {
      files = {};
      for (const i of v.downwardAPI.items ?? []) if (i.fieldRef) files[i.path] = field(i.fieldRef.fieldPath);
    } else if (v.projected) {
      files = {};
      for (const s of v.projected.sources ?? []) {
        if (s.serviceAccountToken) {
          const old = live.volumeDigest.get(`${v.name}/token`);
          const token =
            old && Date.now() - Number(old) < 1800_000
              ? readFileSync(path.join(live.dir, 'volumes', v.name, s.serviceAccountToken.path))
              : Buffer.from(await serviceAccountToken(k, live, s.serviceAccountToken.expirationSeconds));
          if (!old || Date.now() - Number(old) >= 1800_000)
            live.volumeDigest.set(`${v.name}/token`, String(Date.now()));
          files[s.serviceAccountToken.path] = token;
        } else if (s.configMap) {
          const cm = await get('configmaps', s.configMap.name);
          const data = cm
            ? decode('configmaps', cm)
            : s.configMap.name === 'kube-root-ca.crt'
              ? { 'ca.crt': Buffer.from(k.o.caPem) }
              : {};
          Object.assign(files, pick(data, s.configMap.items));
        } else if (s.secret)
          Object.assign(files, pick(decode('secrets', await get('secrets', s.secret.name)), s.secret.items));
        else if (s.downwardAPI)
          for (const i of s.downwardAPI.items ?? [])
            if (i.fieldRef) files[i.path] = field(i.fieldRef.fieldPath);
      }
    } else continue;
    const digest = hashOf(Object.entries(files).map(([k, b]) => [k, b.toString('base64')]));
    if (live.volumeDigest.get(v.name) === digest) continue;
    const dir = path.join(live.dir, 'volumes', v.name);
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) {
      const target = path.join(dir, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(`${target}.tmp`, content, { mode: 0o600 });
      renameSync(`${target}.tmp`, target);
    }
    if (live.volumeDigest.has(v.name))
      k.log(`pod ${ns}/${live.name}: volume ${v.name} rewritten (its source changed)`);
    live.volumeDigest.set(v.name, digest);
  }
  // Values of env secretKeyRef / configMapKeyRef.
  for (const c of [...(live.pod.spec.initContainers ?? []), ...live.pod.spec.containers] as Container[]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (!ref) continue;
      const kind = e.valueFrom!.secretKeyRef ? 'secrets' : 'configmaps';
      const value = decode(kind, await get(kind, ref.name))[ref.key];
      if (!value) continue;
      mkdirSync(path.join(live.dir, 'env'), { recursive: true });
      writeFileSync(
        path.join(live.dir, 'env', `${kind === 'secrets' ? 'secret' : 'configmap'}-${ref.name}-${ref.key}`),
        value,
        { mode: 0o600 },
      );
    }
  }
}

export async function serviceAccountToken(
  k: Kubelet,
  live: LivePod,
  expirationSeconds = 3607,
): Promise<string> {
  const sa = live.pod.spec.serviceAccountName ?? 'default';
  const review = await k.o.client.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${live.namespace}/serviceaccounts/${sa}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          expirationSeconds: Math.max(expirationSeconds, 3600),
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: live.name, uid: live.uid },
        },
      },
    },
  );
  return review.status.token;
}
