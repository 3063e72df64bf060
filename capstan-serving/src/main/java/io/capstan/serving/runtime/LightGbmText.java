package io.capstan.serving.runtime;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A parser and evaluator for LightGBM's text model format (numerical and categorical splits). */
final class LightGbmText {
    private static final double ZERO_THRESHOLD = 1e-35;

    private LightGbmText() {
    }

    record Model(int features, int classes, int treesPerIteration, String objective, double sigmoid, List<Tree> trees) {
        int outputsPerRow() {
            return classes > 1 ? classes : 1;
        }

        void predict(double[] row, double[] out, int offset) {
            int width = outputsPerRow();
            var raw = new double[treesPerIteration];
            for (int t = 0; t < trees.size(); t++) {
                raw[t % treesPerIteration] += trees.get(t).evaluate(row);
            }
            if (objective.startsWith("multiclassova")) {
                for (int c = 0; c < width; c++) out[offset + c] = sigmoid(raw[c]);
            } else if (objective.startsWith("multiclass")) {
                double max = Double.NEGATIVE_INFINITY;
                for (double v : raw) max = Math.max(max, v);
                double sum = 0;
                for (int c = 0; c < width; c++) {
                    out[offset + c] = Math.exp(raw[c] - max);
                    sum += out[offset + c];
                }
                for (int c = 0; c < width; c++) out[offset + c] /= sum;
            } else if (objective.startsWith("binary") || objective.startsWith("cross_entropy")) {
                out[offset] = sigmoid(raw[0]);
            } else if (objective.startsWith("poisson") || objective.startsWith("gamma") || objective.startsWith("tweedie")) {
                out[offset] = Math.exp(raw[0]);
            } else {
                out[offset] = raw[0];
            }
        }

        private double sigmoid(double x) {
            return 1.0 / (1.0 + Math.exp(-sigmoid * x));
        }
    }

    record Tree(int[] splitFeature, double[] threshold, int[] decisionType, int[] leftChild, int[] rightChild,
                double[] leafValue, int[] catBoundaries, int[] catThreshold) {

        double evaluate(double[] row) {
            if (splitFeature.length == 0) {
                return leafValue[0];
            }
            int node = 0;
            while (node >= 0) {
                node = goesLeft(node, row[splitFeature[node]]) ? leftChild[node] : rightChild[node];
            }
            return leafValue[~node];
        }

        private boolean goesLeft(int node, double value) {
            int type = decisionType[node];
            if ((type & 1) != 0) {
                return categoryGoesLeft(node, value);
            }
            boolean defaultLeft = (type & 2) != 0;
            int missing = (type >> 2) & 3;
            if (Double.isNaN(value) && missing != 2) {
                value = 0.0;
            }
            if ((missing == 1 && Math.abs(value) <= ZERO_THRESHOLD) || (missing == 2 && Double.isNaN(value))) {
                return defaultLeft;
            }
            return value <= threshold[node];
        }

        private boolean categoryGoesLeft(int node, double value) {
            if (Double.isNaN(value) || value < 0) {
                return false;
            }
            int category = (int) value;
            int index = (int) threshold[node];
            int start = catBoundaries[index];
            int words = catBoundaries[index + 1] - start;
            int word = category / 32;
            return word < words && ((catThreshold[start + word] >>> (category % 32)) & 1) != 0;
        }
    }

    static Model parse(String text) {
        var header = new HashMap<String, String>();
        var trees = new ArrayList<Tree>();
        Map<String, String> current = null;
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.startsWith("Tree=")) {
                if (current != null) trees.add(tree(current));
                current = new HashMap<>();
            } else if (line.equals("end of trees")) {
                break;
            } else if (line.contains("=")) {
                int eq = line.indexOf('=');
                (current == null ? header : current).put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        if (current != null) trees.add(tree(current));
        if (!header.containsKey("max_feature_idx")) {
            throw new IllegalArgumentException("no max_feature_idx header");
        }
        if (trees.isEmpty()) {
            throw new IllegalArgumentException("no trees");
        }
        int classes = integer(header, "num_class", "1");
        int perIteration = integer(header, "num_tree_per_iteration", "1");
        String objective = header.getOrDefault("objective", "regression");
        double sigmoid = 1.0;
        for (String part : objective.split(" ")) {
            if (part.startsWith("sigmoid:")) sigmoid = Double.parseDouble(part.substring("sigmoid:".length()));
        }
        return new Model(integer(header, "max_feature_idx", null) + 1, classes, perIteration, objective, sigmoid, List.copyOf(trees));
    }

    private static Tree tree(Map<String, String> fields) {
        int leaves = integer(fields, "num_leaves", null);
        int splits = leaves - 1;
        var tree = new Tree(ints(fields, "split_feature", splits), doubles(fields, "threshold", splits),
                ints(fields, "decision_type", splits), ints(fields, "left_child", splits), ints(fields, "right_child", splits),
                doubles(fields, "leaf_value", leaves), ints(fields, "cat_boundaries", -1), ints(fields, "cat_threshold", -1));
        for (int i = 0; i < splits; i++) {
            if (tree.leftChild[i] >= splits || tree.rightChild[i] >= splits || ~tree.leftChild[i] >= leaves || ~tree.rightChild[i] >= leaves
                    || tree.leftChild[i] == i || tree.rightChild[i] == i) {
                throw new IllegalArgumentException("tree has a child index out of range at node " + i);
            }
            if (tree.leftChild[i] >= 0 && tree.leftChild[i] <= i || tree.rightChild[i] >= 0 && tree.rightChild[i] <= i) {
                throw new IllegalArgumentException("tree node " + i + " points back to an earlier node");
            }
        }
        return tree;
    }

    private static int integer(Map<String, String> fields, String key, String fallback) {
        var value = fields.getOrDefault(key, fallback);
        if (value == null) throw new IllegalArgumentException("missing " + key);
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " is not an integer: " + value);
        }
    }

    private static int[] ints(Map<String, String> fields, String key, int expected) {
        var value = fields.get(key);
        if (value == null || value.isBlank()) {
            if (expected > 0) throw new IllegalArgumentException("tree is missing " + key);
            return new int[0];
        }
        String[] parts = value.strip().split(" ");
        if (expected >= 0 && parts.length != expected) {
            throw new IllegalArgumentException(key + " has " + parts.length + " values, expected " + expected);
        }
        var out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = (int) Long.parseLong(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " has a value that is not an integer: " + parts[i]);
            }
        }
        return out;
    }

    private static double[] doubles(Map<String, String> fields, String key, int expected) {
        var value = fields.get(key);
        if (value == null || value.isBlank()) {
            if (expected > 0) throw new IllegalArgumentException("tree is missing " + key);
            return new double[0];
        }
        String[] parts = value.strip().split(" ");
        if (parts.length != expected) {
            throw new IllegalArgumentException(key + " has " + parts.length + " values, expected " + expected);
        }
        var out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Double.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " has a value that is not a number: " + parts[i]);
            }
        }
        return out;
    }
}
