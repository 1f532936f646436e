// The Grafana dashboards of the four monitoring mixins, and the mixins' recording rules, configured for
// the jobs our ServiceMonitors produce (docs/scrape.md) and the namespace we install into. Evaluated by
// tools/generate-dashboards.ts with the mixins' sources at the commits of tools/dashboards/sources.ts on
// the library path; the result holds `dashboards`, one object per mixin (dashboard file name →
// dashboard), and `rules`, one list of rule groups per mixin (the generator keeps only the recording
// rules the dashboards need, tools/dashboards/rules.ts).
//
// Every setting here is a mixin `_config` field; nothing is edited in the mixins' text. See
// docs/dashboards.md for why each value is what it is.
local namespace = std.extVar('namespace');

// kubernetes-mixin: the jobs our Kubernetes component, exporter and kubelet monitors are named after.
// The kubelet and cAdvisor series both come from job "kubelet" (one Service, two endpoints); they are
// selected by the job alone, without a metrics_path matcher.
local kubernetes = (import 'github.com/kubernetes-monitoring/kubernetes-mixin/mixin.libsonnet') + {
  _config+:: {
    cadvisorSelector: 'job="kubelet"',
    kubeletSelector: 'job="kubelet"',
    kubeStateMetricsSelector: 'job="kube-state-metrics"',
    nodeExporterSelector: 'job="node-exporter"',
    kubeSchedulerSelector: 'job="kube-scheduler"',
    kubeControllerManagerSelector: 'job="kube-controller-manager"',
    kubeApiserverSelector: 'job="apiserver"',
    podLabel: 'pod',
    diskDeviceSelector: 'device=~"mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|dasd.+"',
    hostNetworkInterfaceSelector: 'device!~"veth.+"',
  },
};

// node-mixin: node-exporter's job, and the block devices the disk panels show.
local node = (import 'github.com/prometheus/node_exporter/docs/node-mixin/mixin.libsonnet') + {
  _config+:: {
    nodeExporterSelector: 'job="node-exporter"',
    diskDeviceSelector: 'device=~"mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|dasd.+"',
  },
};

// prometheus-mixin: Prometheus "k8s" (Service prometheus-k8s) in our namespace.
local prometheus = (import 'github.com/prometheus/prometheus/documentation/prometheus-mixin/mixin.libsonnet') + {
  _config+:: {
    prometheusSelector: 'job="prometheus-k8s",namespace="%s"' % namespace,
    prometheusName: '{{$labels.namespace}}/{{$labels.pod}}',
  },
};

// alertmanager-mixin: Alertmanager "main" (Service alertmanager-main) in our namespace; its replicas
// form one cluster per namespace and Service.
local alertmanager = (import 'github.com/prometheus/alertmanager/doc/alertmanager-mixin/mixin.libsonnet') + {
  _config+:: {
    alertmanagerSelector: 'job="alertmanager-main",namespace="%s"' % namespace,
    alertmanagerClusterLabels: 'namespace,service',
    alertmanagerName: '{{ $labels.namespace }}/{{ $labels.pod}}',
  },
};

// A mixin's recording and alerting rule groups; prometheus-mixin and alertmanager-mixin have alerts only.
local ruleGroups(mixin) = if std.objectHasAll(mixin, 'prometheusRules') then mixin.prometheusRules.groups else [];

{
  dashboards: {
    'kubernetes-mixin': kubernetes.grafanaDashboards,
    'node-mixin': node.grafanaDashboards,
    'prometheus-mixin': prometheus.grafanaDashboards,
    'alertmanager-mixin': alertmanager.grafanaDashboards,
  },
  rules: {
    'kubernetes-mixin': ruleGroups(kubernetes),
    'node-mixin': ruleGroups(node),
    'prometheus-mixin': ruleGroups(prometheus),
    'alertmanager-mixin': ruleGroups(alertmanager),
  },
}
