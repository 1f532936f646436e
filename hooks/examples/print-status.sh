#!/bin/sh
# Example user hook: after every successful install run, and once an hour, print what the
# operator passed in and the monitoring status of the ClusterConfiguration.
# To use it, copy it into the hooks directory and make it executable (chmod +x).
set -eu

if [ "${1:-}" = "--config" ]; then
  cat <<'CONFIG'
configVersion: v1
afterInstall: true
schedule:
  - name: hourly status
    crontab: '@hourly'
    allowFailure: true
CONFIG
  exit 0
fi

# $BINDING_CONTEXT_PATH names a JSON array of binding contexts:
#   [{"binding": "...", "type": "AfterInstall" | "Schedule" | "Event" | ..., "object": {...}}]
# The operator image ships node, so use it to read JSON (jq works too, where installed).
node - "$BINDING_CONTEXT_PATH" <<'JS'
const fs = require('node:fs');
const contexts = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
for (const ctx of contexts) {
  const monitoring = ctx.object?.status?.monitoring;
  const state = monitoring ? `${monitoring.status} since ${monitoring.enabledTime}` : 'not reported';
  console.log(`${ctx.type} (${ctx.binding}): monitoring ${state}`);
}
JS
