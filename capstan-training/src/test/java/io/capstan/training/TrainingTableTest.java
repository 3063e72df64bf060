package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What `capstan get trainjobs` and `capstan logs JOB --rank N` read from a job's status. */
class TrainingTableTest {
    static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

    static Resource job(String name, ResourceStatus status) {
        var meta = new ObjectMeta(name, "default", "uid-" + name, Map.of(), Map.of(), NOW.minusSeconds(125), 1, "1", List.of());
        return new Resource("kubeflow.org/v1", "PyTorchJob", meta, Json.json().createObjectNode(), status);
    }

    static ResourceStatus running() {
        var replicas = Json.json().createObjectNode();
        replicas.putObject("Master").put("active", 1).put("succeeded", 0).put("failed", 0);
        replicas.putObject("Worker").put("active", 2).put("succeeded", 0).put("failed", 1);
        var workloads = Json.json().createArrayNode();
        workloads.addObject().put("id", "trn_uid_2_0").put("replicaType", "Master").put("index", 0).put("rank", 0);
        workloads.addObject().put("id", "trn_uid_2_1").put("replicaType", "Worker").put("index", 0).put("rank", 1);
        workloads.addObject().put("id", "trn_uid_2_2").put("replicaType", "Worker").put("index", 1).put("rank", 2);
        return ResourceStatus.EMPTY.withPhase("Running").withField("replicaStatuses", replicas).withField("workloads", workloads)
                .withField("restarts", Json.json().getNodeFactory().numberNode(1));
    }

    @Test
    void rendersOneAlignedRowPerJob() {
        var waiting = ResourceStatus.EMPTY.withCondition("Running", false, "Unschedulable", "the job needs 3 GPUs\nbut this machine has 2", NOW);
        var text = TrainingTable.render(List.of(job("ddp", running()), job("big", waiting)), NOW);
        var lines = text.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).startsWith("NAME").contains("STATE").contains("REPLICAS").contains("RESTARTS");
        assertThat(lines[1]).contains("ddp").contains("Running").contains("Master 1/0/0 Worker 2/0/1").contains("2m");
        assertThat(lines[2]).contains("big").contains("Created").contains("Unschedulable: the job needs 3 GPUs but this machine has 2");
        assertThat(lines[1].indexOf("Running")).isEqualTo(lines[2].indexOf("Created"));
        assertThat(TrainingTable.summary(job("ddp", running()))).isEqualTo("ddp  Running  Master 1/0/0 Worker 2/0/1  restarts 1");
    }

    @Test
    void longMessagesAreCutAndAnEmptyListHasOnlyTheHeader() {
        var failed = ResourceStatus.EMPTY.withPhase("Failed").withCondition("Failed", true, "BackoffLimitExceeded", "x".repeat(500), NOW);
        var row = TrainingTable.row(job("f", failed), NOW);
        assertThat(row.get(6)).hasSize(80).endsWith("...");
        assertThat(TrainingTable.render(List.of(), NOW).split("\n")).hasSize(1);
    }

    @Test
    void ranksAndReplicasMapToWorkloadsAndBack() {
        var job = job("ddp", running());
        assertThat(TrainingWorkloads.forRank(job, 2)).isEqualTo("trn_uid_2_2");
        assertThat(TrainingWorkloads.forReplica(job, "worker", 0)).isEqualTo("trn_uid_2_1");
        assertThatThrownBy(() -> TrainingWorkloads.forRank(job, 7)).isInstanceOf(NotFoundException.class)
                .hasMessageContaining("rank 7").hasMessageContaining("Worker 1 (rank 2)");
        var id = TrainingWorkloads.workloadId("0b6c6f1e-aaaa-bbbb-cccc-000000000001", 3, 12);
        assertThat(TrainingWorkloads.ownerUid(id)).contains("0b6c6f1e-aaaa-bbbb-cccc-000000000001");
        assertThat(TrainingWorkloads.ownerUid(TrainingWorkloads.trackerId("u-1", 2))).contains("u-1");
        assertThat(TrainingWorkloads.ownerUid("job_u_1")).isEmpty();
        assertThat(TrainingWorkloads.ownerUid("trn_")).isEmpty();
        assertThat(TrainingWorkloads.ownerUid("trn___")).isEmpty();
    }
}
