package io.capstan.training.xgboost;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.Communicator;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * One worker of Capstan's built-in distributed XGBoost runtime. It joins the tracker named by the XGBoostJob
 * environment ({@code DMLC_TRACKER_URI}, {@code DMLC_TRACKER_PORT}, {@code DMLC_NUM_WORKER}, {@code DMLC_TASK_ID}),
 * trains on its shard of a CSV (rows whose index modulo the worker count is its task id) with histograms
 * all-reduced across workers, and worker 0 writes {@code model.json} and {@code metrics.json} to the model folder.
 *
 * <p>Arguments: {@code --data FILE.csv} (header row, numeric features, label in the last column), {@code --rounds N},
 * {@code --model-dir DIR} (default {@code $CAPSTAN_MODEL_DIR}), and any number of {@code --param key=value}.
 */
public final class XGBoostWorker {
    private XGBoostWorker() {
    }

    public static void main(String[] args) throws IOException, XGBoostError {
        var options = Options.parse(args, System.getenv());
        var env = System.getenv();
        int workers = Integer.parseInt(env.getOrDefault("DMLC_NUM_WORKER", "1"));
        int task = Integer.parseInt(env.getOrDefault("DMLC_TASK_ID", "0"));
        var table = Table.read(options.data());
        var shard = table.shard(task, workers);

        var collective = new HashMap<String, Object>();
        collective.put("dmlc_tracker_uri", env.getOrDefault("DMLC_TRACKER_URI", "127.0.0.1"));
        collective.put("dmlc_tracker_port", Integer.parseInt(env.getOrDefault("DMLC_TRACKER_PORT", "9091")));
        collective.put("dmlc_task_id", String.valueOf(task));
        collective.put("dmlc_communicator", "rabit");
        boolean distributed = env.containsKey("DMLC_TRACKER_PORT");
        if (distributed) Communicator.init(collective);
        try {
            var params = new HashMap<String, Object>();
            params.put("objective", "multi:softprob");
            params.put("num_class", table.classes().size());
            params.put("tree_method", "hist");
            params.put("max_depth", 3);
            params.put("eta", 0.3);
            params.put("nthread", 1);
            params.put("seed", 7);
            params.putAll(options.params());
            var train = shard.matrix();
            Booster booster = XGBoost.train(train, params, options.rounds(), Map.of(), null, null);
            train.dispose();
            var full = table.matrix();
            double accuracy = accuracy(booster.predict(full), table.labels());
            full.dispose();
            System.out.printf(Locale.ROOT, "worker %d of %d trained on %d rows; accuracy on all %d rows: %.4f%n",
                    task, workers, shard.labels().length, table.labels().length, accuracy);
            if (task == 0) {
                Files.createDirectories(options.modelDir());
                booster.saveModel(options.modelDir().resolve("model.json").toString());
                Files.writeString(options.modelDir().resolve("metrics.json"), String.format(Locale.ROOT,
                        "{\"accuracy\": %.6f, \"workers\": %d, \"rounds\": %d, \"classes\": %s}%n", accuracy, workers,
                        options.rounds(), quoted(table.classes())));
            }
            booster.dispose();
        } finally {
            if (distributed) Communicator.shutdown();
        }
    }

    private static double accuracy(float[][] probabilities, float[] labels) {
        int right = 0;
        for (int r = 0; r < labels.length; r++) {
            int best = 0;
            for (int c = 1; c < probabilities[r].length; c++) if (probabilities[r][c] > probabilities[r][best]) best = c;
            if (best == (int) labels[r]) right++;
        }
        return labels.length == 0 ? 0 : (double) right / labels.length;
    }

    private static String quoted(List<String> values) {
        return values.stream().map(v -> "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"").toList().toString();
    }

    record Options(Path data, int rounds, Path modelDir, Map<String, Object> params) {
        static Options parse(String[] args, Map<String, String> env) {
            Path data = null;
            int rounds = 20;
            Path modelDir = Path.of(env.getOrDefault("CAPSTAN_MODEL_DIR", "model"));
            var params = new LinkedHashMap<String, Object>();
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--data" -> data = Path.of(require(args[i], value));
                    case "--rounds" -> rounds = Integer.parseInt(require(args[i], value));
                    case "--model-dir" -> modelDir = Path.of(require(args[i], value));
                    case "--param" -> {
                        var kv = require(args[i], value);
                        int eq = kv.indexOf('=');
                        if (eq <= 0) throw new IllegalArgumentException("--param expects key=value, got " + kv);
                        params.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]
                            + "; expected --data, --rounds, --model-dir or --param");
                }
                i++;
            }
            if (data == null) {
                var fromInitializer = env.get("CAPSTAN_DATASET_PATH");
                if (fromInitializer == null) throw new IllegalArgumentException("--data FILE.csv is required (or a dataset initializer)");
                data = Path.of(fromInitializer);
            }
            if (rounds < 1 || rounds > 10_000) throw new IllegalArgumentException("--rounds must be from 1 to 10000, got " + rounds);
            return new Options(data, rounds, modelDir, params);
        }

        private static String require(String flag, String value) {
            if (value == null) throw new IllegalArgumentException(flag + " needs a value");
            return value;
        }
    }

    /** A CSV with a header, numeric features and a class label in the last column. */
    record Table(float[][] features, float[] labels, List<String> classes) {
        static Table read(Path source) throws IOException {
            Path csv = source;
            if (Files.isDirectory(source)) {
                try (var files = Files.list(source)) {
                    csv = files.filter(p -> p.toString().endsWith(".csv")).sorted().findFirst()
                            .orElseThrow(() -> new IOException("no .csv file in dataset folder " + source));
                }
            }
            var lines = Files.readAllLines(csv).stream().filter(l -> !l.isBlank()).toList();
            if (lines.size() < 2) throw new IOException(csv + " needs a header row and at least one data row");
            var classes = new ArrayList<String>();
            var rows = new ArrayList<float[]>();
            var labels = new ArrayList<Float>();
            for (var line : lines.subList(1, lines.size())) {
                var cells = line.split(",", -1);
                var row = new float[cells.length - 1];
                for (int c = 0; c < row.length; c++) row[c] = Float.parseFloat(cells[c].trim());
                var label = cells[cells.length - 1].trim();
                if (!classes.contains(label)) classes.add(label);
                rows.add(row);
                labels.add((float) classes.indexOf(label));
            }
            var y = new float[labels.size()];
            for (int i = 0; i < y.length; i++) y[i] = labels.get(i);
            return new Table(rows.toArray(float[][]::new), y, List.copyOf(classes));
        }

        Table shard(int task, int workers) {
            var rows = new ArrayList<float[]>();
            var y = new ArrayList<Float>();
            for (int i = task; i < labels.length; i += workers) {
                rows.add(features[i]);
                y.add(labels[i]);
            }
            var ys = new float[y.size()];
            for (int i = 0; i < ys.length; i++) ys[i] = y.get(i);
            return new Table(rows.toArray(float[][]::new), ys, classes);
        }

        DMatrix matrix() throws XGBoostError {
            int cols = features.length == 0 ? 0 : features[0].length;
            var flat = new float[features.length * cols];
            for (int r = 0; r < features.length; r++) System.arraycopy(features[r], 0, flat, r * cols, cols);
            var m = new DMatrix(flat, features.length, cols, Float.NaN);
            m.setLabel(labels);
            return m;
        }
    }
}
