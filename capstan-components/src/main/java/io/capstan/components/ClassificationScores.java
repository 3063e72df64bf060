package io.capstan.components;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * How well predicted class probabilities match the true classes.
 *
 * @param classes   the class names, in matrix order
 * @param confusion counts by actual class (row) and predicted class (column)
 * @param accuracy  the fraction of examples whose most probable class is the true one
 * @param auc       the mean one-vs-rest ROC AUC over classes that have both positives and negatives; NaN if none does
 * @param logLoss   the mean negative log probability of the true class, probabilities clipped at 1e-15
 */
record ClassificationScores(List<String> classes, int[][] confusion, double accuracy, double auc, double logLoss) {
    ClassificationScores {
        classes = List.copyOf(classes);
        confusion = Arrays.stream(confusion).map(int[]::clone).toArray(int[][]::new);
    }

    private static final double EPSILON = 1e-15;

    /**
     * @param probabilities one row per example, one column per class of {@code classes}
     * @param actual        each example's true class index in {@code classes}
     */
    static ClassificationScores of(List<String> classes, double[][] probabilities, int[] actual) {
        int k = classes.size();
        int n = actual.length;
        var confusion = new int[k][k];
        int correct = 0;
        double loss = 0;
        for (int r = 0; r < n; r++) {
            var p = probabilities[r];
            int predicted = 0;
            for (int c = 1; c < k; c++) if (p[c] > p[predicted]) predicted = c;
            confusion[actual[r]][predicted]++;
            if (predicted == actual[r]) correct++;
            double sum = Arrays.stream(p).sum();
            double pTrue = sum > 0 ? p[actual[r]] / sum : 0;
            loss -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, pTrue)));
        }
        var aucs = new ArrayList<Double>();
        for (int c = 0; c < k; c++) {
            int positives = 0;
            for (int a : actual) if (a == c) positives++;
            if (positives == 0 || positives == n) continue;
            final int cls = c;
            aucs.add(auc(IntStream.range(0, n).mapToDouble(r -> probabilities[r][cls]).toArray(),
                    IntStream.range(0, n).mapToObj(r -> actual[r] == cls).toArray(Boolean[]::new)));
        }
        double auc = aucs.isEmpty() ? Double.NaN : aucs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        return new ClassificationScores(classes, confusion, (double) correct / n, auc, loss / n);
    }

    /** ROC AUC by the Mann–Whitney rank sum, ties sharing their mean rank. */
    static double auc(double[] scores, Boolean[] positive) {
        int n = scores.length;
        var order = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble(i -> scores[i])).toList();
        var rank = new double[n];
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && scores[order.get(j + 1)] == scores[order.get(i)]) j++;
            double mean = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) rank[order.get(t)] = mean;
            i = j + 1;
        }
        long pos = Arrays.stream(positive).filter(b -> b).count();
        long neg = n - pos;
        double sum = 0;
        for (int i = 0; i < n; i++) if (positive[i]) sum += rank[i];
        return (sum - pos * (pos + 1) / 2.0) / (pos * (double) neg);
    }

    /** KFP's system.Metrics metadata: scalar metrics by name. */
    Map<String, Object> metricsMetadata() {
        var m = new LinkedHashMap<String, Object>();
        m.put("accuracy", accuracy);
        if (!Double.isNaN(auc)) m.put("auc", auc);
        m.put("log_loss", logLoss);
        return m;
    }

    /** KFP's system.ClassificationMetrics metadata, as {@code Output[ClassificationMetrics].log_confusion_matrix} writes it. */
    Map<String, Object> confusionMatrixMetadata() {
        var specs = classes.stream().map(c -> Map.of("displayName", c)).toList();
        var rows = Arrays.stream(confusion).map(r -> Map.of("row", Arrays.stream(r).boxed().toList())).toList();
        var matrix = new LinkedHashMap<String, Object>();
        matrix.put("annotationSpecs", specs);
        matrix.put("rows", rows);
        return Map.of("confusionMatrix", matrix);
    }
}
