package io.capstan.serving.runtime;

import static com.microsoft.ml.lightgbm.lightgbmlib.*;

import com.microsoft.ml.lightgbm.SWIGTYPE_p_void;
import com.microsoft.ml.lightgbm.lightgbmlibConstants;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * LightGBM itself, through the SWIG API of Maven Central's {@code lightgbmlib}: trains small models and scores
 * rows, to give the reference that Capstan's Java evaluation must match.
 */
final class LightGbmNative {
    private static boolean loaded;

    private LightGbmNative() {
    }

    /** A trained model: its text (as {@code save_model} writes it) and LightGBM's own scores for some rows. */
    record Scored(String text, double[] scores) {
    }

    /**
     * The jar carries the native libraries but no loader. lib_lightgbm_swig.so needs lib_lightgbm.so (by its
     * soname), so that one is loaded first; both need the OpenMP runtime, libgomp.so.1 (Debian's libgomp1).
     */
    static synchronized void load() {
        if (loaded) return;
        if (!System.getProperty("os.name").toLowerCase().contains("linux") || !System.getProperty("os.arch").matches("amd64|x86_64")) {
            throw new IllegalStateException("lightgbmlib's tests need Linux x86-64, this is " + System.getProperty("os.name")
                    + " " + System.getProperty("os.arch"));
        }
        try {
            Path dir = Files.createTempDirectory("lightgbm-native");
            for (var name : new String[] {"lib_lightgbm.so", "lib_lightgbm_swig.so"}) {
                var file = dir.resolve(name);
                try (var in = LightGbmNative.class.getResourceAsStream("/com/microsoft/ml/lightgbm/linux/x86_64/" + name)) {
                    if (in == null) throw new IllegalStateException("lightgbmlib jar has no " + name);
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
                file.toFile().deleteOnExit();
                try {
                    System.load(file.toString());
                } catch (UnsatisfiedLinkError e) {
                    throw new IllegalStateException("cannot load LightGBM's " + name + " (is libgomp1 installed?): " + e.getMessage(), e);
                }
            }
            dir.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        loaded = true;
    }

    /**
     * Trains on row-major {@code train} ({@code cols} columns) with {@code params} (LightGBM's "key=value key=value"),
     * saves the first {@code saveIterations} iterations (-1: all) as text, loads that text back into a new booster
     * and scores the rows of {@code test} with it.
     */
    static Scored trainAndScore(double[] train, float[] labels, int[] groups, int cols, String params, int iterations,
                                int saveIterations, double[] test) {
        load();
        int rows = labels.length;
        var x = doubles(train);
        var label = new_floatArray(rows);
        for (int i = 0; i < rows; i++) floatArray_setitem(label, i, labels[i]);
        var datasetOut = new_voidpp();
        var boosterOut = new_voidpp();
        var finished = new_intp();
        SWIGTYPE_p_void dataset = null;
        SWIGTYPE_p_void booster = null;
        try {
            check(LGBM_DatasetCreateFromMat(double_to_voidp_ptr(x), lightgbmlibConstants.C_API_DTYPE_FLOAT64, rows, cols, 1, params, null, datasetOut));
            dataset = voidpp_value(datasetOut);
            check(LGBM_DatasetSetField(dataset, "label", float_to_voidp_ptr(label), rows, lightgbmlibConstants.C_API_DTYPE_FLOAT32));
            if (groups != null) {
                var group = new_intArray(groups.length);
                for (int i = 0; i < groups.length; i++) intArray_setitem(group, i, groups[i]);
                try {
                    check(LGBM_DatasetSetField(dataset, "group", int_to_voidp_ptr(group), groups.length, lightgbmlibConstants.C_API_DTYPE_INT32));
                } finally {
                    delete_intArray(group);
                }
            }
            check(LGBM_BoosterCreate(dataset, params, boosterOut));
            booster = voidpp_value(boosterOut);
            for (int i = 0; i < iterations; i++) {
                check(LGBM_BoosterUpdateOneIter(booster, finished));
                if (intp_value(finished) == 1) break;
            }
            var length = new_int64_tp();
            String text;
            try {
                text = LGBM_BoosterSaveModelToStringSWIG(booster, 0, saveIterations, 0, 1 << 20, length);
            } finally {
                delete_int64_tp(length);
            }
            if (text == null) throw new IllegalStateException("LightGBM could not save the model: " + LGBM_GetLastError());
            return new Scored(text, score(text, cols, test, -1));
        } finally {
            if (booster != null) LGBM_BoosterFree(booster);
            if (dataset != null) LGBM_DatasetFree(dataset);
            delete_voidpp(datasetOut);
            delete_voidpp(boosterOut);
            delete_intp(finished);
            delete_floatArray(label);
            delete_doubleArray(x);
        }
    }

    /** LightGBM's normal prediction ({@code Booster.predict}) for the rows of {@code test}, with a model loaded from text. */
    static double[] score(String text, int cols, double[] test, int numIteration) {
        load();
        int rows = test.length / cols;
        var iterations = new_intp();
        var boosterOut = new_voidpp();
        var classes = new_intp();
        var x = doubles(test);
        var length = new_int64_tp();
        SWIGTYPE_p_void booster = null;
        try {
            check(LGBM_BoosterLoadModelFromString(text, iterations, boosterOut));
            booster = voidpp_value(boosterOut);
            check(LGBM_BoosterGetNumClasses(booster, classes));
            int width = intp_value(classes);
            var result = new_doubleArray((long) rows * width);
            try {
                check(LGBM_BoosterPredictForMat(booster, double_to_voidp_ptr(x), lightgbmlibConstants.C_API_DTYPE_FLOAT64, rows, cols, 1,
                        lightgbmlibConstants.C_API_PREDICT_NORMAL, 0, numIteration, "num_threads=1", length, result));
                var out = new double[(int) int64_tp_value(length)];
                for (int i = 0; i < out.length; i++) out[i] = doubleArray_getitem(result, i);
                return out;
            } finally {
                delete_doubleArray(result);
            }
        } finally {
            if (booster != null) LGBM_BoosterFree(booster);
            delete_intp(iterations);
            delete_voidpp(boosterOut);
            delete_intp(classes);
            delete_doubleArray(x);
            delete_int64_tp(length);
        }
    }

    private static com.microsoft.ml.lightgbm.SWIGTYPE_p_double doubles(double[] values) {
        var array = new_doubleArray(values.length);
        for (int i = 0; i < values.length; i++) doubleArray_setitem(array, i, values[i]);
        return array;
    }

    private static void check(int rc) {
        if (rc != 0) throw new IllegalStateException("LightGBM: " + LGBM_GetLastError());
    }
}
