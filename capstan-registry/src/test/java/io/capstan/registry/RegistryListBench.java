package io.capstan.registry;

import io.capstan.core.Json;
import io.capstan.core.security.AccessPolicy;
import io.capstan.store.Database;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import org.jdbi.v3.core.Jdbi;

/**
 * List latency of the Model Registry API with 10,000 versions of one model, each with custom properties
 * {@code accuracy} (double, uniform in [0, 1)), {@code epochs} (int) and {@code framework} (string), over HTTP on a
 * real Helidon server: an unfiltered page, filters on a custom property at several selectivities, and paging through
 * a filtered listing. H2 (file) always, PostgreSQL when a JDBC URL is given.
 * Usage: {@code RegistryListBench [jdbc:postgresql://...]} ({@code -Dcapstan.bench.registry.h2=false}: PostgreSQL only);
 * {@code bench/registry-bench.sh} builds and runs it.
 */
public final class RegistryListBench {
    private static final int VERSIONS = Integer.getInteger("capstan.bench.registry.versions", 10_000);
    private static final int RUNS = 40;
    private static final int WARMUP = 10;

    private RegistryListBench() {
    }

    public static void main(String[] args) throws Exception {
        var dir = Files.createTempDirectory("registry-bench");
        if (Boolean.parseBoolean(System.getProperty("capstan.bench.registry.h2", "true"))) {
            try (var db = Database.open("jdbc:h2:file:" + dir.resolve("mr") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH", "", "")) {
                run("H2 (file)", db);
            }
        }
        if (args.length > 0 && !args[0].isBlank()) {
            var url = args[0];
            var schema = "mr_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
            Jdbi.create(url).useHandle(h -> h.execute("CREATE SCHEMA " + schema));
            try (var db = Database.open(url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema, "", "")) {
                run("PostgreSQL", db);
            } finally {
                Jdbi.create(url).useHandle(h -> h.execute("DROP SCHEMA " + schema + " CASCADE"));
            }
        }
    }

    private static void run(String label, Database db) throws Exception {
        db.migrate(ModelRegistry.MIGRATIONS);
        try (var server = new TestServer(db, AccessPolicy.serverAdminOnly())) {
            var http = HttpClient.newHttpClient();
            var base = server.base();
            var model = post(http, base + "/registered_models", "{\"name\": \"iris\"}");
            var random = new Random(42);
            long start = System.nanoTime();
            try (var pool = Executors.newFixedThreadPool(8)) {
                var futures = new ArrayList<java.util.concurrent.Future<String>>();
                for (int i = 0; i < VERSIONS; i++) {
                    var body = "{\"name\": \"v" + i + "\", \"registeredModelId\": \"" + model + "\", \"customProperties\": {"
                            + "\"accuracy\": {\"metadataType\": \"MetadataDoubleValue\", \"double_value\": " + random.nextDouble() + "},"
                            + "\"epochs\": {\"metadataType\": \"MetadataIntValue\", \"int_value\": \"" + random.nextInt(100) + "\"},"
                            + "\"framework\": {\"metadataType\": \"MetadataStringValue\", \"string_value\": \"" + (i % 3 == 0 ? "onnx" : "xgboost") + "\"}}}";
                    futures.add(pool.submit(() -> post(http, base + "/model_versions", body)));
                }
                for (var f : futures) f.get();
            }
            System.out.printf("%s: loaded %,d versions through the API in %.1f s%n", label, VERSIONS, (System.nanoTime() - start) / 1e9);
            // As autovacuum would soon after a bulk load: planner statistics for the new rows.
            if (db.dialect() == Database.Dialect.POSTGRESQL) db.jdbi().useHandle(h -> h.execute("ANALYZE"));
            var versions = base + "/registered_models/" + model + "/versions?pageSize=100";
            time(http, label, "page of 100, no filter", base + "/model_versions?pageSize=100");
            time(http, label, "accuracy.double_value > 0.99 (1%)", versions + "&filterQuery=" + enc("accuracy.double_value > 0.99"));
            time(http, label, "accuracy.double_value > 0.9 (10%)", versions + "&filterQuery=" + enc("accuracy.double_value > 0.9"));
            time(http, label, "accuracy > 0.5 AND framework = 'onnx', CREATE_TIME DESC", versions + "&orderBy=CREATE_TIME&sortOrder=DESC&filterQuery="
                    + enc("accuracy > 0.5 AND framework = 'onnx'"));
            time(http, label, "epochs.int_value = 7 (1%)", versions + "&filterQuery=" + enc("epochs.int_value = 7"));
            // Every page of a filtered listing: about 1,000 versions in pages of 100.
            var samples = new double[RUNS / 4];
            int pages = 0;
            for (int r = -2; r < samples.length; r++) {
                long t0 = System.nanoTime();
                String token = "";
                pages = 0;
                do {
                    var page = Json.json().readTree(get(http, versions + "&filterQuery=" + enc("accuracy.double_value > 0.9")
                            + (token.isEmpty() ? "" : "&nextPageToken=" + enc(token))));
                    token = page.path("nextPageToken").asText();
                    pages++;
                } while (!token.isEmpty());
                if (r >= 0) samples[r] = (System.nanoTime() - t0) / 1e6;
            }
            report(label, "all " + pages + " pages of accuracy.double_value > 0.9", samples);
        }
    }

    private static void time(HttpClient http, String label, String what, String url) throws Exception {
        var samples = new double[RUNS];
        int items = 0;
        for (int r = -WARMUP; r < RUNS; r++) {
            long t0 = System.nanoTime();
            var body = get(http, url);
            if (r >= 0) samples[r] = (System.nanoTime() - t0) / 1e6;
            items = Json.json().readTree(body).path("size").asInt();
        }
        report(label, what + " -> " + items + " items", samples);
    }

    private static void report(String label, String what, double[] samples) {
        Arrays.sort(samples);
        System.out.printf("%s: %-62s p50 %7.2f ms  p95 %7.2f ms%n", label, what, samples[samples.length / 2], samples[(int) (samples.length * 0.95)]);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String post(HttpClient http, String url, String body) throws Exception {
        var res = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer admin")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 201) throw new IllegalStateException("POST " + url + " answered " + res.statusCode() + ": " + res.body());
        return Json.json().readTree(res.body()).path("id").asText();
    }

    private static String get(HttpClient http, String url) throws Exception {
        var res = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer admin").build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 200) throw new IllegalStateException("GET " + url + " answered " + res.statusCode() + ": " + res.body());
        return res.body();
    }

}
