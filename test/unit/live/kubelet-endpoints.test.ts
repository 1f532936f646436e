import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { Histogram, netDev, processTree, processTreeStats } from '../../../tools/live/kubelet-endpoints.js';

describe('the kubelet endpoints’ /proc readers', () => {
  test('a process tree holds the process and its children, and its CPU and memory are this process’s own', async () => {
    const child = spawn('sleep', ['5']);
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(processTree(process.pid)).toEqual(expect.arrayContaining([process.pid, child.pid]));
      const s = processTreeStats(process.pid)!;
      expect(s.processes).toBeGreaterThanOrEqual(2);
      expect(s.user + s.system).toBeGreaterThan(0);
      // Resident memory agrees with what Node reports for itself (the child adds little).
      const rss = s.rssAnon + s.rssFile + s.rssShmem;
      expect(rss).toBeGreaterThan(process.memoryUsage().rss * 0.8);
      expect(rss).toBeLessThan(process.memoryUsage().rss * 1.5 + 16 * 1024 * 1024);
    } finally {
      child.kill();
    }
  });

  test('network counters leave out what cAdvisor leaves out (lo, veth*, docker*)', () => {
    for (const i of netDev(process.pid)) expect(i.name).not.toMatch(/^(lo|veth|docker)/);
  });

  test('a histogram counts cumulatively on the kubelet’s buckets', () => {
    const h = new Histogram();
    h.observe(0.003);
    h.observe(0.2);
    h.observe(20);
    expect(h.count).toBe(3);
    expect(h.buckets[0]).toBe(1); // le 0.005
    expect(h.buckets[5]).toBe(2); // le 0.25
    expect(h.buckets.at(-1)).toBe(2); // le 10
    expect(h.sum).toBeCloseTo(20.203);
  });
});
