{{/* The chart's name, as a DNS-1123 label. */}}
{{- define "capstan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name where it already holds the chart's name, else both. */}}
{{- define "capstan.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "capstan.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* What selects the server's pods; never changes after install (Deployment selectors are immutable). */}}
{{- define "capstan.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capstan.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: server
{{- end }}

{{- define "capstan.labels" -}}
helm.sh/chart: {{ include "capstan.chart" . }}
{{ include "capstan.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "capstan.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "capstan.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false: name the ServiceAccount the server runs as" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "capstan.image" -}}
{{- printf "%s:%s" (required "image.repository is required: the registry path of Capstan's image" .Values.image.repository) (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The server's --namespace-map: the value given, else every namespace to the release's where the Role is namespaced. */}}
{{- define "capstan.namespaceMap" -}}
{{- if .Values.namespaceMap }}
{{- .Values.namespaceMap }}
{{- else if eq .Values.rbac.scope "namespace" }}
{{- printf "*=%s" .Release.Namespace }}
{{- end }}
{{- end }}

{{/* The Host names Capstan answers besides loopback: the Service's names, the ingress host and allowedHosts. */}}
{{- define "capstan.allowedHosts" -}}
{{- $svc := include "capstan.fullname" . }}
{{- $hosts := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.%s" $svc .Release.Namespace .Values.clusterDomain) }}
{{- if .Values.ingress.enabled }}
{{- $hosts = append $hosts .Values.ingress.host }}
{{- end }}
{{- concat $hosts .Values.allowedHosts | uniq | join "," }}
{{- end }}

{{/*
Refuses values that would install a server that cannot work, with a message naming the value. Rendered by every
template that depends on them, so that `helm template` stops before printing anything.
*/}}
{{- define "capstan.validate" -}}
{{- if not (kindIs "float64" .Values.replicaCount) }}
{{- if not (kindIs "int64" .Values.replicaCount) }}
{{- fail (printf "replicaCount must be a whole number of at least 1, got %v" .Values.replicaCount) }}
{{- end }}
{{- end }}
{{- if or (lt (int .Values.replicaCount) 1) (ne (float64 (int .Values.replicaCount)) (float64 .Values.replicaCount)) }}
{{- fail (printf "replicaCount must be a whole number of at least 1, got %v" .Values.replicaCount) }}
{{- end }}
{{- $url := required "database.url is required: the JDBC URL of the PostgreSQL that every replica shares, such as jdbc:postgresql://capstan-postgresql:5432/capstan" .Values.database.url }}
{{- if not (hasPrefix "jdbc:postgresql://" $url) }}
{{- fail (printf "database.url must be a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DATABASE), got %q: the replicas share one PostgreSQL" $url) }}
{{- end }}
{{- if regexMatch "(?i)([?&;]password=)|(^jdbc:[a-z0-9]+://[^/?#@]*:[^/?#@]*@)" $url }}
{{- fail "database.url must not contain a password: put it in the Secret that database.existingSecret names" }}
{{- end }}
{{- $_ := required "database.user is required: the PostgreSQL user Capstan connects as" .Values.database.user }}
{{- $_ := required "database.existingSecret is required: the name of a Secret in the release's namespace holding the database password (under database.passwordKey)" .Values.database.existingSecret }}
{{- $_ := required "database.passwordKey is required: the key of the password in database.existingSecret" .Values.database.passwordKey }}
{{- $_ := required "keys.existingSecret is required: a Secret holding secret-key (base64 of 32 random bytes) and admin-token, which every replica shares; make it with: kubectl create secret generic capstan-keys --from-literal=secret-key=\"$(openssl rand -base64 32)\" --from-literal=admin-token=\"$(openssl rand -hex 32)\"" .Values.keys.existingSecret }}
{{- $_ := required "keys.secretKeyKey is required: the key of the Secrets' encryption key in keys.existingSecret" .Values.keys.secretKeyKey }}
{{- $_ := required "keys.adminTokenKey is required: the key of the admin token in keys.existingSecret" .Values.keys.adminTokenKey }}
{{- $_ := required "s3.bucket is required: the replicas share artifacts through one S3 bucket" .Values.s3.bucket }}
{{- if .Values.s3.existingSecret }}
{{- $_ := required "s3.accessKeyKey is required with s3.existingSecret" .Values.s3.accessKeyKey }}
{{- $_ := required "s3.secretKeyKey is required with s3.existingSecret" .Values.s3.secretKeyKey }}
{{- end }}
{{- if not (has .Values.rbac.scope (list "namespace" "cluster")) }}
{{- fail (printf "rbac.scope must be namespace or cluster, got %q" .Values.rbac.scope) }}
{{- end }}
{{- if and .Values.namespaceMap (eq .Values.rbac.scope "namespace") }}
{{- fail "namespaceMap needs rbac.scope cluster: with a Role in the release's namespace, every workload runs there (the default map, *=<release namespace>)" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) }}
{{- fail "ingress.host is required when ingress.enabled is true: the host name the Ingress routes to Capstan" }}
{{- end }}
{{- $_ := required "backend is required: where workloads run (kubernetes)" .Values.backend }}
{{- end }}
