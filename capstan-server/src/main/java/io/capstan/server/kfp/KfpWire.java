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
               String state, RpcStatus error, RunDetails runDetails, String recurringRunId) {
    }

    record RunDetails(List<TaskDetail> taskDetails) {
    }

    /** {@code cache_state} is Capstan's: KFP's RuntimeState has no CACHED, so a cache hit is SKIPPED plus this. */
    record TaskDetail(String runId, String taskId, String displayName, String createTime, String startTime, String endTime,
                      String state, String cacheState, RpcStatus error, JsonNode inputs, JsonNode outputs, String parentTaskId,
                      String podName) {
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

    record Healthz(String commitSha, String tagName, boolean multiUser) {
    }
}
