/**
 * Where a run's facts come from: the cluster (`run`) or flags and a file of live objects (`render`).
 * Both hand their live objects to the one extractor (live.ts), so what carries over is the same.
 */
import type { ClusterFacts } from '../config/facts.js';

export interface FactsSource {
  /** `spec` (the ClusterConfiguration's) decides which optional objects are worth reading. */
  gather(spec?: Record<string, unknown>): Promise<ClusterFacts>;
}
