package io.capstan.serving.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A parser and evaluator for LightGBM's text model format, read as LightGBM's own loader reads it: every objective
 * its loader knows, with its output transform, random-forest averaging ({@code average_output}), linear trees,
 * numerical and categorical splits and the three missing-value modes. The format holds no best iteration:
 * {@code save_model} writes only the iterations to use, so every tree in the file is evaluated.
 */
final class LightGbmText {
    private static final double ZERO_THRESHOLD = 1e-35;
    private static final int MISSING_NONE = 0;
    private static final int MISSING_ZERO = 1;
    private static final int MISSING_NAN = 2;

    private LightGbmText() {
    }

    /** A well-formed model that uses something Capstan does not evaluate. */
    static final class UnsupportedModelException extends IllegalArgumentException {
        UnsupportedModelException(String message) {
            super(message);
        }
    }

    /** How raw scores become predictions ({@code ObjectiveFunction::ConvertOutput}). */
    enum Transform { RAW, SIGNED_SQUARE, EXP, SIGMOID, SOFTMAX, SIGMOID_EACH, LOG1P_EXP }

    record Output(Transform transform, double sigmoid) {
        private static final Set<String> REGRESSION = Set.of("regression", "regression_l1", "huber", "fair", "quantile", "mape");
        private static final String KNOWN = "regression, regression_l1, huber, fair, quantile, mape, poisson, gamma, tweedie, binary,"
                + " multiclass, multiclassova, cross_entropy, cross_entropy_lambda, lambdarank, rank_xendcg, custom";

        /** {@code objective}: the header's value, such as "binary sigmoid:1" or "multiclass num_class:3"; null when absent. */
        static Output parse(String objective, int treesPerIteration) {
            if (objective == null || objective.isBlank()) return new Output(Transform.RAW, 1);
            var tokens = objective.strip().split("\\s+");
            var name = tokens[0];
            var options = new HashMap<String, String>();
            var flags = new HashSet<String>();
            for (int i = 1; i < tokens.length; i++) {
                int colon = tokens[i].indexOf(':');
                if (colon < 0) flags.add(tokens[i]);
                else options.put(tokens[i].substring(0, colon), tokens[i].substring(colon + 1));
            }
            if (name.equals("custom")) return new Output(Transform.RAW, 1);
            if (name.equals("multiclass") || name.equals("multiclassova")) {
                var classes = options.get("num_class");
                if (classes == null || !classes.equals(Integer.toString(treesPerIteration)) || treesPerIteration < 2) {
                    throw new UnsupportedModelException("objective '" + objective + "' does not match the model's num_tree_per_iteration="
                            + treesPerIteration + " (a " + name + " model has one tree per class and iteration)");
                }
                return name.equals("multiclass") ? new Output(Transform.SOFTMAX, 1) : new Output(Transform.SIGMOID_EACH, sigmoid(objective, options));
            }
            if (treesPerIteration != 1) {
                throw new UnsupportedModelException("objective '" + name + "' gives one score per row, but the model has num_tree_per_iteration="
                        + treesPerIteration);
            }
            if (REGRESSION.contains(name)) return new Output(flags.contains("sqrt") ? Transform.SIGNED_SQUARE : Transform.RAW, 1);
            return switch (name) {
                case "poisson", "gamma", "tweedie" -> new Output(Transform.EXP, 1);
                case "binary" -> new Output(Transform.SIGMOID, sigmoid(objective, options));
                case "cross_entropy" -> new Output(Transform.SIGMOID, 1);
                case "cross_entropy_lambda" -> new Output(Transform.LOG1P_EXP, 1);
                case "lambdarank", "rank_xendcg" -> new Output(Transform.RAW, 1);
                default -> throw new UnsupportedModelException("objective '" + name + "' is not one LightGBM's model loader knows (" + KNOWN + ")");
            };
        }

        private static double sigmoid(String objective, Map<String, String> options) {
            var value = options.get("sigmoid");
            double sigmoid = value == null ? Double.NaN : number(value);
            if (!(sigmoid > 0) || Double.isInfinite(sigmoid)) {
                throw new IllegalArgumentException("objective '" + objective + "' needs a positive sigmoid:<value>");
            }
            return sigmoid;
        }

