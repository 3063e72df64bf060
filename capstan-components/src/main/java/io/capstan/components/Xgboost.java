package io.capstan.components;

import io.capstan.core.PermanentFailureException;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The calls into XGBoost's native library. A library that cannot load (a missing or incompatible
 * {@code libxgboost4j.so}) becomes a failure with a sentence instead of a crash.
 */
final class Xgboost {
    private Xgboost() {
    }

    static String version() {
        try (InputStream in = XGBoost.class.getClassLoader().getResourceAsStream("xgboost4j-version.properties")) {
            if (in == null) return "unknown";
            var p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Trains a booster on {@code data} with labels {@code labels} and writes it as JSON to {@code modelFile}. */
    static void train(LabelledData data, int[] labels, Map<String, Object> params, int rounds, Path modelFile) {
        try {
            var matrix = matrix(data);
            try {
                var floatLabels = new float[labels.length];
                for (int i = 0; i < labels.length; i++) floatLabels[i] = labels[i];
                matrix.setLabel(floatLabels);
                Booster booster = XGBoost.train(matrix, params, rounds, Map.of(), null, null);
                try {
                    booster.saveModel(modelFile.toString());
                } finally {
                    booster.dispose();
                }
            } finally {
                matrix.dispose();
            }
        } catch (XGBoostError e) {
            throw new PermanentFailureException("XGBoost failed to train: %s; check the training parameters".formatted(e.getMessage()), e);
        } catch (LinkageError e) {
            throw unavailable(e);
        }
    }

    /** Class probabilities, one row per example, one column per class. */
    static double[][] predict(Path modelFile, LabelledData data, int classCount) {
        try {
            var booster = XGBoost.loadModel(modelFile.toString());
            try {
                var matrix = matrix(data);
                try {
                    float[][] raw = booster.predict(matrix);
                    var out = new double[raw.length][classCount];
                    for (int r = 0; r < raw.length; r++) {
                        if (classCount == 2 && raw[r].length == 1) {
                            out[r][1] = raw[r][0];
                            out[r][0] = 1 - raw[r][0];
                        } else {
                            for (int c = 0; c < classCount; c++) out[r][c] = raw[r][c];
                        }
                    }
                    return out;
                } finally {
                    matrix.dispose();
                }
            } finally {
                booster.dispose();
            }
        } catch (XGBoostError e) {
            throw new PermanentFailureException("XGBoost could not load or apply the model at %s: %s; retrain it with train-xgboost"
                    .formatted(modelFile, e.getMessage()), e);
        } catch (LinkageError e) {
            throw unavailable(e);
        }
    }

    private static DMatrix matrix(LabelledData data) throws XGBoostError {
        return new DMatrix(data.flatFeatures(), data.features().length, data.featureColumns().size(), Float.NaN);
    }

    static PermanentFailureException unavailable(LinkageError e) {
        return new PermanentFailureException(("XGBoost's native library could not be loaded on %s/%s with Java %s (%s); "
                + "use train-logistic-regression instead, or run on a platform that xgboost4j %s supports").formatted(
                System.getProperty("os.name"), System.getProperty("os.arch"), System.getProperty("java.version"), e, version()), e);
    }
}
