package io.capstan.pipelines.run;

import io.capstan.core.ResourceKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** The {@code pipelines.capstan.io/v1 PipelineRun} kind: one run of a compiled KFP pipeline. */
public final class PipelineRuns {
    public static final String KIND = "PipelineRun";
    public static final ResourceKind RESOURCE_KIND = new ResourceKind("pipelines.capstan.io", List.of("v1"), KIND,
            "pipelineruns", List.of("run", "pr"), PipelineRunSpec::validate);
    private static final String PREFIX = "pr_";

    private PipelineRuns() {
    }

    /**
     * The workload of one attempt of one task: {@code pr_<uid>_<hash of task path>_<attempt>}. The uid keeps a
     * re-created run of the same name from meeting an old workload.
     */
    static String workloadId(String uid, String taskPath, int attempt) {
        return PREFIX + uid + "_" + sha256(taskPath).substring(0, 16) + "_" + attempt;
    }

    /** The prefix shared by every workload of the run {@code uid}. */
    static String workloadPrefix(String uid) {
        return PREFIX + uid + "_";
    }

    static boolean isRunWorkload(String workloadId) {
        return workloadId.startsWith(PREFIX);
    }

    /** The uid of the run that owns {@code workloadId}, or empty for workloads that are not a run's. */
    static java.util.Optional<String> ownerOf(String workloadId) {
        return isRunWorkload(workloadId) ? java.util.Optional.of(uidOfWorkload(workloadId)) : java.util.Optional.empty();
    }

    /** The run uid inside a workload id made by {@link #workloadId}. */
    static String uidOfWorkload(String workloadId) {
        var rest = workloadId.substring(PREFIX.length());
        int attemptCut = rest.lastIndexOf('_');
        if (attemptCut < 0) return rest;
        int hashCut = rest.lastIndexOf('_', attemptCut - 1);
        return hashCut < 0 ? rest : rest.substring(0, hashCut);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