        void apply(double[] out, int offset, int width) {
            switch (transform) {
                case RAW -> { }
                case SIGNED_SQUARE -> out[offset] = Math.signum(out[offset]) * out[offset] * out[offset];
                case EXP -> out[offset] = Math.exp(out[offset]);
                case LOG1P_EXP -> out[offset] = Math.log1p(Math.exp(out[offset]));
                case SIGMOID -> out[offset] = 1.0 / (1.0 + Math.exp(-sigmoid * out[offset]));
                case SIGMOID_EACH -> {
                    for (int c = 0; c < width; c++) out[offset + c] = 1.0 / (1.0 + Math.exp(-sigmoid * out[offset + c]));
                }
                case SOFTMAX -> {
                    double max = out[offset];
                    for (int c = 1; c < width; c++) max = Math.max(max, out[offset + c]);
                    double sum = 0;
                    for (int c = 0; c < width; c++) {
                        out[offset + c] = Math.exp(out[offset + c] - max);
                        sum += out[offset + c];
                    }
                    for (int c = 0; c < width; c++) out[offset + c] /= sum;
                }
            }
        }
    }

    record Model(int features, int treesPerIteration, Output output, boolean averageOutput, List<Tree> trees) {
        int outputsPerRow() {
            return treesPerIteration;
        }

        /** Writes the row's {@link #outputsPerRow()} predictions to {@code out} from {@code offset}. */
        void predict(double[] row, double[] out, int offset) {
            int width = treesPerIteration;
            for (int c = 0; c < width; c++) out[offset + c] = 0;
            for (int t = 0; t < trees.size(); t++) {
                out[offset + t % width] += trees.get(t).evaluate(row);
            }
            if (averageOutput) {
                int iterations = trees.size() / width;
                for (int c = 0; c < width; c++) out[offset + c] /= iterations;
            }
            output.apply(out, offset, width);
        }
    }

    /** A linear tree's leaves: {@code constant[leaf] + sum(coefficients[leaf][i] * row[features[leaf][i]])}. */
    record Linear(double[] constant, int[][] features, double[][] coefficients) {
    }

    record Tree(int[] splitFeature, double[] threshold, int[] decisionType, int[] leftChild, int[] rightChild,
                double[] leafValue, int[] catBoundaries, int[] catThreshold, Linear linear) {

        double evaluate(double[] row) {
            int leaf = splitFeature.length == 0 ? 0 : leaf(row);
            if (linear == null) return leafValue[leaf];
            double out = linear.constant[leaf];
            int[] features = linear.features[leaf];
            double[] coefficients = linear.coefficients[leaf];
            for (int i = 0; i < features.length; i++) {
                double value = row[features[i]];
                // LightGBM falls back to the plain leaf value when a feature of the leaf's model is missing.
                if (Double.isNaN(value)) return leafValue[leaf];
                out += coefficients[i] * value;
            }
            return out;
        }

        private int leaf(double[] row) {
            int node = 0;
            while (node >= 0) {
                node = goesLeft(node, row[splitFeature[node]]) ? leftChild[node] : rightChild[node];
            }
            return ~node;
        }

        private boolean goesLeft(int node, double value) {
            int type = decisionType[node];
            if ((type & 1) != 0) {
                return categoryGoesLeft(node, value);
            }
            boolean defaultLeft = (type & 2) != 0;
            int missing = (type >> 2) & 3;
            if (Double.isNaN(value) && missing != MISSING_NAN) {
                value = 0.0;
            }
            if ((missing == MISSING_ZERO && Math.abs(value) <= ZERO_THRESHOLD) || (missing == MISSING_NAN && Double.isNaN(value))) {
                return defaultLeft;
            }
            return value <= threshold[node];
        }

        private boolean categoryGoesLeft(int node, double value) {
            if (Double.isNaN(value)) {
                return false;
            }
            // C++'s static_cast<int>: truncation toward zero, so -0.5 is category 0; Java saturates where C++ is
            // undefined (x86 gives INT_MIN), and both send such values right.
            int category = (int) value;
            if (category < 0) {
                return false;
            }
            int index = (int) threshold[node];
            int start = catBoundaries[index];
            int words = catBoundaries[index + 1] - start;
            int word = category / 32;
            return word < words && ((catThreshold[start + word] >>> (category % 32)) & 1) != 0;
        }
    }

