/**
 * Import rules of src/, checked by `npm run lint` (dependency-cruiser): no import cycle anywhere, and
 * the installer's stages depend one way (docs/architecture.md):
 *   model ← plan ← sync ← steps ← lifecycle ← catalog ← report ← run
 * A stage imports only earlier stages. Below them, the reconcile contract is imported by both the
 * controller and the installer and imports neither; src/ never imports tools/ or test/.
 */
const STAGES = [
  'src/installer/model\\.ts$',
  'src/installer/plan/',
  'src/installer/sync/',
  'src/installer/steps/',
  'src/installer/lifecycle/',
  'src/installer/catalog\\.ts$',
  'src/installer/report/',
  'src/installer/run\\.ts$',
];

/** For each stage, every later stage is forbidden to it. */
const stageRules = STAGES.slice(0, -1).map((stage, i) => ({
  name: `installer-stage-order-${i}`,
  comment: `${stage} imports a later stage of the installer (order: model, plan, sync, steps, lifecycle, catalog, report, run)`,
  severity: 'error',
  from: { path: `^${stage}` },
  to: { path: `^(${STAGES.slice(i + 1).join('|')})` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'an import cycle: modules that import each other cannot be read, tested or moved one at a time',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...stageRules,
    {
      name: 'contract-below-both',
      comment: 'src/reconcile is the contract between the controller and the installer: it imports neither',
      severity: 'error',
      from: { path: '^src/reconcile/' },
      to: { path: '^src/(controller|installer|cli)/' },
    },
    {
      name: 'controller-not-installer',
      comment: 'the controller knows the installer only through src/reconcile',
      severity: 'error',
      from: { path: '^src/controller/' },
      to: { path: '^src/installer/' },
    },
    {
      name: 'kube-is-a-floor',
      comment: 'src/kube talks to the API server; it knows nothing of what is installed',
      severity: 'error',
      from: { path: '^src/kube/' },
      to: { path: '^src/((installer|controller|cli|render|alerts|rules)/|reconcile/(?!backoff[.]ts))' },
    },
    {
      name: 'src-not-tools-or-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tools|test)/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
