package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Workload ids of training jobs. An id carries the job's uid, the attempt and the rank:
 * {@code trn_<uid>_<attempt>_<rank>}, and {@code trn_<uid>_<attempt>_tracker} for XGBoost's tracker, so that a
 * re-created job of the same name, or a later attempt, never meets an old workload. Each job's status lists its
 * current workloads with their replica type and index, which is what {@code capstan logs JOB --rank N} reads.
 */
public final class TrainingWorkloads {
    static final String PREFIX = "trn_";
    static final String TRACKER = "tracker";

    private TrainingWorkloads() {
    }

    /** The workload of global rank {@code rank} (a node under torchrun, else a process) in {@code attempt}. */
    public static String workloadId(String uid, int attempt, int rank) {
        return PREFIX + uid + "_" + attempt + "_" + rank;
    }

    static String trackerId(String uid, int attempt) {
        return PREFIX + uid + "_" + attempt + "_" + TRACKER;
    }

    public static boolean isTrainingWorkload(String workloadId) {
        return workloadId.startsWith(PREFIX) && workloadId.chars().filter(c -> c == '_').count() >= 3;
    }

    /** The uid of the job that owns {@code workloadId}; empty for workloads of other kinds. */
    public static Optional<String> ownerUid(String workloadId) {
        if (!isTrainingWorkload(workloadId)) return Optional.empty();
        var rest = workloadId.substring(PREFIX.length());
        int rankCut = rest.lastIndexOf('_');
        int attemptCut = rest.lastIndexOf('_', rankCut - 1);
        return attemptCut <= 0 ? Optional.empty() : Optional.of(rest.substring(0, attemptCut));
    }

    /** One workload of a job's current attempt, as its status lists it. */
    public record Member(String workloadId, String replicaType, int index, int rank) {
        public Member {
            Objects.requireNonNull(workloadId, "workloadId");
            Objects.requireNonNull(replicaType, "replicaType");
        }
    }

    /** The workloads of the job's current attempt, rank order, the tracker (if any) last. */
    public static List<Member> members(Resource job) {
        var out = new ArrayList<Member>();
        job.status().field("workloads").filter(JsonNode::isArray).ifPresent(array -> array.forEach(n -> out.add(
                new Member(n.path("id").asText(), n.path("replicaType").asText(), n.path("index").asInt(), n.path("rank").asInt()))));
        return out;
    }

    /**
     * The workload running global rank {@code rank} of the job's current attempt, for {@code capstan logs JOB --rank N}.
     *
     * @throws NotFoundException naming the ranks that exist
     */
    public static String forRank(Resource job, int rank) {
        return members(job).stream().filter(m -> m.rank() == rank && !m.replicaType().equals(TRACKER)).findFirst()
                .map(Member::workloadId).orElseThrow(() -> notFound(job, "rank " + rank));
    }

    /** The workload of replica {@code replicaType} number {@code index} (Master 0, Worker 2, node 1, tracker 0). */
    public static String forReplica(Resource job, String replicaType, int index) {
        return members(job).stream().filter(m -> m.replicaType().equalsIgnoreCase(replicaType) && m.index() == index).findFirst()
                .map(Member::workloadId).orElseThrow(() -> notFound(job, replicaType + " " + index));
    }

    private static NotFoundException notFound(Resource job, String what) {
        var known = members(job).stream().map(m -> m.replicaType() + " " + m.index() + " (rank " + m.rank() + ")").toList();
        return new NotFoundException("%s '%s' has no %s in its current attempt; it has %s".formatted(job.kind(), job.metadata().name(), what,
                known.isEmpty() ? "no workloads yet" : String.join(", ", known)));
    }
}
