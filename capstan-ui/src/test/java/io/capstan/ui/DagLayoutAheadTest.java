package io.capstan.ui;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.jsoup.Jsoup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large pipeline is laid out in the background as soon as its run is created, so that its run page, opened later,
 * draws the graph at once instead of waiting for ELK; small pipelines are left to their first view.
 */
class DagLayoutAheadTest {
    @TempDir
    static Path dir;
    static UiHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new UiHarness(dir);
        // The index's first load is done before the runs below are created, so that they arrive as creations.
        while (h.get("/runs").status() == 503) Thread.sleep(50);
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void aLargePipelineIsLaidOutWhenItsRunIsCreatedNotWhenFirstViewed() throws Exception {
        var big = UiBench.bigPipeline(400);
        var dag = Dag.of(big);
        var layouts = h.ui.context().layouts();
        assertThat(layouts.isCached(dag)).isFalse();
        h.run("big-ahead", big, Json.json().createObjectNode(), "Succeeded", Json.json().createObjectNode());
        var deadline = Instant.now().plus(Duration.ofSeconds(120));
        while (!layouts.isCached(dag) && Instant.now().isBefore(deadline)) Thread.sleep(20);
        assertThat(layouts.isCached(dag)).as("laid out without a page view").isTrue();
        // The run page then draws the 400 nodes inline, with no placeholder to load.
        var doc = Jsoup.parse(h.get("/runs/big-ahead").body());
        assertThat(doc.select("#dag[hx-trigger=load]")).isEmpty();
        assertThat(doc.select("svg.dag g.node")).hasSize(400);

        var small = RunPagesTest.tinyPipeline();
        ((com.fasterxml.jackson.databind.node.ObjectNode) small.get("pipelineInfo")).put("name", "small-ahead");
        h.run("small-ahead", small, Json.json().createObjectNode(), "Succeeded", Json.json().createObjectNode());
        Thread.sleep(1500);
        assertThat(layouts.isCached(Dag.of(small))).isFalse();
    }
}
