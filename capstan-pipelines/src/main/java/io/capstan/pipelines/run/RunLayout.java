package io.capstan.pipelines.run;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where one run keeps its files: a folder per task attempt for output files, a shared workspace, and artifacts
 * under the pipeline root, a local folder or an S3 prefix. Everything here is a pure function of the run and the task path,
 * so a step rebuilt after a restart sees the same paths.
 *
 * @param displayName  the run's display name ({@code {{$.pipeline_job_name}}}); its resource name when it has none
 * @param createTime   RFC 3339 in UTC to the second, as KFP's driver formats {@code {{$.pipeline_job_create_time_utc}}}
 * @param pipelineRoot a {@code file://} or {@code s3://bucket[/prefix]} URI with no trailing slash
 */
record RunLayout(String runName, String displayName, String namespace, String uid, String createTime, Path runDir, String pipelineRoot) {
    static final String FILE = "file://";
    private static final java.util.regex.Pattern UNSAFE = java.util.regex.Pattern.compile("[^A-Za-z0-9._-]+");

    RunLayout {
        Objects.requireNonNull(runName, "runName");
        Objects.requireNonNull(displayName, "displayName");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(uid, "uid");
        Objects.requireNonNull(createTime, "createTime");
        Objects.requireNonNull(runDir, "runDir");
        Objects.requireNonNull(pipelineRoot, "pipelineRoot");
    }

    Path workspace() {
        return runDir.resolve("workspace");
    }

    Path attemptDir(String taskPath, int attempt) {
        return runDir.resolve("tasks").resolve(safe(taskPath)).resolve("attempt-" + attempt);
    }

    /** KFP's layout: {@code <pipeline root>/<run id>/<task>/<output name>}. */
    String artifactUri(String taskPath, String outputName) {
        return pipelineRoot + "/" + uid + "/" + safe(taskPath) + "/" + safe(outputName);
    }

    /** The local path of an artifact: its URI's path for {@code file://} URIs, the URI itself otherwise. */
    static String localPath(String uri) {
        return uri.startsWith(FILE) ? uri.substring(FILE.length()) : uri;
    }

    /** A file name for a task path or output name: readable, and made unique by a short hash of the original. */
    static String safe(String name) {
        var cleaned = UNSAFE.matcher(name).replaceAll("_");
        return cleaned.equals(name) ? name : cleaned + "-" + PipelineRuns.sha256(name).substring(0, 8);
    }
}
