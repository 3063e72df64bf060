package io.capstan.components;

import io.capstan.core.InvalidSpecException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * {@code train-test-split}: splits input {@code dataset} into outputs {@code train} and {@code test}. Rows are drawn
 * with a seeded generator, so the same seed gives the same split; with {@code stratify_column}, each class contributes
 * the same fraction of its rows to the test set. Rows keep their original order within each split.
 */
final class TrainTestSplit implements Component {
    static final String NAME = "train-test-split";
    /** A generator whose algorithm the JDK specifies, so a seed means the same split on every JVM. */
    static final String ALGORITHM = "L64X128MixRandom";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ExecutorOutput run(ExecutorInput input, Environment environment) {
        var dataset = input.inputArtifact("dataset");
        var table = Table.read(dataset.existingFile(), "input artifact 'dataset'");
        double fraction = input.number("test_fraction", 0.2);
        if (!(fraction > 0 && fraction < 1)) {
            throw new InvalidSpecException("input parameter 'test_fraction' is %s; give a fraction strictly between 0 and 1, such as 0.2"
                    .formatted(fraction));
        }
        long seed = input.integer("seed", 42);
        var stratify = input.string("stratify_column", "");
        if (table.rows().size() < 2) {
            throw new InvalidSpecException("input artifact 'dataset' has %d row; a split needs at least 2 rows".formatted(table.rows().size()));
        }

        var groups = new TreeMap<String, List<Integer>>();
        if (stratify.isEmpty()) {
            groups.put("", range(table.rows().size()));
        } else {
            int column = table.column(stratify, "stratify_column");
            for (int i = 0; i < table.rows().size(); i++) {
                groups.computeIfAbsent(table.rows().get(i).get(column), k -> new ArrayList<>()).add(i);
            }
        }
        var isTest = split(groups, fraction, RandomGeneratorFactory.of(ALGORITHM).create(seed));
        var train = new ArrayList<List<String>>();
        var test = new ArrayList<List<String>>();
        for (int i = 0; i < table.rows().size(); i++) (isTest[i] ? test : train).add(table.rows().get(i));
        if (train.isEmpty() || test.isEmpty()) {
            throw new InvalidSpecException("input parameter 'test_fraction' %s leaves the %s set empty for %d rows; choose a fraction that keeps rows on both sides"
                    .formatted(fraction, train.isEmpty() ? "train" : "test", table.rows().size()));
        }

        var trainOut = input.outputArtifact("train");
        var testOut = input.outputArtifact("test");
        table.withRows(train).write(trainOut.path(), "output artifact 'train'");
        table.withRows(test).write(testOut.path(), "output artifact 'test'");
        var sha = dataset.metadata().containsKey("sha256") ? dataset.metadata().get("sha256").asText()
                : LocalFiles.sha256(dataset.existingFile());
        return ExecutorOutput.builder()
                .artifact(trainOut, metadata(train.size(), seed, fraction, stratify, sha, trainOut))
                .artifact(testOut, metadata(test.size(), seed, fraction, stratify, sha, testOut))
                .build();
    }

    /** Marks round(fraction × size) rows of each group as test rows, chosen by a partial Fisher–Yates shuffle. */
    static boolean[] split(Map<String, List<Integer>> groups, double fraction, RandomGenerator random) {
        int total = groups.values().stream().mapToInt(List::size).sum();
        var isTest = new boolean[total];
        for (var rows : groups.values()) {
            var order = new ArrayList<>(rows);
            int take = (int) Math.round(order.size() * fraction);
            for (int i = 0; i < take; i++) {
                int j = i + random.nextInt(order.size() - i);
                var swap = order.get(i);
                order.set(i, order.get(j));
                order.set(j, swap);
                isTest[order.get(i)] = true;
            }
        }
        return isTest;
    }

    private static Map<String, Object> metadata(int rows, long seed, double fraction, String stratify, String sourceSha,
                                                RuntimeArtifact out) {
        var m = new LinkedHashMap<String, Object>();
        m.put("rows", rows);
        m.put("seed", seed);
        m.put("test_fraction", fraction);
        if (!stratify.isEmpty()) m.put("stratify_column", stratify);
        m.put("source_sha256", sourceSha);
        m.put("sha256", LocalFiles.sha256(out.path()));
        return m;
    }

    private static List<Integer> range(int n) {
        var list = new ArrayList<Integer>(n);
        for (int i = 0; i < n; i++) list.add(i);
        return list;
    }
}
