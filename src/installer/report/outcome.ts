/**
 * How a run's start and its success go on the ClusterConfiguration: the Progressing condition and a
 * RunStarted Event at the start; at the end the conditions, status.monitoring, the progress string,
 * the observed spec hash, a RunSucceeded Event and the log line. A quiet run (a periodic drift check of
 * a settled object) that changed nothing and found the same warnings leaves the status as it was.
 */
import { rfc3339, type ClusterConfiguration, type Condition } from '../../api/cluster-configuration.js';
import { JSON_ONLY, type Logger } from '../../observe/logger.js';
import type { RunReport } from '../model.js';
import {
  findingConditions,
  sameConditions,
  startedConditions,
  succeededConditions,
  summary,
} from './conditions.js';
import { alertingStatus } from './alerting-state.js';
import type { StatusWriter } from './status-writer.js';

interface ReportDeps {
  status: StatusWriter;
  logger: Logger;
}

/** Writes the start of a loud run; returns the conditions as written. */
export async function reportStarted(
  { status }: ReportDeps,
  cc: ClusterConfiguration,
  conditions: Condition[],
  trigger: string,
  roles: number,
): Promise<Condition[]> {
  const started = startedConditions(conditions, trigger, cc.metadata.generation);
  const written = await status.patch({ conditions: started, progress: `0/${roles} starting` });
  await status.event(cc, 'Normal', 'RunStarted', `monitoring run started (${trigger})`);
  return written?.status?.conditions ?? started;
}

/**
 * Puts a successful run on the object: conditions, status.monitoring (and status.alerting, see
 * alerting-state.ts), progress, an Event and the log.
 */
export async function reportSucceeded(
  { status, logger }: ReportDeps,
  cc: ClusterConfiguration,
  hash: string,
  report: RunReport,
  conditions: Condition[],
  before: Condition[],
  quiet: boolean,
): Promise<void> {
  const line = summary(report);
  const figures = {
    objects: report.objects,
    changed: report.changed,
    durationSeconds: Number((report.durationMs / 1000).toFixed(3)),
  };
  const generation = cc.metadata.generation;
  // Parts found working for the first time: {status: enabled, enabledTime}, kept while their role
  // runs; the key of a role turned off goes (null in a merge patch removes it).
  const enabled: Record<string, unknown> = {};
  for (const key of report.enabled ?? []) {
    const current = cc.status?.[key] as { status?: string } | null | undefined;
    if (current?.status !== 'enabled') enabled[key] = { status: 'enabled', enabledTime: rfc3339() };
  }
  for (const rp of report.plan.roles) {
    const key = rp.role.statusKey;
    if (rp.skip && key && cc.status?.[key] != null) enabled[key] = null;
  }
  const alerting = alertingStatus(cc, report.plan);
  if (
    quiet &&
    alerting === undefined &&
    report.changed === 0 &&
    Object.keys(enabled).length === 0 &&
    sameConditions(before, findingConditions(conditions, report, generation))
  ) {
    logger.info(`run succeeded: ${line}; no drift, status left as it was`, { [JSON_ONLY]: figures });
    return;
  }
  const monitoring =
    cc.status?.monitoring?.status === 'enabled'
      ? cc.status.monitoring
      : { status: 'enabled', enabledTime: rfc3339() };
  await status.patch({
    monitoring,
    ...enabled,
    ...(alerting === undefined ? {} : { alerting }),
    conditions: succeededConditions(conditions, report, generation),
    progress: `${report.roles.length}/${report.roles.length} done`,
    observedSpecHash: hash,
  });
  await status.event(cc, 'Normal', 'RunSucceeded', line);
  logger.info(`run succeeded: ${line}`, { [JSON_ONLY]: figures });
}
