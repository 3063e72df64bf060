package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubeflow's tenancy through the real server: every route × caller (no token, kubeflow-view, kubeflow-edit,
 * kubeflow-admin by binding, the Profile's owner, the server admin) × the caller's own namespace and a foreign one,
 * each answer asserted against the table in {@link #ROUTES}, which the test prints.
 */
class TenancyMatrixTest {
    static final String OWN = "team-a";
    static final String FOREIGN = "team-b";

    /** The callers, weakest first. */
    enum Who {
        NONE("none", null), VIEW("view", "erin@example.com"), EDIT("edit", "dave@example.com"),
        ADMIN_BINDING("admin (binding)", "carol@example.com"), OWNER("admin (owner)", "alice@example.com"), SERVER_ADMIN("server admin", null);

        final String label;
        final String user;

        Who(String label, String user) {
            this.label = label;
            this.user = user;
        }

        String slug() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** What a route needs in the namespace it names. */
    enum Needs { ANY_USER, VIEW, EDIT, ADMIN, SERVER_ADMIN }

    /** One route: what it needs, the status when allowed, and how to call it as a caller in a namespace. */
    record Route(String name, Needs needs, int allowed, boolean problemJson, Call call) {
    }

    @FunctionalInterface
    interface Call {
        TestServer.Reply send(Ctx ctx, Who who, String ns);
    }

    record Ctx(TestServer server, Map<Who, String> tokens, Map<String, String> runUid, Map<String, Long> runContext,
               Map<String, Long> runArtifact) {
        TestServer.Reply as(Who who, String method, String path, String body, String type) {
            return server.sendAs(tokens.get(who), method, path, body, type);
        }
    }

    @TempDir
    static Path home;
    static TestServer server;
    static Ctx ctx;
    static final Map<Who, String> TOKENS = new EnumMap<>(Who.class);
    static final Map<String, String> RUN_UID = new LinkedHashMap<>();
    static final Map<String, Long> RUN_CONTEXT = new LinkedHashMap<>();
    static final Map<String, Long> RUN_ARTIFACT = new LinkedHashMap<>();
    static final AtomicInteger SEQ = new AtomicInteger();

    static final String R = "/apis/capstan/v1/namespaces/";

    static final List<Route> ROUTES = List.of(
            new Route("GET configmap", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/configmaps/cm", null, null)),
            new Route("LIST configmaps", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/configmaps", null, null)),
            new Route("WATCH configmaps", Needs.VIEW, 200, true, (c, w, ns) -> watchStatus(c, w, R + ns + "/configmaps?watch=true")),
            new Route("CREATE configmap", Needs.EDIT, 201, true, (c, w, ns) -> c.as(w, "POST", R + ns + "/configmaps",
                    configMap(ns, "new-" + SEQ.incrementAndGet()), "application/yaml")),
            new Route("UPDATE configmap", Needs.EDIT, 200, true, (c, w, ns) -> c.as(w, "PUT", R + ns + "/configmaps/cm",
                    configMap(ns, "cm"), "application/yaml")),
            new Route("DELETE configmap", Needs.EDIT, 200, true, (c, w, ns) -> c.as(w, "DELETE", R + ns + "/configmaps/del-" + w.slug(), null, null)),
            new Route("APPLY configmap", Needs.EDIT, 200, true, (c, w, ns) -> c.as(w, "POST", "/apis/capstan/v1/apply",
                    configMap(ns, "applied-" + SEQ.incrementAndGet()), "application/yaml")),
            new Route("GET secret", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/secrets/s", null, null)),
            new Route("CREATE rolebinding", Needs.ADMIN, 201, true, (c, w, ns) -> c.as(w, "POST", R + ns + "/rolebindings",
                    binding(ns, "rb-" + SEQ.incrementAndGet(), "kubeflow-view", "zed@example.com"), "application/yaml")),
            new Route("GET profile", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/profiles/" + ns, null, null)),
            new Route("APPLY profile", Needs.SERVER_ADMIN, 200, true, (c, w, ns) -> c.as(w, "POST", "/apis/capstan/v1/apply",
                    profile(ns, ns.equals(OWN) ? Who.OWNER.user : "bob@example.com"), "application/yaml")),
            new Route("job log", Needs.VIEW, 404, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/jobs/absent/log", null, null)),
            new Route("pytorchjob log", Needs.VIEW, 404, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/pytorchjobs/absent/log", null, null)),
            new Route("trial log", Needs.VIEW, 404, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/trials/absent/log", null, null)),
            new Route("trial observations", Needs.EDIT, 404, true, (c, w, ns) -> c.as(w, "POST", R + ns + "/trials/absent/observations",
                    "{\"metrics\": [{\"name\": \"loss\", \"value\": 0.5}]}", "application/json")),
            new Route("run artifacts list", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", R + ns + "/pipelineruns/run/artifacts", null, null)),
            new Route("artifact download", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET",
                    R + ns + "/pipelineruns/run/artifacts/content?task=produce&output=data", null, null)),
            new Route("lineage of run", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", "/apis/capstan/v1/lineage/pipelineruns/" + c.runUid().get(ns), null, null)),
            new Route("lineage context", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", "/apis/capstan/v1/lineage/contexts/" + c.runContext().get(ns), null, null)),
            new Route("lineage artifact", Needs.VIEW, 200, true, (c, w, ns) -> c.as(w, "GET", "/apis/capstan/v1/lineage/artifacts/" + c.runArtifact().get(ns), null, null)),
            new Route("KFP list experiments", Needs.VIEW, 200, false, (c, w, ns) -> c.as(w, "GET", "/apis/v2beta1/experiments?namespace=" + ns, null, null)),
            new Route("KFP list runs", Needs.VIEW, 200, false, (c, w, ns) -> c.as(w, "GET", "/apis/v2beta1/runs?namespace=" + ns, null, null)),
            new Route("KFP list recurring runs", Needs.VIEW, 200, false, (c, w, ns) -> c.as(w, "GET", "/apis/v2beta1/recurringruns?namespace=" + ns, null, null)),
            new Route("KFP create experiment", Needs.EDIT, 200, false, (c, w, ns) -> c.as(w, "POST", "/apis/v2beta1/experiments",
                    "{\"display_name\": \"e" + SEQ.incrementAndGet() + "\", \"namespace\": \"" + ns + "\"}", "application/json")),
            new Route("KFP list pipelines (shared)", Needs.ANY_USER, 200, false, (c, w, ns) -> c.as(w, "GET", "/apis/v2beta1/pipelines", null, null)),
            new Route("KFP create pipeline (shared)", Needs.SERVER_ADMIN, 200, false, (c, w, ns) -> c.as(w, "POST", "/apis/v2beta1/pipelines",
                    "{\"display_name\": \"p" + SEQ.incrementAndGet() + "\"}", "application/json")),
            new Route("inference v2", Needs.VIEW, 404, true, (c, w, ns) -> c.as(w, "POST", "/serving/" + ns + "/v2/models/absent/infer",
                    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [1.0]}]}", "application/json")),
            new Route("inference v1", Needs.VIEW, 404, true, (c, w, ns) -> c.as(w, "POST", "/serving/" + ns + "/v1/models/absent:predict",
                    "{\"instances\": [[1.0]]}", "application/json")));

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        TOKENS.put(Who.SERVER_ADMIN, server.adminToken());
        for (var who : Who.values()) {
            if (who.user != null) TOKENS.put(who, server.server.tokens().createUserToken(who.user, Optional.empty(), "").token());
        }
        // Profiles as Kubeflow writes them (cluster-scoped: no namespace), and bindings as KFAM writes them.
        ok(server.apply(profile(OWN, Who.OWNER.user)));
        ok(server.apply(profile(FOREIGN, "bob@example.com")));
        ok(server.apply(kfamBinding(OWN, Who.VIEW.user, "view") + "---\n" + kfamBinding(OWN, Who.EDIT.user, "edit") + "---\n"
                + kfamBinding(OWN, Who.ADMIN_BINDING.user, "admin")));
        for (var ns : List.of(OWN, FOREIGN)) {
            ok(server.apply(configMap(ns, "cm") + "---\n" + """
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: s, namespace: %s}
                    stringData: {password: hunter2}
                    """.formatted(ns)));
            for (var who : Who.values()) ok(server.apply(configMap(ns, "del-" + who.slug())));
            runPipeline(ns, "run", "tag-" + ns, "http://127.0.0.1:1/none");
            var uid = server.get(R + ns + "/pipelineruns/run").json().path("metadata").path("uid").asText();
            RUN_UID.put(ns, uid);
            var lineage = server.get("/apis/capstan/v1/lineage/pipelineruns/" + uid).json();
            RUN_CONTEXT.put(ns, lineage.path("context").path("id").asLong());
            RUN_ARTIFACT.put(ns, lineage.path("artifacts").path(0).path("id").asLong());
            assertThat(RUN_ARTIFACT.get(ns)).as(lineage.toString()).isPositive();
        }
        ctx = new Ctx(server, TOKENS, RUN_UID, RUN_CONTEXT, RUN_ARTIFACT);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static int expected(Route route, Who who, String ns) {
        if (who == Who.NONE) return 401;
        if (who == Who.SERVER_ADMIN) return route.allowed();
        boolean own = ns.equals(OWN);
        boolean granted = switch (route.needs()) {
            case ANY_USER -> true;
            case VIEW -> own;
            case EDIT -> own && who.compareTo(Who.EDIT) >= 0;
            case ADMIN -> own && who.compareTo(Who.ADMIN_BINDING) >= 0;
            case SERVER_ADMIN -> false;
        };
        return granted ? route.allowed() : 403;
    }

    @Test
    void everyRouteAnswersEachCallerInItsOwnAndAForeignNamespaceAsTheTableSays() {
        var failures = new ArrayList<String>();
        var table = new StringBuilder();
        table.append("| route | needs |");
        for (var who : Who.values()) table.append(' ').append(who.label).append(" |");
        table.append("\n|---|---|").append("---|".repeat(Who.values().length)).append('\n');
        int asked = 0;
        for (var route : ROUTES) {
            table.append("| ").append(route.name()).append(" | ").append(route.needs().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')).append(" |");
            for (var who : Who.values()) {
                var cell = new ArrayList<String>();
                for (var ns : List.of(OWN, FOREIGN)) {
                    var reply = route.call().send(ctx, who, ns);
                    asked++;
                    int want = expected(route, who, ns);
                    cell.add(Integer.toString(reply.status()));
                    if (reply.status() != want) {
                        failures.add(route.name() + " as " + who.label + " in " + ns + ": expected " + want + ", got " + reply.status() + " " + reply.body());
                    } else if (want == 403 && route.problemJson() && !reply.contentType().startsWith("application/problem+json")) {
                        failures.add(route.name() + " as " + who.label + " in " + ns + ": a 403 is not problem+json but " + reply.contentType());
                    } else if (route.name().equals("GET secret") && want == 200) {
                        var password = reply.json().path("spec").path("stringData").path("password").asText();
                        var shown = who.compareTo(Who.EDIT) >= 0 ? "hunter2" : "<redacted>";
                        if (!password.equals(shown)) failures.add("secret as " + who.label + ": expected " + shown + ", got " + password);
                    }
                }
                table.append(' ').append(String.join(" / ", cell)).append(" |");
            }
            table.append('\n');
        }
        System.out.println("Tenancy matrix: " + ROUTES.size() + " routes x " + Who.values().length + " callers x 2 namespaces = " + asked
                + " requests; each cell is own (" + OWN + ") / foreign (" + FOREIGN + ")\n" + table);
        assertThat(failures).isEmpty();
    }

    @Test
    void listingAllNamespacesShowsOnlyThoseTheCallerMayView() {
        for (var who : Who.values()) {
            var reply = ctx.as(who, "GET", "/apis/capstan/v1/configmaps", null, null);
            if (who == Who.NONE) {
                assertThat(reply.status()).isEqualTo(401);
                continue;
            }
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
            var namespaces = new TreeSet<String>();
            reply.json().path("items").forEach(i -> namespaces.add(i.path("metadata").path("namespace").asText()));
            if (who == Who.SERVER_ADMIN) assertThat(namespaces).contains(OWN, FOREIGN);
            else assertThat(namespaces).as(who.label).containsExactly(OWN);
            var profiles = new TreeSet<String>();
            ctx.as(who, "GET", "/apis/capstan/v1/profiles", null, null).json().path("items")
                    .forEach(i -> profiles.add(i.path("metadata").path("name").asText()));
            if (who == Who.SERVER_ADMIN) assertThat(profiles).contains(OWN, FOREIGN);
            else assertThat(profiles).as(who.label).containsExactly(OWN);
        }
    }

    @Test
    void watchingAllNamespacesDeliversOnlyViewableEvents() throws Exception {
        long from = server.get(R + OWN + "/configmaps").json().path("metadata").path("resourceVersion").asLong();
        ok(server.apply(configMap(FOREIGN, "watched-" + SEQ.incrementAndGet())));
        ok(server.apply(configMap(OWN, "watched-" + SEQ.incrementAndGet())));
        var request = HttpRequest.newBuilder(URI.create(server.server.url() + "/apis/capstan/v1/configmaps?watch=true&resourceVersion=" + from))
                .header("Authorization", "Bearer " + TOKENS.get(Who.VIEW)).timeout(Duration.ofSeconds(30)).build();
        var res = server.http.send(request, HttpResponse.BodyHandlers.ofLines());
        assertThat(res.statusCode()).isEqualTo(200);
        try (var lines = res.body()) {
            var firstData = lines.filter(l -> l.startsWith("data:")).findFirst().orElseThrow();
            var event = Json.json().readTree(firstData.substring(5));
            assertThat(event.path("object").path("metadata").path("namespace").asText()).isEqualTo(OWN);
        }
    }

    @Test
    void aWatchStopsDeliveringOnceTheWatchersAccessIsWithdrawn() throws Exception {
        var gina = server.server.tokens().createUserToken("gina@example.com", Optional.empty(), "").token();
        var owner = TOKENS.get(Who.OWNER);
        assertThat(server.sendAs(owner, "POST", R + OWN + "/rolebindings", binding(OWN, "gina", "kubeflow-view", "gina@example.com"),
                "application/yaml").status()).isEqualTo(201);
        var request = HttpRequest.newBuilder(URI.create(server.server.url() + R + OWN + "/configmaps?watch=true"))
                .header("Authorization", "Bearer " + gina).timeout(Duration.ofSeconds(60)).build();
        var res = server.http.send(request, HttpResponse.BodyHandlers.ofLines());
        assertThat(res.statusCode()).isEqualTo(200);
        try (var lines = res.body()) {
            var it = lines.iterator();
            assertThat(it.next()).startsWith(":").contains("watching from");
            ok(server.apply(configMap(OWN, "seen-" + SEQ.incrementAndGet())));
            var first = it.next();
            while (first.isBlank() || !first.startsWith("data:")) first = it.next();
            assertThat(first).contains("seen-");
            assertThat(server.sendAs(owner, "DELETE", R + OWN + "/rolebindings/gina", null, null).status()).isEqualTo(200);
            ok(server.apply(configMap(OWN, "hidden-" + SEQ.incrementAndGet())));
            // The server sends a heartbeat after a poll with nothing to send: the hidden change came and went unsent.
            var next = it.next();
            while (!next.contains("heartbeat")) {
                assertThat(next).doesNotContain("hidden-");
                next = it.next();
            }
        }
    }

    @Test
    void lineageSubgraphsLeaveOutWhatTheCallerMayNotView() {
        var both = RUN_ARTIFACT.get(OWN) + "," + RUN_ARTIFACT.get(FOREIGN);
        var asViewer = ctx.as(Who.VIEW, "GET", "/apis/capstan/v1/lineage?artifactIds=" + both + "&direction=both", null, null);
        assertThat(asViewer.status()).isEqualTo(200);
        var asAdmin = server.get("/apis/capstan/v1/lineage?artifactIds=" + both + "&direction=both").json();
        assertThat(ids(asAdmin.path("artifacts"))).contains(RUN_ARTIFACT.get(OWN), RUN_ARTIFACT.get(FOREIGN));
        var seen = asViewer.json();
        assertThat(ids(seen.path("artifacts"))).contains(RUN_ARTIFACT.get(OWN)).doesNotContain(RUN_ARTIFACT.get(FOREIGN));
        assertThat(ids(seen.path("contexts"))).contains(RUN_CONTEXT.get(OWN)).doesNotContain(RUN_CONTEXT.get(FOREIGN));
        var foreignExecutions = ids(server.get("/apis/capstan/v1/lineage/pipelineruns/" + RUN_UID.get(FOREIGN)).json().path("executions"));
        assertThat(foreignExecutions).isNotEmpty();
        assertThat(ids(seen.path("executions"))).isNotEmpty().doesNotContainAnyElementsOf(foreignExecutions);
        seen.path("events").forEach(e -> assertThat(foreignExecutions).doesNotContain(e.path("executionId").asLong()));
    }

    @Test
    void aStepReadsItsOwnRunsArtifactWithItsTokenAndIsRefusedAnotherRunsAndEverythingElse() {
        var other = server.server.url() + R + FOREIGN + "/pipelineruns/run/artifacts/content?task=produce&output=data";
        var status = runPipeline(OWN, "reader", "mine", other);
        var result = status.path("tasks").path("root/consume").path("outputs").path("parameters").path("Output").asText();
        assertThat(result).as(status.toString()).isEqualTo("own=200:mine other=403 configmaps=403");
    }

    @Test
    void aBindingNamingAnotherRoleOrSubjectKindIsRefusedNamingTheField() {
        var reply = server.send("POST", R + OWN + "/rolebindings", """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: bad}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
                subjects:
                - {kind: ServiceAccount, name: default-editor, namespace: team-a}
                """, "application/yaml");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("roleRef.name").contains("subjects[0].kind");
        var quota = server.apply("""
                apiVersion: kubeflow.org/v1
                kind: Profile
                metadata: {name: team-q}
                spec:
                  owner: {kind: Group, name: ops}
                  resourceQuotaSpec: {hard: {cpu: lots, "requests.nvidia.com/gpu": "1"}}
                """);
        assertThat(quota.status()).isEqualTo(400);
        assertThat(quota.body()).contains("spec.owner.kind").contains("spec.resourceQuotaSpec.hard.cpu");
        assertThat(server.get(R + "team-q/profiles/team-q").status()).isEqualTo(404);
    }

    @Test
    void aNewBindingTakesEffectOnTheNextRequestAndItsRemovalToo() {
        var frank = server.server.tokens().createUserToken("frank@example.com", Optional.empty(), "").token();
        assertThat(server.sendAs(frank, "GET", R + OWN + "/configmaps/cm", null, null).status()).isEqualTo(403);
        var owner = TOKENS.get(Who.OWNER);
        assertThat(server.sendAs(owner, "POST", R + OWN + "/rolebindings", binding(OWN, "frank", "kubeflow-view", "frank@example.com"),
                "application/yaml").status()).isEqualTo(201);
        assertThat(server.sendAs(frank, "GET", R + OWN + "/configmaps/cm", null, null).status()).isEqualTo(200);
        assertThat(server.sendAs(frank, "PUT", R + OWN + "/configmaps/cm", configMap(OWN, "cm"), "application/yaml").status()).isEqualTo(403);
        assertThat(server.sendAs(owner, "DELETE", R + OWN + "/rolebindings/frank", null, null).status()).isEqualTo(200);
        assertThat(server.sendAs(frank, "GET", R + OWN + "/configmaps/cm", null, null).status()).isEqualTo(403);
    }

    @Test
    void anAuthorisedRequestCostsAboutTheSameAsTheAdminsWhichSkipsTheLookup() {
        // Not asserted (timings are noisy here); printed for the release note.
        var path = R + OWN + "/configmaps/cm";
        for (int i = 0; i < 300; i++) {
            ctx.as(Who.OWNER, "GET", path, null, null);
            ctx.as(Who.SERVER_ADMIN, "GET", path, null, null);
        }
        long[] user = new long[1000];
        long[] admin = new long[1000];
        for (int i = 0; i < user.length; i++) {
            long t0 = System.nanoTime();
            assertThat(ctx.as(Who.VIEW, "GET", path, null, null).status()).isEqualTo(200);
            long t1 = System.nanoTime();
            assertThat(ctx.as(Who.SERVER_ADMIN, "GET", path, null, null).status()).isEqualTo(200);
            long t2 = System.nanoTime();
            user[i] = t1 - t0;
            admin[i] = t2 - t1;
        }
        java.util.Arrays.sort(user);
        java.util.Arrays.sort(admin);
        System.out.printf("GET configmap median: viewer %.1f us, server admin %.1f us (difference %.1f us); p90 %.1f / %.1f us%n",
                user[500] / 1e3, admin[500] / 1e3, (user[500] - admin[500]) / 1e3, user[900] / 1e3, admin[900] / 1e3);
    }

    // ---------------------------------------------------------------- helpers

    static Set<Long> ids(JsonNode list) {
        var out = new HashSet<Long>();
        list.forEach(n -> out.add(n.path("id").asLong()));
        return out;
    }

    static void ok(TestServer.Reply reply) {
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    }

    static TestServer.Reply watchStatus(Ctx c, Who who, String path) {
        var builder = HttpRequest.newBuilder(URI.create(c.server().server.url() + path)).timeout(Duration.ofSeconds(30));
        if (c.tokens().get(who) != null) builder.header("Authorization", "Bearer " + c.tokens().get(who));
        try {
            var res = c.server().http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = res.body()) {
                var text = res.statusCode() == 200 ? "" : new String(body.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                return new TestServer.Reply(res.statusCode(), res.headers().firstValue("Content-Type").orElse(""), text, "");
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static String configMap(String ns, String name) {
        return """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: %s, namespace: %s}
                data: {k: v}
                """.formatted(name, ns);
    }

    static String profile(String name, String owner) {
        return """
                apiVersion: kubeflow.org/v1
                kind: Profile
                metadata: {name: %s}
                spec:
                  owner: {kind: User, name: %s}
                  resourceQuotaSpec:
                    hard: {cpu: "2", memory: 2Gi, requests.nvidia.com/gpu: "1", pods: "10"}
                """.formatted(name, owner);
    }

    static String binding(String ns, String name, String role, String user) {
        return """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: %s, namespace: %s}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %s}
                subjects:
                - {apiGroup: rbac.authorization.k8s.io, kind: User, name: %s}
                """.formatted(name, ns, role, user);
    }

    /** As Kubeflow's access management writes a contributor's binding: its name, annotations and ClusterRole. */
    static String kfamBinding(String ns, String user, String role) {
        var escaped = user.replace("@", "-").replace(".", "-").toLowerCase(java.util.Locale.ROOT);
        return """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata:
                  name: user-%s-clusterrole-%s
                  namespace: %s
                  annotations: {user: %s, role: %s}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubeflow-%s}
                subjects:
                - {apiGroup: rbac.authorization.k8s.io, kind: User, name: %s}
                """.formatted(escaped, role, ns, user, role, role, user);
    }

    /**
     * Runs, as the server admin, a two-step pipeline in {@code ns}: {@code produce} writes {@code tag} to its output
     * artifact {@code data}; {@code consume} reads it back through the API with the step's own token, tries
     * {@code otherUrl} and the namespace's ConfigMaps with it too, and reports the statuses as its output.
     */
    static JsonNode runPipeline(String ns, String name, String tag, String otherUrl) {
        var script = """
                import os, sys, urllib.request, urllib.error
                def get(url):
                    req = urllib.request.Request(url, headers={'Authorization': 'Bearer ' + os.environ['CAPSTAN_TOKEN']})
                    try:
                        with urllib.request.urlopen(req, timeout=20) as f:
                            return f.status, f.read().decode().strip()
                    except urllib.error.HTTPError as e:
                        return e.code, ''
                    except OSError as e:
                        return 0, str(e)
                base = os.environ['CAPSTAN_ARTIFACTS_URL']
                own = get(base + '/content?task=produce&output=data')
                other = get(sys.argv[1])
                cms = get(base.split('/namespaces/')[0] + '/namespaces/%s/configmaps')
                with open(sys.argv[2], 'w') as out:
                    out.write('own=%%d:%%s other=%%d configmaps=%%d' %% (own[0], own[1], other[0], cms[0]))
                """.formatted(ns);
        var pipeline = Json.json().createObjectNode();
        try {
            pipeline = (com.fasterxml.jackson.databind.node.ObjectNode) Json.yaml().readTree("""
                    pipelineInfo: {name: tenancy}
                    schemaVersion: 2.1.0
                    sdkVersion: kfp-2.13.0
                    root:
                      inputDefinitions:
                        parameters:
                          tag: {parameterType: STRING}
                          other: {parameterType: STRING}
                      dag:
                        tasks:
                          produce:
                            componentRef: {name: comp-produce}
                            taskInfo: {name: produce}
                            inputs: {parameters: {text: {componentInputParameter: tag}}}
                          consume:
                            componentRef: {name: comp-consume}
                            taskInfo: {name: consume}
                            dependentTasks: [produce]
                            inputs: {parameters: {other: {componentInputParameter: other}}}
                    components:
                      comp-produce:
                        executorLabel: exec-produce
                        inputDefinitions: {parameters: {text: {parameterType: STRING}}}
                        outputDefinitions:
                          artifacts:
                            data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
                      comp-consume:
                        executorLabel: exec-consume
                        inputDefinitions: {parameters: {other: {parameterType: STRING}}}
                        outputDefinitions: {parameters: {Output: {parameterType: STRING}}}
                    deploymentSpec:
                      executors:
                        exec-produce:
                          container:
                            image: python:3.11
                            command: [sh, -c]
                            args: ["printf %s {{$.inputs.parameters['text']}} > {{$.outputs.artifacts['data'].path}}"]
                        exec-consume:
                          container:
                            image: python:3.11
                            command: [python3, -c]
                    """);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        var consume = (com.fasterxml.jackson.databind.node.ObjectNode) pipeline.path("deploymentSpec").path("executors").path("exec-consume").path("container");
        ((com.fasterxml.jackson.databind.node.ArrayNode) consume.get("command")).add(script);
        consume.putArray("args").add("{{$.inputs.parameters['other']}}").add("{{$.outputs.parameters['Output'].output_file}}");
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", name).put("namespace", ns);
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", pipeline.toString());
        spec.putObject("parameters").put("tag", tag).put("other", otherUrl);
        ok(server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json"));
        var run = server.await(R + ns + "/pipelineruns/" + name,
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(90));
        assertThat(run.path("status").path("phase").asText()).as(run.toString()).isEqualTo("Succeeded");
        return run.path("status");
    }
}
