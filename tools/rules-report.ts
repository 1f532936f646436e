/** `npm run rules:report`: rewrites docs/rules-fixture.md from an evaluation of our rules on the fixture. */
import { writeFileSync } from 'node:fs';
import { fixtureReport, REPORT_FILE } from '../test/rules/report.js';

const report = await fixtureReport();
writeFileSync(REPORT_FILE, report.page);
const bad = report.records.filter((r) => !r.valuesEqual);
for (const r of bad) console.log(`${r.record}: ${r.detail}`);
const a = report.alerts;
for (const m of a.missing) console.log(`alert missing: ${m}`);
for (const m of a.extra) console.log(`alert extra: ${m}`);
for (const m of a.different) console.log(`alert different: ${m}`);
for (const e of report.ours.errors) console.log(`evaluation error: ${e}`);
console.log(
  `${report.records.length - bad.length}/${report.records.length} records equal; alerts: ${a.missing.length} missing, ${a.extra.length} extra, ${a.different.length} different; wrote ${REPORT_FILE}`,
);
