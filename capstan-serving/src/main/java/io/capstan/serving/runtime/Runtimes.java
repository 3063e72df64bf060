package io.capstan.serving.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** The runtimes Capstan can load models with, and the choice of one for a model format. */
public final class Runtimes {
    private final List<ModelRuntime> runtimes;

    public Runtimes(List<ModelRuntime> runtimes) {
        this.runtimes = List.copyOf(runtimes);
    }

    /** ONNX Runtime, XGBoost, LightGBM and every custom Java model on the class path. */
    public static Runtimes builtIn() {
        return new Runtimes(List.of(new OnnxModelRuntime(), new XGBoostModelRuntime(), new LightGbmModelRuntime(),
                JavaModelRuntime.discover(Runtimes.class.getClassLoader())));
    }

    /** These runtimes and {@code more}, such as the scikit-learn runtime that needs a work folder for its processes. */
    public Runtimes with(ModelRuntime more) {
        var all = new ArrayList<>(runtimes);
        all.add(more);
        return new Runtimes(all);
    }

    public List<ModelRuntime> all() {
        return runtimes;
    }

    public Optional<ModelRuntime> byName(String name) {
        return runtimes.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** The auto-selectable runtime of highest priority that serves {@code format}, if any. */
    public Optional<ModelRuntime> forFormat(String format, String version) {
        record Candidate(ModelRuntime runtime, int priority) { }
        var candidates = new ArrayList<Candidate>();
        for (var runtime : runtimes) {
            runtime.supportedFormats().stream()
                    .filter(f -> f.autoSelect() && f.matches(format, version))
                    .findFirst()
                    .ifPresent(f -> candidates.add(new Candidate(runtime, f.priority())));
        }
        return candidates.stream().max(Comparator.comparingInt(Candidate::priority)).map(Candidate::runtime);
    }

    /** Whether some runtime (auto-selectable or not) serves {@code format}. */
    public boolean serves(String format) {
        return runtimes.stream().anyMatch(r -> r.supportedFormats().stream().anyMatch(f -> f.matches(format, null)));
    }
}
