package io.capstan.ui;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.WorkloadSpec;
import io.capstan.core.Json;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jsoup.Jsoup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running trial's page follows it over SSE: its log streams from a real process while it runs, its metric history
 * is drawn again as observations arrive, and the stream ends when the trial finishes.
 */
class TrialLivePageTest {
    @TempDir
    static Path dir;
    static UiHarness h;

    @BeforeAll
    static void start() {
        h = new UiHarness(dir);
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static com.fasterxml.jackson.databind.node.ArrayNode observations(double... values) {
        var a = Json.json().createArrayNode();
        for (var v : values) a.addObject().put("name", "accuracy").put("value", Double.toString(v));
        return a;
    }

    @Test
    void aRunningTrialsLogAndMetricHistoryArriveLive() throws Exception {
        var spec = Json.json().createObjectNode();
        spec.putObject("objective").put("type", "maximize").put("objectiveMetricName", "accuracy");
        h.store.create(Resource.of("kubeflow.org/v1beta1", "Experiment", ObjectMeta.named("default", "exp"), spec));
        var trialSpec = Json.json().createObjectNode();
        trialSpec.putArray("parameterAssignments").addObject().put("name", "lr").put("value", "0.1");
        var trial = h.store.create(Resource.of("kubeflow.org/v1beta1", "Trial", ObjectMeta.named("default", "exp-t1")
                .withLabels(Map.of(ExperimentPages.EXPERIMENT_LABEL, "exp")), trialSpec));
        // A real process that prints an epoch a line, slowly, and a line with markup in it.
        h.backend.launch(WorkloadSpec.of("trial-exp-t1", List.of("sh", "-c",
                "echo 'epoch 1 <b>start</b>'; sleep 1; echo 'epoch 2'; sleep 1; echo 'epoch 3'; sleep 30")));
        trial = h.store.updateStatus(trial, ResourceStatus.EMPTY.withPhase("Running")
                .withField("workloadId", Json.json().getNodeFactory().textNode("trial-exp-t1"))
                .withField("observations", observations(0.5)));

        var page = Jsoup.parse(h.get("/experiments/default/exp/trials/exp-t1").body());
        A11y.check(page, "running trial");
        var live = page.select("section#trial-live");
        assertThat(live.attr("sse-connect")).isEqualTo("/experiments/default/exp/trials/exp-t1/events");
        assertThat(live.attr("sse-close")).isEqualTo("end");
        assertThat(page.select("#trial-metrics[sse-swap=metrics] figure[data-metric=accuracy] figcaption").text()).isEqualTo("accuracy (1 observation)");
        assertThat(page.select("pre#log[sse-swap=line]").attr("hx-swap")).isEqualTo("beforeend");

        var events = new LinkedBlockingQueue<String>();
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.web.port() + "/experiments/default/exp/trials/exp-t1/events")).build();
        var stream = h.http.sendAsync(request, HttpResponse.BodyHandlers.ofLines());
        stream.thenAccept(r -> r.body().forEach(events::add));
        var log = new StringBuilder();
        // The log arrives line by line while the process runs.
        while (!log.toString().contains("epoch 3")) {
            var line = events.poll(20, TimeUnit.SECONDS);
            assertThat(line).as("log so far: " + log).isNotNull();
            if (line.startsWith("event:line")) log.append(events.poll(5, TimeUnit.SECONDS));
        }
        assertThat(log.toString()).contains("epoch 1 &lt;b&gt;start&lt;/b&gt;&#10;").contains("epoch 2");

        // New observations redraw the metric history.
        trial = h.store.updateStatus(h.store.get(trial.key()), h.store.get(trial.key()).status().withField("observations", observations(0.5, 0.7, 0.8)));
        String metrics = null;
        for (String line; (line = events.poll(20, TimeUnit.SECONDS)) != null; ) {
            if (line.startsWith("event:metrics")) {
                metrics = events.poll(5, TimeUnit.SECONDS);
                break;
            }
        }
        assertThat(metrics).isNotNull().startsWith("data:").contains("accuracy (3 observations)");
        var figure = Jsoup.parseBodyFragment(metrics.substring(5));
        assertThat(figure.select("svg circle.obs")).hasSize(3);

        // The trial ends: the stream sends its phase and closes.
        h.backend.cancel("trial-exp-t1");
        h.store.updateStatus(h.store.get(trial.key()), h.store.get(trial.key()).status().withPhase("Succeeded"));
        boolean ended = false;
        String phase = null;
        for (String line; (line = events.poll(20, TimeUnit.SECONDS)) != null; ) {
            if (line.startsWith("event:phase")) phase = events.poll(5, TimeUnit.SECONDS);
            if (line.startsWith("event:end")) {
                ended = true;
                break;
            }
        }
        assertThat(phase).contains("Succeeded");
        assertThat(ended).isTrue();
        stream.cancel(true);

        // A finished trial's page is static: no stream, the log as it was.
        var done = Jsoup.parse(h.get("/experiments/default/exp/trials/exp-t1").body());
        assertThat(done.select("[sse-connect]")).isEmpty();
        A11y.check(done, "finished trial");
        assertThat(done.select("pre#log").text()).contains("epoch 1 <b>start</b>");
    }
}
