/**
 * The parts of the monitoring module KubeSphere's console reads beyond the core stack
 * (docs/install.md#the-consoles-parts): the switches of GPU monitoring (monitoring.gpu.nvidia_dcgm_exporter),
 * the Istio monitors (servicemesh.enabled) and Grafana (monitoring.grafana), resolved from the spec and
 * the facts. Each switch is exactly the boolean true; validate.ts refuses any other set value.
 */
import type { ClusterFacts } from './facts.js';
import type { Spec } from './spec-path.js';
import { get } from './spec-path.js';
import type { MonitoringValues, Resources } from './values.js';

export const GPU_ENABLED_KEY = 'monitoring.gpu.nvidia_dcgm_exporter.enabled';
export const SERVICEMESH_ENABLED_KEY = 'servicemesh.enabled';
export const GRAFANA_ENABLED_KEY = 'monitoring.grafana.enabled';
/** The switches, each checked to be true or false before anything is applied. */
export const CONSOLE_PART_SWITCHES = [GPU_ENABLED_KEY, SERVICEMESH_ENABLED_KEY, GRAFANA_ENABLED_KEY] as const;
/** The mappings that hold them. */
export const CONSOLE_PART_MAPPINGS = [
  'monitoring.gpu',
  'monitoring.gpu.nvidia_dcgm_exporter',
  'servicemesh',
  'monitoring.grafana',
] as const;

export const ISTIO_NAMESPACE = 'istio-system';
/** The Secret holding Grafana's admin user and password; kept across runs once it exists. */
export const GRAFANA_ADMIN_SECRET = 'grafana-admin';
export const GRAFANA_ADMIN_USER = 'admin';
/** The warning condition while servicemesh is enabled but istio-system does not exist yet. */
export const ISTIO_MONITORS_WAITING = 'IstioMonitorsWaiting';

export const MONITORS_API_VERSION = 'monitoring.coreos.com/v1';

export const isEnabled = (spec: Spec, key: string): boolean => get(spec, key) === true;

export function resolveConsoleParts(
  spec: Spec,
  facts: ClusterFacts,
  external: boolean,
  gpuResources: Resources,
): Pick<MonitoringValues, 'monitorsServed' | 'gpu' | 'servicemesh' | 'grafana'> {
  const grafana = isEnabled(spec, GRAFANA_ENABLED_KEY);
  return {
    // The in-cluster stack brings prometheus-operator's CRDs; with external monitoring they must be served.
    monitorsServed: !external || facts.servedApiVersions.includes(MONITORS_API_VERSION),
    gpu: { enabled: isEnabled(spec, GPU_ENABLED_KEY), resources: gpuResources },
    servicemesh: {
      enabled: isEnabled(spec, SERVICEMESH_ENABLED_KEY),
      istioNamespaceExists: facts.live.istioNamespaceExists === true,
    },
    grafana: {
      enabled: grafana,
      // Only rendered when Grafana is enabled, and then the facts always carry one (src/facts).
      adminPassword: facts.grafanaAdminPassword ?? '',
    },
  };
}