    static Model parse(String text) {
        var header = new HashMap<String, String>();
        boolean averageOutput = false;
        var treeFields = new ArrayList<Map<String, String>>();
        Map<String, String> current = null;
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.startsWith("Tree=")) {
                current = new HashMap<>();
                treeFields.add(current);
            } else if (line.equals("end of trees")) {
                break;
            } else if (line.contains("=")) {
                int eq = line.indexOf('=');
                (current == null ? header : current).put(line.substring(0, eq), line.substring(eq + 1));
            } else if (current == null && line.equals("average_output")) {
                averageOutput = true;
            }
        }
        if (!header.containsKey("max_feature_idx")) {
            throw new IllegalArgumentException("no max_feature_idx header");
        }
        if (treeFields.isEmpty()) {
            throw new IllegalArgumentException("no trees");
        }
        int features = integer(header, "max_feature_idx", null) + 1;
        if (features < 1) throw new IllegalArgumentException("max_feature_idx is negative");
        int perIteration = integer(header, "num_tree_per_iteration", "1");
        if (perIteration < 1) throw new IllegalArgumentException("num_tree_per_iteration must be at least 1");
        if (treeFields.size() % perIteration != 0) {
            throw new IllegalArgumentException("the model has " + treeFields.size() + " trees, not a multiple of num_tree_per_iteration=" + perIteration);
        }
        var output = Output.parse(header.get("objective"), perIteration);
        var trees = new ArrayList<Tree>(treeFields.size());
        for (int i = 0; i < treeFields.size(); i++) {
            try {
                trees.add(tree(treeFields.get(i), features));
            } catch (UnsupportedModelException e) {
                throw new UnsupportedModelException("tree " + i + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tree " + i + ": " + e.getMessage(), e);
            }
        }
        return new Model(features, perIteration, output, averageOutput, List.copyOf(trees));
    }

    private static Tree tree(Map<String, String> fields, int features) {
        int leaves = integer(fields, "num_leaves", null);
        if (leaves < 1) throw new IllegalArgumentException("num_leaves must be at least 1, got " + leaves);
        int splits = leaves - 1;
        var splitFeature = ints(fields, "split_feature", splits);
        var threshold = doubles(fields, "threshold", splits);
        var decisionType = ints(fields, "decision_type", splits);
        var leftChild = ints(fields, "left_child", splits);
        var rightChild = ints(fields, "right_child", splits);
        var catBoundaries = ints(fields, "cat_boundaries", -1);
        var catThreshold = ints(fields, "cat_threshold", -1);
        for (int i = 1; i < catBoundaries.length; i++) {
            if (catBoundaries[0] != 0 || catBoundaries[i] < catBoundaries[i - 1] || catBoundaries[i] > catThreshold.length) {
                throw new IllegalArgumentException("cat_boundaries are not increasing offsets into cat_threshold");
            }
        }
        for (int i = 0; i < splits; i++) {
            if (leftChild[i] >= splits || rightChild[i] >= splits || ~leftChild[i] >= leaves || ~rightChild[i] >= leaves
                    || leftChild[i] == i || rightChild[i] == i) {
                throw new IllegalArgumentException("tree has a child index out of range at node " + i);
            }
            if (leftChild[i] >= 0 && leftChild[i] <= i || rightChild[i] >= 0 && rightChild[i] <= i) {
                throw new IllegalArgumentException("tree node " + i + " points back to an earlier node");
            }
            if (splitFeature[i] < 0 || splitFeature[i] >= features) {
                throw new IllegalArgumentException("split_feature " + splitFeature[i] + " at node " + i + " is out of range; the model has "
                        + features + " features");
            }
            if ((decisionType[i] & ~15) != 0 || ((decisionType[i] >> 2) & 3) == 3) {
                throw new UnsupportedModelException("decision_type " + decisionType[i] + " at node " + i + " is not a LightGBM split type");
            }
            if ((decisionType[i] & 1) != 0 && !(threshold[i] >= 0 && threshold[i] < catBoundaries.length - 1 && threshold[i] == Math.rint(threshold[i]))) {
                throw new IllegalArgumentException("categorical split at node " + i + " names category set " + threshold[i]
                        + ", but cat_boundaries has " + Math.max(0, catBoundaries.length - 1));
            }
        }
        var linear = integer(fields, "is_linear", "0") != 0 ? linear(fields, leaves, features) : null;
        return new Tree(splitFeature, threshold, decisionType, leftChild, rightChild, doubles(fields, "leaf_value", leaves),
                catBoundaries, catThreshold, linear);
    }

    private static Linear linear(Map<String, String> fields, int leaves, int features) {
        var constant = doubles(fields, "leaf_const", leaves);
        var counts = ints(fields, "num_features", leaves);
        long total = 0;
        for (int count : counts) {
            if (count < 0) throw new IllegalArgumentException("num_features has a negative count");
            total += count;
        }
        if (total > features * (long) leaves) throw new IllegalArgumentException("num_features counts more features than the leaves can have");
        // Leaves without features leave empty slots (two spaces) in leaf_features and leaf_coeff, so blanks are skipped.
        var flatFeatures = ints(fields, "leaf_features", (int) total);
        var flatCoefficients = doubles(fields, "leaf_coeff", (int) total);
        var leafFeatures = new int[leaves][];
        var coefficients = new double[leaves][];
        int at = 0;
        for (int leaf = 0; leaf < leaves; leaf++) {
            leafFeatures[leaf] = Arrays.copyOfRange(flatFeatures, at, at + counts[leaf]);
            coefficients[leaf] = Arrays.copyOfRange(flatCoefficients, at, at + counts[leaf]);
            for (int f : leafFeatures[leaf]) {
                if (f < 0 || f >= features) {
                    throw new IllegalArgumentException("leaf_features names feature " + f + "; the model has " + features);
                }
            }
            at += counts[leaf];
        }
        return new Linear(constant, leafFeatures, coefficients);
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

    private static String[] values(Map<String, String> fields, String key, int expected) {
        var value = fields.get(key);
        if (value == null || value.isBlank()) {
            if (expected > 0) throw new IllegalArgumentException("tree is missing " + key);
            return new String[0];
        }
        String[] parts = value.strip().split("\\s+");
        if (expected >= 0 && parts.length != expected) {
            throw new IllegalArgumentException(key + " has " + parts.length + " values, expected " + expected);
        }
        return parts;
    }

    private static int[] ints(Map<String, String> fields, String key, int expected) {
        String[] parts = values(fields, key, expected);
        var out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                // cat_threshold words are unsigned 32-bit: the cast keeps their bits.
                out[i] = (int) Long.parseLong(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " has a value that is not an integer: " + parts[i]);
            }
        }
        return out;
    }

    private static double[] doubles(Map<String, String> fields, String key, int expected) {
        String[] parts = values(fields, key, expected);
        var out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = number(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " has a value that is not a number: " + parts[i]);
            }
        }
        return out;
    }

    /** A number as C++ streams write it: also {@code inf}, {@code -inf} and {@code nan}, which Java's parser refuses. */
    private static double number(String text) {
        var lower = text.toLowerCase(Locale.ROOT);
        boolean negative = lower.startsWith("-");
        var unsigned = negative || lower.startsWith("+") ? lower.substring(1) : lower;
        if (unsigned.equals("inf") || unsigned.equals("infinity")) return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        if (unsigned.equals("nan")) return Double.NaN;
        if (!unsigned.isEmpty() && !Character.isDigit(unsigned.charAt(0)) && unsigned.charAt(0) != '.') {
            throw new NumberFormatException(text);
        }
        return Double.parseDouble(text);
    }
}
