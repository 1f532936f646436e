import { describe, expect, it } from '@jest/globals';
import { writeBudget } from '../../../src/installer/report/write-budget.js';
import { describeTrigger, trigger, type TriggerKind } from '../../../src/reconcile/contract.js';

const of = (...kinds: TriggerKind[]) => kinds.map((k) => trigger(k, 'x'));
const LOUD = { start: true, progress: true, quietEnd: false };
const QUIET = { start: false, progress: false, quietEnd: true };
const END_ONLY = { start: false, progress: false, quietEnd: false };

describe('what a run may write, by why it runs', () => {
  it('first sight and spec changes are loud, also mixed with quiet triggers', () => {
    expect(writeBudget(of('first-sight'), false, false)).toEqual(LOUD);
    expect(writeBudget(of('spec-changed'), true, false)).toEqual(LOUD);
    expect(writeBudget(of('resync', 'spec-changed'), true, false)).toEqual(LOUD);
    expect(writeBudget(of('monitoring-removed', 'spec-changed'), true, false)).toEqual(LOUD);
  });

  it('resync, drift and requeues are quiet on a settled object, loud on one that is not', () => {
    for (const kinds of [of('resync'), of('drift'), of('requeue'), of('requeue', 'drift', 'resync')]) {
      expect(writeBudget(kinds, true, false)).toEqual(QUIET);
      expect(writeBudget(kinds, false, false)).toEqual(LOUD);
    }
  });

  it('a forced full run (status.monitoring removed) writes its end only', () => {
    expect(writeBudget(of('monitoring-removed'), true, false)).toEqual(END_ONLY);
    expect(writeBudget(of('monitoring-removed'), false, false)).toEqual(END_ONLY);
    expect(writeBudget(of('monitoring-removed', 'resync', 'drift'), true, false)).toEqual(END_ONLY);
  });

  it('a retry of a failed run writes no start; a retry with no failure remembered is loud', () => {
    expect(writeBudget(of('retry'), false, true)).toEqual({ start: false, progress: true, quietEnd: false });
    expect(writeBudget(of('retry'), false, false)).toEqual(LOUD);
  });
});

describe('triggers as the log shows them', () => {
  it('keeps the wording the log and conditions have always had', () => {
    expect(describeTrigger(trigger('first-sight', 'ns/cc (generation 1)'))).toBe(
      'first sight of ns/cc (generation 1)',
    );
    expect(describeTrigger(trigger('spec-changed', 'generation 2'))).toBe('spec changed (generation 2)');
    expect(describeTrigger(trigger('monitoring-removed'))).toBe('status.monitoring removed: full run');
    expect(describeTrigger(trigger('resync'))).toBe('periodic resync');
    expect(describeTrigger(trigger('drift', 'services ns/a deleted'))).toBe('drift: services ns/a deleted');
    expect(describeTrigger(trigger('requeue'))).toBe('check again');
    expect(describeTrigger(trigger('retry', 'a conflict'))).toBe('retry after a conflict');
  });
});
