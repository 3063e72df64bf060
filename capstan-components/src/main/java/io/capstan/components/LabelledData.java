package io.capstan.components;

import io.capstan.core.InvalidSpecException;

import java.util.HashMap;
import java.util.List;

/**
 * A table split into numeric features and a class label.
 *
 * @param featureColumns the feature column names, in table order
 * @param features       one row of feature values per example
 * @param labels         each example's label, as text
 */
record LabelledData(List<String> featureColumns, double[][] features, List<String> labels) {
    LabelledData {
        featureColumns = List.copyOf(featureColumns);
        labels = List.copyOf(labels);
    }

    /** Takes every column but {@code labelColumn} as a feature. */
    static LabelledData of(Table table, String labelColumn, String what) {
        table.column(labelColumn, "label_column");
        var features = table.columns().stream().filter(c -> !c.equals(labelColumn)).toList();
        if (features.isEmpty()) {
            throw new InvalidSpecException("%s has only the label column '%s'; give at least one feature column".formatted(what, labelColumn));
        }
        return of(table, labelColumn, features, what);
    }

    /** Takes {@code featureColumns}, in that order, as the features. */
    static LabelledData of(Table table, String labelColumn, List<String> featureColumns, String what) {
        int label = table.column(labelColumn, "label_column");
        var labels = table.rows().stream().map(r -> r.get(label).strip()).toList();
        for (int i = 0; i < labels.size(); i++) {
            if (labels.get(i).isEmpty()) {
                throw new InvalidSpecException("%s has an empty label in column '%s' at data row %d; fill it in or drop the row"
                        .formatted(what, labelColumn, i + 1));
            }
        }
        return new LabelledData(featureColumns, table.numbers(featureColumns, what), labels);
    }

    /** The sorted distinct labels, which must be at least two. */
    List<String> classes(String what) {
        var classes = labels.stream().distinct().sorted().toList();
        if (classes.size() < 2) {
            throw new InvalidSpecException("%s has only the class %s in its label column; a classifier needs at least two classes"
                    .formatted(what, classes));
        }
        return classes;
    }

    /** Each label's index in {@code classes}, or -1 for a label not among them. */
    int[] labelIndexes(List<String> classes) {
        var index = new HashMap<String, Integer>();
        for (int i = 0; i < classes.size(); i++) index.put(classes.get(i), i);
        return labels.stream().mapToInt(l -> index.getOrDefault(l, -1)).toArray();
    }

    float[] flatFeatures() {
        int width = featureColumns.size();
        var flat = new float[features.length * width];
        for (int r = 0; r < features.length; r++) {
            for (int c = 0; c < width; c++) flat[r * width + c] = (float) features[r][c];
        }
        return flat;
    }
}
