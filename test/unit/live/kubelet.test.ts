import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandVars, IMAGE_TOOLS, imageName, reapOrphanedStacks } from '../../../tools/live/kubelet.js';

describe('process kubelet', () => {
  test('an image maps to its tool by name, whatever the registry, tag or digest', () => {
    expect(imageName('kubesphere/prometheus-config-reloader:v0.55.1')).toBe('prometheus-config-reloader');
    expect(imageName('registry.example.com:5000/prom/node-exporter:v1.3.1')).toBe('node-exporter');
    expect(imageName('quay.io/prometheus/alertmanager@sha256:abc')).toBe('alertmanager');
    expect(IMAGE_TOOLS[imageName('prom/prometheus:v2.39.1')]).toBe('prometheus');
    expect(IMAGE_TOOLS[imageName('kubesphere/notification-manager-operator:v2.3.0')]).toBeUndefined();
  });

  test('$(VAR) expands as the kubelet does: known names only, $$ escapes', () => {
    const env = { IP: '198.18.0.2', POD_NAME: 'prometheus-k8s-0' };
    expect(expandVars('--secure-listen-address=[$(IP)]:9100', env)).toBe(
      '--secure-listen-address=[198.18.0.2]:9100',
    );
    expect(expandVars('$(POD_NAME)-$(UNKNOWN)', env)).toBe('prometheus-k8s-0-$(UNKNOWN)');
    expect(expandVars('$$(IP)', env)).toBe('$(IP)');
  });

  test('a stack whose owner died is removed; a pid that no longer runs a stack binary is left alone', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'ks-reap-'));
    const other = spawn('sleep', ['30']);
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    try {
      const orphan = path.join(base, 'ks-live-orphan');
      const alive = path.join(base, 'ks-live-alive');
      mkdirSync(orphan);
      mkdirSync(alive);
      writeFileSync(path.join(orphan, 'owner.json'), JSON.stringify({ owner: dead.pid, pids: [other.pid] }));
      writeFileSync(path.join(alive, 'owner.json'), JSON.stringify({ owner: process.pid, pids: [] }));
      expect(reapOrphanedStacks(base)).toBe(1);
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(alive)).toBe(true);
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull();
    } finally {
      other.kill('SIGKILL');
      rmSync(base, { recursive: true, force: true });
    }
  });
});
