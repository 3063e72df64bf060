package io.capstan.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.deploy.HelmChart.Rendered;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code helm lint --strict} and {@code helm template} of deploy/helm/capstan through Helm's own code, with the
 * invariants every rendering must keep, for the default values, the example values and variants; and bad values
 * refused with a message naming the value.
 */
class ChartTest {
    static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?");
    static final Set<String> CLUSTER_SCOPED = Set.of("ClusterRole", "ClusterRoleBinding");

    @Test
    void lintsCleanInStrictMode() {
        var result = HelmChart.lintStrict();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
        assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
    }

    @Test
    void defaultsInstallTwoReplicasWithEverythingTheyNeed() {
        var r = HelmChart.render(Map.of());
        assertInvariants(r);
        assertThat(r.byKindAndName().keySet()).containsExactlyInAnyOrder(
                "ServiceAccount/capstan", "Role/capstan", "RoleBinding/capstan", "Service/capstan",
                "Deployment/capstan", "PodDisruptionBudget/capstan");

        var deployment = r.one(Deployment.class);
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
        var pdb = r.one(PodDisruptionBudget.class);
        assertThat(pdb.getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));
        var c = container(deployment);
        // Every Capstan namespace's workloads in the release's namespace: the one the Role covers.
        assertThat(c.getArgs()).containsExactly("server", "--backend", "kubernetes", "--namespace-map", "*=" + HelmChart.NAMESPACE);
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        var env = env(c);
        assertThat(env).containsEntry("CAPSTAN_DB_URL", "jdbc:postgresql://capstan-postgresql:5432/capstan")
                .containsEntry("CAPSTAN_DB_USER", "capstan")
                .containsEntry("CAPSTAN_S3_BUCKET", "capstan")
                .containsEntry("CAPSTAN_S3_ENDPOINT", "http://capstan-minio:9000")
                .containsEntry("CAPSTAN_S3_PATH_STYLE", "true")
                .containsEntry("CAPSTAN_HOST", "0.0.0.0")
                .doesNotContainKey("CAPSTAN_DB_PASSWORD");
        assertThat(env.get("CAPSTAN_ALLOWED_HOSTS").split(","))
                .containsExactly("capstan", "capstan.ml", "capstan.ml.svc", "capstan.ml.svc.cluster.local");
        // The password only as a file from the Secret, the S3 keys and the Secrets' key only from Secrets.
        assertThat(secretRef(c, "CAPSTAN_S3_ACCESS_KEY")).isEqualTo("capstan-minio/rootUser");
        assertThat(secretRef(c, "CAPSTAN_S3_SECRET_KEY")).isEqualTo("capstan-minio/rootPassword");
        assertThat(secretRef(c, "CAPSTAN_SECRET_KEY")).isEqualTo("capstan-keys/secret-key");
        var dbVolume = volume(deployment, "database");
        assertThat(dbVolume.getSecret().getSecretName()).isEqualTo("capstan-postgresql");
        assertThat(dbVolume.getSecret().getItems()).singleElement().satisfies(i -> assertThat(i.getKey() + "->" + i.getPath()).isEqualTo("password->password"));
        assertThat(env.get("CAPSTAN_DB_PASSWORD_FILE")).isEqualTo(mountPathOf(c, "database") + "/password");
        assertThat(volume(deployment, "keys").getSecret().getSecretName()).isEqualTo("capstan-keys");
        // The admin token lands where Capstan reads it, $CAPSTAN_HOME/token, so every replica accepts the same one.
        assertThat(c.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo("keys");
            assertThat(m.getMountPath()).isEqualTo(env.get("CAPSTAN_HOME") + "/" + io.capstan.security.AdminToken.FILE_NAME);
            assertThat(m.getReadOnly()).isTrue();
        });
        // What must exist before the install: the Secrets README's commands make, under the keys they use.
        assertThat(secretRefs(deployment)).containsExactlyInAnyOrder("capstan-keys/secret-key", "capstan-keys/admin-token",
                "capstan-minio/rootUser", "capstan-minio/rootPassword", "capstan-postgresql/password");
    }

    @Test
    void theExampleForAnExistingPostgresqlAndS3Renders() {
        var r = HelmChart.render(HelmChart.RELEASE, Map.of(), Optional.of(HelmChart.file("examples/external.yaml")));
        assertInvariants(r);
        var c = container(r.one(Deployment.class));
        var env = env(c);
        assertThat(env.get("CAPSTAN_DB_URL")).startsWith("jdbc:postgresql://").doesNotContain("password");
        assertThat(env).doesNotContainKey("CAPSTAN_S3_ENDPOINT").containsEntry("CAPSTAN_S3_PATH_STYLE", "false");
        assertThat(volume(r.one(Deployment.class), "database").getSecret().getSecretName()).isEqualTo("capstan-database");
        assertThat(r.all(Ingress.class)).hasSize(1);
    }

    @Test
    void ingressRoutesToTheServiceAndItsHostIsAllowed() {
        var r = HelmChart.render(Map.of("ingress.enabled", "true", "ingress.host", "capstan.example.com",
                "ingress.className", "nginx", "ingress.tlsSecretName", "capstan-tls"));
        assertInvariants(r);
        var ingress = r.one(Ingress.class);
        assertThat(ingress.getSpec().getIngressClassName()).isEqualTo("nginx");
        assertThat(ingress.getSpec().getTls()).singleElement().satisfies(t -> {
            assertThat(t.getHosts()).containsExactly("capstan.example.com");
            assertThat(t.getSecretName()).isEqualTo("capstan-tls");
        });
        assertThat(ingress.getSpec().getRules()).singleElement().satisfies(rule -> assertThat(rule.getHost()).isEqualTo("capstan.example.com"));
        assertThat(env(container(r.one(Deployment.class))).get("CAPSTAN_ALLOWED_HOSTS").split(",")).contains("capstan.example.com");
    }

    @Test
    void keysAndS3CredentialsComeFromTheSecretsNamed() {
        var r = HelmChart.render(Map.of("keys.existingSecret", "team-capstan-keys", "s3.existingSecret", ""));
        assertInvariants(r);
        var deployment = r.one(Deployment.class);
        var c = container(deployment);
        assertThat(secretRef(c, "CAPSTAN_SECRET_KEY")).isEqualTo("team-capstan-keys/secret-key");
        assertThat(volume(deployment, "keys").getSecret().getSecretName()).isEqualTo("team-capstan-keys");
        // No S3 Secret: no keys passed (an IAM role or workload identity supplies them).
        assertThat(env(c)).doesNotContainKeys("CAPSTAN_S3_ACCESS_KEY", "CAPSTAN_S3_SECRET_KEY");
    }

    @Test
    void clusterScopeGrantsTheSameRulesClusterWide() {
        var namespaced = HelmChart.render(Map.of());
        var r = HelmChart.render(Map.of("rbac.scope", "cluster"));
        assertInvariants(r);
        assertThat(r.all(Role.class)).isEmpty();
        assertThat(r.all(RoleBinding.class)).isEmpty();
        assertThat(r.one(ClusterRole.class).getRules()).isEqualTo(namespaced.one(Role.class).getRules());
        assertThat(r.one(ClusterRoleBinding.class).getRoleRef().getKind()).isEqualTo("ClusterRole");
        // Each namespace's workloads in the namespace of the same name, or as mapped.
        assertThat(container(r.one(Deployment.class)).getArgs()).containsExactly("server", "--backend", "kubernetes");
        var mapped = HelmChart.render(Map.of("rbac.scope", "cluster", "namespaceMap", "team-a=ml-a,*=ml-b"));
        assertThat(container(mapped.one(Deployment.class)).getArgs())
                .containsExactly("server", "--backend", "kubernetes", "--namespace-map", "team-a=ml-a,*=ml-b");
    }

    @Test
    void aLongReleaseNameStillGivesValidNames() {
        var release = "a-release-name-for-a-team-that-likes-very-long-names";
        var r = HelmChart.render(release, Map.of(), Optional.empty());
        assertInvariants(r);
        assertThat(r.objects()).allSatisfy(o -> assertThat(o.getMetadata().getName().length()).isLessThanOrEqualTo(63));
        assertThat(r.one(Deployment.class).getMetadata().getName()).isEqualTo(release + "-capstan");
    }

    @Test
    void oneReplicaKeepsABudgetThatLetsNodesDrain() {
        var r = HelmChart.render(Map.of("replicaCount", "1"));
        assertInvariants(r);
        assertThat(r.one(Deployment.class).getSpec().getReplicas()).isEqualTo(1);
        assertThat(r.one(PodDisruptionBudget.class).getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));
        assertThat(r.one(PodDisruptionBudget.class).getSpec().getMinAvailable()).isNull();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "replicaCount|0|replicaCount must be a whole number of at least 1, got 0",
            "replicaCount|-2|replicaCount must be a whole number of at least 1, got -2",
            "replicaCount|two|replicaCount must be a whole number of at least 1, got two",
            "database.existingSecret|''|database.existingSecret is required",
            "keys.existingSecret|''|keys.existingSecret is required",
            "database.url|''|database.url is required",
            "database.url|jdbc:h2:file:/tmp/capstan|database.url must be a PostgreSQL JDBC URL",
            "database.url|jdbc:postgresql://db:5432/capstan?password=hunter2|database.url must not contain a password",
            "database.url|jdbc:postgresql://capstan:hunter2@db:5432/capstan|database.url must not contain a password",
            "s3.bucket|''|s3.bucket is required",
            "rbac.scope|everywhere|rbac.scope must be namespace or cluster",
            "ingress.enabled|true|ingress.host is required when ingress.enabled is true",
            "namespaceMap|*=elsewhere|namespaceMap needs rbac.scope cluster",
            "image.repository|''|image.repository is required",
    })
    void badValuesAreRefusedNamingTheValue(String key, String value, String message) {
        assertThatThrownBy(() -> HelmChart.template(Map.of(key, value.equals("''") ? "" : value), Optional.empty()))
                .hasMessageContaining(message);
    }

    // ---- invariants

    /** What every rendering must keep, whatever the values. */
    static void assertInvariants(Rendered r) {
        assertThat(r.objects()).isNotEmpty();
        var names = new HashSet<String>();
        for (var o : r.objects()) {
            var what = o.getKind() + "/" + o.getMetadata().getName();
            assertThat(names.add(what)).as("%s rendered twice", what).isTrue();
            assertThat(o.getMetadata().getName()).as("name of %s", what).matches(DNS_LABEL);
            if (CLUSTER_SCOPED.contains(o.getKind())) assertThat(o.getMetadata().getNamespace()).as("namespace of %s", what).isNull();
            else assertThat(o.getMetadata().getNamespace()).as("namespace of %s", what).isEqualTo(HelmChart.NAMESPACE);
            var labels = o.getMetadata().getLabels();
            assertThat(labels).as("labels of %s", what).containsKeys("app.kubernetes.io/name", "app.kubernetes.io/instance", "helm.sh/chart");
            labels.forEach((k, v) -> assertThat(v).as("label %s of %s", k, what).matches(LABEL_VALUE));
        }

        var deployment = r.one(Deployment.class);
        var podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        var selector = deployment.getSpec().getSelector();
        assertThat(selector.getMatchExpressions()).isNullOrEmpty();
        assertThat(selector.getMatchLabels()).isNotEmpty();
        assertThat(podLabels).as("pod template labels vs the Deployment's selector").containsAllEntriesOf(selector.getMatchLabels());

        var service = r.one(Service.class);
        assertThat(service.getSpec().getSelector()).isNotEmpty();
        assertThat(podLabels).as("pod template labels vs the Service's selector").containsAllEntriesOf(service.getSpec().getSelector());
        for (var pdb : r.all(PodDisruptionBudget.class)) {
            assertThat(pdb.getSpec().getSelector().getMatchExpressions()).isNullOrEmpty();
            assertThat(pdb.getSpec().getSelector().getMatchLabels()).isNotEmpty();
            assertThat(podLabels).as("pod template labels vs the PodDisruptionBudget's selector").containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        }
        var podSpec = deployment.getSpec().getTemplate().getSpec();
        for (var spread : Optional.ofNullable(podSpec.getTopologySpreadConstraints()).orElse(List.of())) {
            assertThat(podLabels).as("pod template labels vs the spread constraint's selector").containsAllEntriesOf(spread.getLabelSelector().getMatchLabels());
        }

        var c = container(deployment);
        var ports = c.getPorts();
        for (var sp : service.getSpec().getPorts()) {
            assertThat(resolves(sp.getTargetPort(), ports)).as("Service port %s targets a container port", sp.getName()).isTrue();
        }
        for (var ingress : r.all(Ingress.class)) {
            for (var rule : ingress.getSpec().getRules()) {
                for (var path : rule.getHttp().getPaths()) {
                    var backend = path.getBackend().getService();
                    assertThat(backend.getName()).isEqualTo(service.getMetadata().getName());
                    assertThat(service.getSpec().getPorts()).as("Ingress backend port").anyMatch(p -> p.getName().equals(backend.getPort().getName()));
                }
            }
        }

        // Probes: /healthz for liveness and start-up, /readyz for readiness, on a port the container declares.
        // ChartProbesTest sends them to a running server.
        assertThat(probes(c)).containsOnlyKeys("startup", "liveness", "readiness");
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        probes(c).forEach((kind, probe) -> assertThat(resolves(probe.getHttpGet().getPort(), ports)).as("%s probe's port", kind).isTrue());

        // Every volume mounted exists; the home folder is writable while the root file system is not.
        var volumes = podSpec.getVolumes().stream().map(Volume::getName).toList();
        assertThat(c.getVolumeMounts()).allSatisfy(m -> assertThat(volumes).contains(m.getName()));
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(podSpec.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(env(c).get("CAPSTAN_HOME")).isEqualTo(mountPathOf(c, "home"));

        // Every environment variable set once, and every CAPSTAN_* one is a name Capstan reads.
        var envNames = c.getEnv().stream().map(EnvVar::getName).toList();
        assertThat(envNames).doesNotHaveDuplicates();
        var known = CapstanNames.environmentVariables();
        assertThat(envNames.stream().filter(n -> n.startsWith("CAPSTAN_")).toList()).as("names Capstan reads: %s", known).isSubsetOf(known);

        // The chart makes no Secret: every one the pod reads is named in the values, made before the install.
        assertThat(r.all(Secret.class)).isEmpty();
        assertThat(secretRefs(deployment)).isNotEmpty();

        // The pod runs as the ServiceAccount that the RBAC binding names, bound to the role rendered beside it.
        var account = podSpec.getServiceAccountName();
        r.all(ServiceAccount.class).forEach(sa -> assertThat(sa.getMetadata().getName()).isEqualTo(account));
        for (var binding : r.all(RoleBinding.class)) assertBinding(r, binding.getRoleRef(), binding.getSubjects(), account, Role.class);
        for (var binding : r.all(ClusterRoleBinding.class)) assertBinding(r, binding.getRoleRef(), binding.getSubjects(), account, ClusterRole.class);
    }

    private static void assertBinding(Rendered r, RoleRef ref, List<Subject> subjects, String account, Class<? extends HasMetadata> roleType) {
        assertThat(ref.getKind()).isEqualTo(roleType.getSimpleName());
        assertThat(r.all(roleType)).anyMatch(role -> role.getMetadata().getName().equals(ref.getName()));
        assertThat(subjects).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo(account);
            assertThat(s.getNamespace()).isEqualTo(HelmChart.NAMESPACE);
        });
    }

    static boolean resolves(IntOrString port, List<ContainerPort> ports) {
        if (port.getIntVal() != null) return ports.stream().anyMatch(p -> p.getContainerPort().equals(port.getIntVal()));
        return ports.stream().anyMatch(p -> port.getStrVal().equals(p.getName()));
    }

    static Container container(Deployment d) {
        var containers = d.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).hasSize(1);
        return containers.getFirst();
    }

    static Map<String, String> env(Container c) {
        var m = new java.util.LinkedHashMap<String, String>();
        c.getEnv().stream().filter(e -> e.getValueFrom() == null).forEach(e -> m.put(e.getName(), e.getValue()));
        return m;
    }

    static String secretRef(Container c, String name) {
        var e = c.getEnv().stream().filter(v -> v.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no env " + name));
        var ref = e.getValueFrom().getSecretKeyRef();
        return ref.getName() + "/" + ref.getKey();
    }

    static Volume volume(Deployment d, String name) {
        return d.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    static String mountPathOf(Container c, String volume) {
        return c.getVolumeMounts().stream().filter(m -> m.getName().equals(volume) && m.getSubPath() == null).findFirst()
                .orElseThrow(() -> new AssertionError("no mount of " + volume)).getMountPath();
    }

    static Map<String, Probe> probes(Container c) {
        var m = new java.util.TreeMap<String, Probe>();
        if (c.getStartupProbe() != null) m.put("startup", c.getStartupProbe());
        if (c.getLivenessProbe() != null) m.put("liveness", c.getLivenessProbe());
        if (c.getReadinessProbe() != null) m.put("readiness", c.getReadinessProbe());
        return m;
    }

    /** Secret/key pairs the pod reads: env secretKeyRefs and the items of secret volumes. */
    static Set<String> secretRefs(Deployment d) {
        var refs = new TreeSet<String>();
        var c = container(d);
        c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
                .forEach(e -> refs.add(e.getValueFrom().getSecretKeyRef().getName() + "/" + e.getValueFrom().getSecretKeyRef().getKey()));
        for (var v : d.getSpec().getTemplate().getSpec().getVolumes()) {
            if (v.getSecret() == null) continue;
            v.getSecret().getItems().forEach(i -> refs.add(v.getSecret().getSecretName() + "/" + i.getKey()));
        }
        return refs;
    }
}
