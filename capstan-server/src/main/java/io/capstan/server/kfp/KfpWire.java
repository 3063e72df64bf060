package io.capstan.server.kfp;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * KFP v2beta1 wire records, snake_case on the wire as in the swagger under
 * {@code backend/api/v2beta1/swagger}. Only this package sees them; the stored resources keep Capstan's own shape.
 * Absent fields are {@code null} here because the wire format omits them; nothing outside this file reads them raw.
 */
final class KfpWire {
    static final ObjectMapper MAPPER = Json.json().copy()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private KfpWire() {
    }

    /** Reads a request body into {@code type}; malformed JSON is a 400 that says where. */
    static <T> T read(String body, Class<T> type) {
        if (body.isBlank()) throw InvalidSpecException.of("", "the request body is empty; send a JSON " + type.getSimpleName());
        try {
            return MAPPER.readValue(body, type);
        } catch (com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
            var field = e.getPath().stream().map(r -> r.getFieldName() == null ? "[" + r.getIndex() + "]" : r.getFieldName())
                    .reduce((a, b) -> a + "." + b).orElse("");
            throw InvalidSpecException.of(field, "field '" + field + "' has the wrong type: " + e.getOriginalMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw InvalidSpecException.of("", "the request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw InvalidSpecException.of("", "the request body could not be read as JSON: " + e.getMessage());
        }
    }

    record Pipeline(String pipelineId, String displayName, String name, String description, String createdAt, String namespace) {
    }

    record PipelineVersion(String pipelineId, String pipelineVersionId, String displayName, String name, String description,
                           String createdAt, JsonNode pipelineSpec, Url packageUrl) {
    }

    record Url(String pipelineUrl) {
    }

    record CreatePipelineAndVersion(Pipeline pipeline, PipelineVersion pipelineVersion) {
    }

    record Experiment(String experimentId, String displayName, String description, String createdAt, String namespace,
                      String storageState, String lastRunCreatedAt) {
    }

    record PipelineVersionReference(String pipelineId, String pipelineVersionId) {
    }

    record RuntimeConfig(Map<String, JsonNode> parameters, String pipelineRoot) {
    }

    record RpcStatus(int code, String message) {
    }

    record Run(String experimentId, String runId, String displayName, String storageState, String description,
               String pipelineVersionId, ObjectNode pipelineSpec, PipelineVersionReference pipelineVersionReference,
               RuntimeConfig runtimeConfig, String serviceAccount, String createdAt, String scheduledAt, String finishedAt,
               String state, RpcStatus error, RunDetails runDetails, String recurringRunId, List<RuntimeStatus> stateHistory) {
    }

    /** {@code pipeline_run_context_id} is the MLMD id of the run's {@code system.PipelineRun} context, as an int64 string. */
    record RunDetails(String pipelineRunContextId, List<TaskDetail> taskDetails) {
    }

    /**
     * One task as KFP's swagger declares it: {@code inputs} and {@code outputs} map each artifact slot to the MLMD ids
     * of its artifacts, {@code execution_id} is the task's MLMD execution; Capstan's own view of the task (parameter
     * values, artifact URIs, whether it was a cache hit) is under {@code x_capstan}, which KFP's clients ignore.
     */
    record TaskDetail(String runId, String taskId, String displayName, String createTime, String startTime, String endTime,
                      ExecutorDetail executorDetail, String state, String executionId, RpcStatus error,
                      Map<String, ArtifactList> inputs, Map<String, ArtifactList> outputs, String parentTaskId,
                      List<RuntimeStatus> stateHistory, String podName, List<ChildTask> childTasks, TaskExtension xCapstan) {
    }

    /** MLMD artifact ids, int64 written as strings as proto3 JSON does. */
    record ArtifactList(List<String> artifactIds) {
    }

    /** {@code main_job} is the workload that ran the task's container. */
    record ExecutorDetail(String mainJob) {
    }

    record RuntimeStatus(String updateTime, String state, RpcStatus error) {
    }

    /** A task that depends on this one, named by its task id. */
    record ChildTask(String taskId) {
    }

    /**
     * Capstan's extension of a task: KFP's RuntimeState has no CACHED, so a cache hit is SKIPPED with
     * {@code cache_state} CACHED; {@code inputs} and {@code outputs} hold {@code parameters} (name to value) and
     * {@code artifacts} (name to a list of {@code {name, type, uri, metadata}}).
     */
    record TaskExtension(String cacheState, JsonNode inputs, JsonNode outputs) {
    }

    record CronSchedule(String startTime, String endTime, String cron) {
    }

    record PeriodicSchedule(String startTime, String endTime, String intervalSecond) {
    }

    record Trigger(CronSchedule cronSchedule, PeriodicSchedule periodicSchedule) {
    }

    record RecurringRun(String recurringRunId, String displayName, String description, String pipelineVersionId,
                        ObjectNode pipelineSpec, PipelineVersionReference pipelineVersionReference, RuntimeConfig runtimeConfig,
                        String maxConcurrency, Trigger trigger, String mode, String createdAt, String updatedAt, String status,
                        Boolean noCatchup, String namespace, String experimentId) {
    }

    record ListPipelines(List<Pipeline> pipelines, int totalSize, String nextPageToken) {
    }

    record ListPipelineVersions(List<PipelineVersion> pipelineVersions, int totalSize, String nextPageToken) {
    }

    record ListExperiments(List<Experiment> experiments, int totalSize, String nextPageToken) {
    }

    record ListRuns(List<Run> runs, int totalSize, String nextPageToken) {
    }

    /** The swagger spells this list {@code recurringRuns}, in camelCase, unlike every other field. */
    record ListRecurringRuns(@com.fasterxml.jackson.annotation.JsonProperty("recurringRuns") List<RecurringRun> recurringRuns,
                             int totalSize, String nextPageToken) {
    }

    /** {@code pipeline_store} is where pipelines are kept, "database" as in KFP's default; the version is Capstan's. */
    record Healthz(boolean multiUser, String pipelineStore, HealthzExtension xCapstan) {
    }

    record HealthzExtension(String tagName) {
    }
}
