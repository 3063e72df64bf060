package io.capstan.server.kfp;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A recurring run keeps its schedule across a server restart: it goes on from the last tick, and no tick runs twice. */
class RecurringRunRestartTest {
    @TempDir
    Path home;

    @Test
    void aRecurringRunGoesOnAfterARestartWithoutRepeatingATick() throws Exception {
        String id;
        String byRecurring;
        int before;
        try (var server = new KfpTestServer(home)) {
            var body = Json.json().createObjectNode();
            body.put("display_name", "survivor");
            body.set("pipeline_spec", KfpApiTest.inline(KfpApiTest.shellPipeline("tick", "true")));
            body.putObject("trigger").putObject("periodic_schedule").put("interval_second", "1");
            body.put("max_concurrency", "2");
            var created = server.post("/recurringruns", body.toString());
            assertThat(created.status()).as(created.body()).isEqualTo(200);
            id = created.json().path("recurring_run_id").asText();
            byRecurring = "/runs?page_size=1000&filter=" + URLEncoder.encode("{\"predicates\":[{\"key\":\"recurring_run_id\",\"operation\":\"EQUALS\",\"string_value\":\""
                    + id + "\"}]}", StandardCharsets.UTF_8);
            before = server.await(byRecurring, r -> r.path("total_size").asInt() >= 2, Duration.ofSeconds(60)).path("total_size").asInt();
        }
        try (var server = new KfpTestServer(home)) {
            assertThat(server.get("/recurringruns/" + id).json().path("status").asText()).isEqualTo("ENABLED");
            var after = server.await(byRecurring, r -> r.path("total_size").asInt() >= before + 2, Duration.ofSeconds(60));
            var names = new HashSet<String>();
            after.path("runs").forEach(r -> names.add(r.path("display_name").asText()));
            assertThat(names).as("one run per tick").hasSize(after.path("runs").size());
            assertThat(server.post("/recurringruns/" + id + ":disable", null).status()).isEqualTo(200);
        }
    }
}
