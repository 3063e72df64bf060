package io.capstan.tuning;

import io.capstan.core.TransientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * Katib's {@code pbt} checkpoint contract, on one machine. Katib's suggestion service gives every trial a folder of
 * its own, made as a copy of its parent's folder (the trial named by the label {@value #PARENT_LABEL}), and the trial's
 * pod sees that folder at the experiment's {@code suggestion_trial_dir}, where the template reads and writes its
 * checkpoint. Here the folder is {@code <trial folder>/checkpoint}, made before the trial's first launch, and the
 * trial's command and environment name it wherever they name {@code suggestion_trial_dir}.
 */
final class PbtCheckpoints {
    static final String ALGORITHM = "pbt";
    static final String PARENT_LABEL = "pbt.suggestion.katib.kubeflow.org/parent";
    static final String SETTING = "suggestion_trial_dir";
    /** Katib's default, as in its pbt example. */
    static final String DEFAULT_DIR = "/var/log/katib/checkpoints/";
    static final String FOLDER = "checkpoint";

    /** Where the template names the checkpoint folder, and the trial's own folder that stands for it. */
    record Mount(String templatePath, Path local) {
        String rewrite(String text) {
            return text.replace(templatePath, local.toString());
        }
    }

    private PbtCheckpoints() {
    }

    /**
     * The trial's checkpoint folder for a pbt experiment, made on first use as a copy of its parent's (empty in
     * generation 0, or when the parent left none); empty for other algorithms. Idempotent: a relaunch finds the folder
     * as the trial left it.
     *
     * @param trialDirs the folder of a trial of the same experiment, by trial name
     */
    static Optional<Mount> prepare(ExperimentSpec spec, Path trialDir, Map<String, String> suggestionLabels,
                                   java.util.function.Function<String, Path> trialDirs) {
        if (!spec.algorithm().name().equals(ALGORITHM)) return Optional.empty();
        var templatePath = spec.algorithm().settings().getOrDefault(SETTING, DEFAULT_DIR).replaceAll("/+$", "");
        var own = trialDir.resolve(FOLDER);
        if (templatePath.isEmpty()) return Optional.empty();
        if (Files.isDirectory(own)) return Optional.of(new Mount(templatePath, own));
        var staging = trialDir.resolve(FOLDER + ".part");
        try {
            deleteTree(staging);
            Files.createDirectories(staging);
            var parent = suggestionLabels.get(PARENT_LABEL);
            // A parent is a trial of this experiment; a label naming anything else (a hand-written Trial) copies nothing.
            if (parent != null && io.capstan.core.Names.checkSubdomain(parent).isEmpty()) {
                var from = trialDirs.apply(parent).resolve(FOLDER);
                if (Files.isDirectory(from)) copyTree(from, staging);
            }
            Files.move(staging, own, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new TransientException("cannot make the checkpoint folder " + own + " of a pbt trial: " + e.getMessage(), e);
        }
        return Optional.of(new Mount(templatePath, own));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (var source : walk.toList()) {
                var target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) Files.createDirectories(target);
                else Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) return;
        try (var walk = Files.walk(path)) {
            for (var p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
