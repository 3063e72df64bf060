package io.capstan.server.jobs;

import io.capstan.core.ResourceKind;
import java.util.List;

/** Capstan's example kind, {@code capstan.io/v1 Job}: one command on the backend, usable before the engines exist. */
public final class Jobs {
    public static final String KIND = "Job";
    public static final ResourceKind RESOURCE_KIND =
            new ResourceKind("capstan.io", List.of("v1"), KIND, "jobs", List.of("job"), JobSpec::validate, List.of("batch/v1"));

    private Jobs() {
    }

    /** Workload ids carry the job's uid, so that a re-created job of the same name never meets an old workload. */
    static String workloadId(String uid, int attempt) {
        return "job_" + uid + "_" + attempt;
    }

    static boolean isJobWorkload(String workloadId) {
        return workloadId.startsWith("job_");
    }

    /** The uid of the Job that owns {@code workloadId}, or empty for workloads that are not a Job's. */
    static java.util.Optional<String> ownerOf(String workloadId) {
        return isJobWorkload(workloadId) ? java.util.Optional.of(uidOfWorkload(workloadId)) : java.util.Optional.empty();
    }

    static String uidOfWorkload(String workloadId) {
        var rest = workloadId.substring(4);
        int cut = rest.lastIndexOf('_');
        return cut < 0 ? rest : rest.substring(0, cut);
    }
}
