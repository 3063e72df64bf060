package io.capstan.pipelines.run;

import io.capstan.artifacts.ArtifactStore;
import io.capstan.artifacts.ArtifactUri;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How a step's attempt folder crosses to a pod that cannot see this server's disk, through S3: an attempt's stage is
 * {@code s3://<bucket>/pipeline-steps/<workload id>/}. Before the pod starts, the server pushes the attempt folder as
 * {@link #prepare} left it (downloaded input artifacts, the empty folders outputs go to) under {@code in/}; the pod's
 * launcher pulls {@code in/} into the same path in the pod, the step runs, and the launcher pushes what it wrote
 * ({@value #EXECUTOR_OUTPUT}, {@code outputs/}, {@code artifacts/}) under {@code out/}. When the pod succeeded, the
 * server pulls {@code out/} back into the attempt folder, and the step's outputs are read and uploaded as for a step
 * that ran locally. Each attempt has its own workload id, so a stage is written once.
 *
 * <p>The pod learns its stage and folder from {@value #STAGE_ENV} and {@value #DIR_ENV}; its launcher containers
 * run {@code capstan step-io pull} and {@code capstan step-io push --wait} ({@link StepLauncher}).
 */
public final class StepStage {
    public static final String STAGE_ENV = "CAPSTAN_STEP_STAGE";
    public static final String DIR_ENV = "CAPSTAN_STEP_DIR";
    static final String RUN_ENV = "CAPSTAN_RUN";
    static final String TASK_ENV = "CAPSTAN_TASK";
    static final String ATTEMPT_ENV = "CAPSTAN_ATTEMPT";
    static final String PREFIX = "pipeline-steps";
    static final String IN = "in";
    static final String OUT = "out";
    /** Under {@code in/}: the attempt folder's empty folders, one relative path a line, which S3 cannot hold. */
    static final String FOLDERS = ".capstan-folders";
    static final String EXECUTOR_OUTPUT = "executor_output.json";
    /** What a step writes in its attempt folder, pushed back after it ran. */
    static final List<String> OUTPUTS = List.of(EXECUTOR_OUTPUT, "outputs", "artifacts");

    private final ArtifactStore store;
    private final String prefix;
    private final String uri;

    private StepStage(ArtifactStore store, String prefix, String uri) {
        this.store = store;
        this.prefix = prefix;
        this.uri = uri;
    }

    /** The stage of workload {@code workloadId} in {@code store}, Capstan's bucket. */
    static StepStage of(ArtifactStore store, String bucket, String workloadId) {
        var key = PREFIX + "/" + workloadId;
        return new StepStage(store, key, ArtifactTransfer.S3 + bucket + "/" + key);
    }

    /**
     * The stage at {@code uri} ({@value #STAGE_ENV}), in {@code store}: the pod's side.
     *
     * @throws InvalidSpecException naming {@value #STAGE_ENV} when it is not an {@code s3://} URI
     */
    public static StepStage at(ArtifactStore store, String uri) {
        return new StepStage(store, check(uri).path().replaceAll("/+$", ""), uri);
    }

    /**
     * {@code uri} read as a stage: {@code s3://bucket/key}.
     *
     * @throws InvalidSpecException naming {@value #STAGE_ENV} when it is not one
     */
    static ArtifactUri check(String uri) {
        if (!uri.startsWith(ArtifactTransfer.S3)) {
            throw InvalidSpecException.of(STAGE_ENV, "'" + io.capstan.core.Names.printable(uri) + "' is not an s3://bucket/key URI");
        }
        try {
            var parsed = ArtifactUri.parse(uri);
            if (parsed.path().isBlank()) throw InvalidSpecException.of(STAGE_ENV, "'" + io.capstan.core.Names.printable(uri) + "' names no key in its bucket");
            return parsed;
        } catch (InvalidSpecException e) {
            if (e.getMessage().contains(STAGE_ENV)) throw e;
            throw InvalidSpecException.of(STAGE_ENV, e.getMessage());
        }
    }

    /** A task path as {@code capstan render} names the task: {@code outer.inner}, without the root. */
    static String taskName(String path) {
        var p = path.startsWith("root/") ? path.substring("root/".length()) : path;
        return p.replace('/', '.');
    }

    /** The bucket of an {@code s3://} stage URI. */
    public static String bucketOf(String uri) {
        return check(uri).authority();
    }

    String uri() {
        return uri;
    }

    /** Server side, before launch: the prepared attempt folder, under {@code in/}. */
    void pushInputs(Path attemptDir) {
        push(attemptDir, IN, List.of(""));
    }

    /** Pod side, after the step exited 0: what it wrote, under {@code out/}. */
    public void pushOutputs(Path attemptDir) {
        push(attemptDir, OUT, OUTPUTS);
    }

    /** Pod side, before the step: {@code in/} into {@code attemptDir}, empty folders included. */
    public void pull(Path attemptDir) {
        pull(IN, attemptDir);
    }

    /** Server side, once the pod succeeded: {@code out/} into the attempt folder. Idempotent. */
    void pullOutputs(Path attemptDir) {
        pull(OUT, attemptDir);
    }

    private void push(Path dir, String side, List<String> roots) {
        var what = "stage " + uri + "/" + side;
        try {
            var files = new ArrayList<Path>();
            var empty = new StringBuilder();
            for (var root : roots) {
                var start = root.isEmpty() ? dir : dir.resolve(root);
                if (!Files.exists(start)) continue;
                try (var walk = Files.walk(start)) {
                    for (var p : walk.sorted(Comparator.naturalOrder()).toList()) {
                        if (Files.isRegularFile(p)) files.add(p);
                        else if (Files.isDirectory(p) && !p.equals(dir) && isEmpty(p)) empty.append(relative(dir, p)).append('\n');
                    }
                }
            }
            for (var f : files) {
                try (var in = Files.newInputStream(f)) {
                    store.put(prefix + "/" + side + "/" + relative(dir, f), in);
                }
            }
            if (!empty.isEmpty()) {
                store.put(prefix + "/" + side + "/" + FOLDERS, new ByteArrayInputStream(empty.toString().getBytes(StandardCharsets.UTF_8)));
            }
        } catch (ConflictException e) {
            throw new PermanentFailureException(what + " already holds different content; an attempt's stage is written once: " + e.getMessage(), e);
        } catch (IOException | UncheckedIOException e) {
            throw new TransientException(what + ": cannot push " + dir + ": " + e.getMessage(), e);
        }
    }

    private void pull(String side, Path dir) {
        var from = prefix + "/" + side + "/";
        try {
            Files.createDirectories(dir);
            var base = dir.toAbsolutePath().normalize();
            for (var item : store.list(from)) {
                var rel = item.key().substring(from.length());
                if (rel.equals(FOLDERS)) {
                    String listed;
                    try (var in = store.get(item.key())) {
                        listed = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    }
                    for (var line : listed.lines().toList()) {
                        if (!line.isBlank()) Files.createDirectories(inside(base, line));
                    }
                    continue;
                }
                var target = inside(base, rel);
                Files.createDirectories(target.getParent());
                try (var in = store.get(item.key())) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new TransientException("stage " + uri + "/" + side + ": cannot pull into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** {@code rel} under {@code base}; a key that would climb out of it (written by hand) is refused. */
    private Path inside(Path base, String rel) {
        var p = base.resolve(rel).normalize();
        if (!p.startsWith(base) || p.equals(base)) throw new PermanentFailureException("stage " + uri + ": '" + io.capstan.core.Names.printable(rel) + "' is outside the attempt folder");
        return p;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            return list.findAny().isEmpty();
        }
    }

    private static String relative(Path dir, Path p) {
        return dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
    }
}
