{{/* The chart's name. */}}
{{- define "ks-installer.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release's full name: the release name when it already contains the chart name (a release named
ks-installer gives Deployment ks-installer), else <release>-ks-installer.
*/}}
{{- define "ks-installer.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ks-installer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ks-installer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ks-installer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ks-installer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "ks-installer.serviceAccountName" -}}
{{- default (include "ks-installer.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "ks-installer.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* "true" when the operator must hold the Lease before reconciling: asked for, or several replicas. */}}
{{- define "ks-installer.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicas) 1) -}}true{{- end -}}
{{- end -}}

{{/*
The ClusterRoles and Roles the monitoring roles' templates (templates/<role>/ of the operator)
create: the operator may put into them what it does not hold itself (escalate), for these names
only. The chart's integration test compares the lists with every ClusterRole and Role a full plan
renders, so they cannot drift.
*/}}
{{- define "ks-installer.escalateClusterRoles" -}}
- kubesphere-prometheus-operator
- kubesphere-prometheus-k8s
- kubesphere-node-exporter
- kubesphere-kube-state-metrics
- notification-manager-controller-role
- notification-manager-metrics-reader
- notification-manager-proxy-role
- notification-manager-tenant-sidecar-role
- system:aggregated-metrics-reader
- system:metrics-server
{{- end -}}

{{- define "ks-installer.escalateRoles" -}}
- prometheus-k8s-config
- notification-manager-leader-election-role
{{- end -}}

{{/* The roles the templates' ClusterRoleBindings and RoleBindings reference (bind), likewise checked. */}}
{{- define "ks-installer.bindClusterRoles" -}}
- kubesphere-prometheus-operator
- kubesphere-prometheus-k8s
- kubesphere-node-exporter
- kubesphere-kube-state-metrics
- notification-manager-controller-role
- notification-manager-proxy-role
- notification-manager-tenant-sidecar-role
- system:metrics-server
- system:auth-delegator
{{- end -}}

{{- define "ks-installer.bindRoles" -}}
- prometheus-k8s-config
- notification-manager-leader-election-role
- extension-apiserver-authentication-reader
{{- end -}}

{{/*
The fallback PrometheusRules of the built-in alerts (src/rules/package.ts, FALLBACK_RULE_NAMES):
once KubeSphere core serves GlobalRuleGroups, a run deletes these, by name, and nothing else. The
chart's unit test compares the list with the operator's.
*/}}
{{- define "ks-installer.fallbackAlertRules" -}}
- builtin-alerts-prometheus-operator
- builtin-alerts-config-reloaders
- builtin-alerts-prometheus
- builtin-alerts-kubernetes-apps
- builtin-alerts-kubernetes-resources
- builtin-alerts-kubernetes-storage
- builtin-alerts-kubernetes-system
- builtin-alerts-kube-apiserver-slos
- builtin-alerts-kubernetes-system-apiserver
- builtin-alerts-kubernetes-system-kubelet
- builtin-alerts-kubernetes-system-scheduler
- builtin-alerts-kubernetes-system-controller-manager
- builtin-alerts-ks-apiserver
- builtin-alerts-ks-controller-manager
- builtin-alerts-general-rules
- builtin-alerts-node-exporter
- builtin-alerts-node-network
- builtin-alerts-kube-state-metrics
- builtin-alerts-alertmanager-rules
- builtin-alerts-etcd
- builtin-alerts-thanos-rule
{{- end -}}
