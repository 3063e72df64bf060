package io.capstan.server.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.backend.LocalBackend;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.Reconciler.Result;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Job reconciler against a real store and real child processes, driven by hand instead of the runtime. */
class JobReconcilerTest {
    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    LocalBackend backend;
    JobReconciler reconciler;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(List.of(Jobs.RESOURCE_KIND, io.capstan.core.CoreKinds.SECRET_KIND, io.capstan.core.CoreKinds.CONFIG_MAP_KIND)));

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("workloads")));
        reconciler = new JobReconciler(store, backend, dir.resolve("jobs"), Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        backend.shutdownAndKillAll(Duration.ofSeconds(5));
        db.close();
    }

    private ResourceKey apply(String yaml) {
        return store.create(parser.parse("test.yaml", yaml).getFirst()).key();
    }

    /** Reconciles as the runtime would, honouring requeues, until the reconciler says done. */
    private void reconcileUntilDone(ResourceKey key) {
        var deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            var result = reconciler.reconcile(key);
            if (result.requeueAfter().isEmpty()) return;
            LockSupport.parkNanos(result.requeueAfter().get().toNanos());
        }
        throw new AssertionError("reconcile of " + key + " did not settle in 30 s; status: " + store.get(key).status());
    }

    @Test
    void succeedsAndASecondReconcileChangesNothing() {
        var key = apply("apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: ok}\nspec: {command: [sh, -c, 'echo hi']}\n");
        reconcileUntilDone(key);
        var done = store.get(key);
        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(done.status().field("exitCode").orElseThrow().asInt()).isZero();

        assertThat(reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(store.get(key).metadata().resourceVersion()).isEqualTo(done.metadata().resourceVersion());
        assertThat(backend.list()).hasSize(1);
    }

    @Test
    void aBatchV1JobRunsItsImagesCommandInAContainer() throws Exception {
        io.capstan.backend.testing.TestImages.require();
        var image = io.capstan.backend.testing.TestImages.image("batch-job", java.util.Map.of("/opt/job/run.sh", "#!/bin/sh\necho \"job in $(pwd) with $GREETING $*\"\n"));
        var key = apply("""
                apiVersion: batch/v1
                kind: Job
                metadata: {name: batch}
                spec:
                  backoffLimit: 0
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                        - name: main
                          image: %s
                          imagePullPolicy: Never
                          workingDir: /opt/job
                          command: [./run.sh]
                          args: [a, b]
                          env: [{name: GREETING, value: hello}]
                """.formatted(image));
        reconcileUntilDone(key);
        var done = store.get(key);
        assertThat(done.status().phase()).as(String.valueOf(done.status())).isEqualTo("Succeeded");
        var workload = done.status().field("workloadId").orElseThrow().asText();
        assertThat(backend.tail(workload, 10)).extracting(io.capstan.backend.LogLine::text).contains("job in /opt/job with hello a b");
    }

    @Test
    void aBatchV1JobIsCheckedAtApplyNamingTheContainersFields() {
        assertThatThrownBy(() -> apply("""
                apiVersion: batch/v1
                kind: Job
                metadata: {name: bad}
                spec:
                  activeDeadlineSeconds: -1
                  template:
                    spec:
                      containers:
                        - name: main
                          imagePullPolicy: Sometimes
                          command: [sh]
                          resources: {requests: {cpu: lots}}
                """))
                .isInstanceOf(io.capstan.core.InvalidSpecException.class)
                .hasMessageContaining("spec.template.spec.containers[0].image: required: the image to run")
                .hasMessageContaining("spec.template.spec.containers[0].imagePullPolicy must be Always, IfNotPresent or Never, got 'Sometimes'")
                .hasMessageContaining("spec.template.spec.containers[0].resources.cpu")
                .hasMessageContaining("spec.activeDeadlineSeconds");
        assertThatThrownBy(() -> apply("apiVersion: batch/v1\nkind: Job\nmetadata: {name: two}\nspec:\n  template:\n    spec:\n      containers:\n"
                + "        - {name: a, image: x, command: [sh]}\n        - {name: b, image: y, command: [sh]}\n"))
                .hasMessageContaining("spec.template.spec.containers: has 2 containers; locally a Job runs one");
    }

    @Test
    void writesTheAttemptBeforeLaunchingAndRelaunchesNothingTwice() {
        var key = apply("apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: once}\nspec: {command: [sh, -c, 'echo x >> "
                + dir.resolve("once.txt") + "']}\n");
        reconciler.reconcile(key);
        var afterFirst = store.get(key).status();
        assertThat(afterFirst.field("workloadId")).isPresent();
        assertThat(afterFirst.field("attempts").orElseThrow().asInt()).isEqualTo(1);
        reconcileUntilDone(key);
        assertThat(dir.resolve("once.txt")).hasContent("x");
    }

    @Test
    void retriesAsBackoffLimitSaysThenFailsWithTheReason() {
        var key = apply("apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: bad}\nspec: {backoffLimit: 1, command: [sh, -c, 'exit 4']}\n");
        reconcileUntilDone(key);
        var failed = store.get(key).status();
        assertThat(failed.phase()).isEqualTo("Failed");
        assertThat(failed.field("attempts").orElseThrow().asInt()).isEqualTo(2);
        assertThat(failed.condition("Succeeded").orElseThrow().message()).isEqualTo("exited with code 4");
        var version = store.get(key).metadata().resourceVersion();
        reconciler.reconcile(key);
        assertThat(store.get(key).metadata().resourceVersion()).isEqualTo(version);
    }

    @Test
    void timeoutKillsTheProcessAndFailsTheJob() {
        var key = apply("apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: slow}\nspec: {timeoutSeconds: 1, command: [sleep, '30']}\n");
        reconcileUntilDone(key);
        assertThat(store.get(key).status().field("message").orElseThrow().asText()).contains("timeout");
    }

    @Test
    void deletingAJobCancelsItsProcess() {
        var key = apply("apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: gone}\nspec: {command: [sleep, '30']}\n");
        reconciler.reconcile(key);
        var workload = store.get(key).status().field("workloadId").orElseThrow().asText();
        store.delete(key);
        assertThat(reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(backend.find(workload).orElseThrow().phase().isTerminal()).isTrue();
    }

    private static final String SECRET = """
            apiVersion: v1
            kind: Secret
            metadata: {name: db}
            data: {password: aHVudGVyMg==}
            stringData: {user: alice, ca.crt: CERT}
            """;

    @Test
    void aJobGetsSecretsAndConfigMapsAsEnvironmentAndFiles() throws Exception {
        apply(SECRET);
        apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {MODE: fast, LEVEL: '3'}\n");
        var out = dir.resolve("out.txt");
        var key = apply("""
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: uses-secrets}
                spec:
                  command: [sh, -c, 'echo "$DB_PASSWORD|$CFG_MODE|$CFG_LEVEL|$MISSING_OK|$(cat /etc/db/password)|$(cat /etc/db/certs/ca.pem)|$(stat -c %a /etc/db/password)" > OUT; ls /etc/db >> OUT']
                  env:
                  - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
                  - {name: MISSING_OK, valueFrom: {secretKeyRef: {name: nope, key: x, optional: true}}}
                  envFrom:
                  - configMapRef: {name: settings}
                    prefix: CFG_
                  volumes:
                  - name: creds
                    secret:
                      secretName: db
                      items: [{key: password, path: password}, {key: ca.crt, path: certs/ca.pem}]
                  volumeMounts:
                  - {name: creds, mountPath: /etc/db}
                """.replace("OUT", out.toString()));

        reconcileUntilDone(key);

        assertThat(store.get(key).status().phase()).as(store.get(key).status().toString()).isEqualTo("Succeeded");
        var lines = java.nio.file.Files.readAllLines(out);
        assertThat(lines.getFirst()).isEqualTo("hunter2|fast|3||hunter2|CERT|600");
        assertThat(lines.subList(1, lines.size())).containsExactly("certs", "password");
        var workload = store.get(key).status().field("workloadId").orElseThrow().asText();
        assertThat(dir.resolve("jobs/.volumes").resolve(workload)).as("secret files removed when the attempt ends").doesNotExist();
        var specFile = dir.resolve("workloads").resolve(workload).resolve("spec.json");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(specFile))).isEqualTo("rw-------");
    }

    @Test
    void aJobWaitsWhileASecretOrKeyItNeedsIsMissingAndSaysWhich() {
        var key = apply("""
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: waits}
                spec:
                  command: [sh, -c, 'test "$TOKEN" = alice']
                  env:
                  - {name: TOKEN, valueFrom: {secretKeyRef: {name: db, key: user}}}
                """);
        var first = reconciler.reconcile(key);
        assertThat(first.requeueAfter()).isPresent();
        var waiting = store.get(key).status();
        assertThat(waiting.phase()).isEqualTo("Pending");
        assertThat(waiting.condition("Running").orElseThrow().reason()).isEqualTo("CreateContainerConfigError");
        assertThat(waiting.condition("Running").orElseThrow().message()).contains("secret 'db'", "not found", "env TOKEN");
        var version = store.get(key).metadata().resourceVersion();
        reconciler.reconcile(key);
        assertThat(store.get(key).metadata().resourceVersion()).as("waiting again changes nothing").isEqualTo(version);

        apply("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {other: x}\n");
        reconciler.reconcile(key);
        assertThat(store.get(key).status().condition("Running").orElseThrow().message()).contains("secret 'db'", "has no key 'user'", "[other]")
                .doesNotContain("x]");

        store.apply(parser.parse("s.yaml", SECRET).getFirst());
        reconcileUntilDone(key);
        assertThat(store.get(key).status().phase()).isEqualTo("Succeeded");
    }
}
