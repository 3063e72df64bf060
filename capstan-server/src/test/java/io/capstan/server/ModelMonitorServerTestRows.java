package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/** Iris rows for monitor tests: read from the example CSV, sent to InferenceService iris 10 per request. */
final class ModelMonitorServerTestRows {
    private ModelMonitorServerTestRows() {
    }

    static List<float[]> read(Path csv) throws IOException {
        var rows = new ArrayList<float[]>();
        for (var line : Files.readAllLines(csv).subList(1, 151)) {
            var cells = line.split(",");
            rows.add(new float[] {Float.parseFloat(cells[0]), Float.parseFloat(cells[1]), Float.parseFloat(cells[2]), Float.parseFloat(cells[3])});
        }
        return rows;
    }

    /** Sends {@code count} rows drawn with a seeded generator and changed by {@code change}, 10 per request. */
    static void send(TestServer server, List<float[]> iris, int count, long seed, UnaryOperator<float[]> change) {
        var random = new SplittableRandom(seed);
        for (int sent = 0; sent < count; sent += 10) {
            var data = new StringBuilder();
            for (int r = 0; r < 10; r++) {
                var row = change.apply(iris.get(random.nextInt(iris.size())).clone());
                for (float v : row) data.append(data.isEmpty() ? "" : ",").append(v);
            }
            var reply = server.send("POST", "/v2/models/iris/infer",
                    "{\"inputs\":[{\"name\":\"input\",\"shape\":[10,4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}", "application/json");
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        }
    }
}
