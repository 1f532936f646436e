/**
 * Integration test files share one control plane, so their order must be the same everywhere: by
 * path, not by jest's cache of earlier durations (which differs between this machine and CI).
 * KS_INSTALLER_TEST_ORDER=reverse or shuffle:<seed> runs them in another order, to find a test that
 * leans on what an earlier file left in the cluster.
 */
export default class PathOrderSequencer {
  sort(tests) {
    const sorted = [...tests].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const order = process.env.KS_INSTALLER_TEST_ORDER ?? '';
    if (order === 'reverse') return sorted.reverse();
    const shuffle = /^shuffle:(\d+)$/.exec(order);
    if (shuffle) return shuffled(sorted, Number(shuffle[1]));
    if (order !== '') throw new Error(`KS_INSTALLER_TEST_ORDER=${order}: use reverse or shuffle:<seed>`);
    return sorted;
  }

  cacheResults() {}
}

/** Fisher-Yates with a small seeded generator (mulberry32), so a failing order can be replayed. */
function shuffled(items, seed) {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
