package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Ids;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.store.LabelSelector;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** KFP recurring runs, stored as {@code RecurringRun} resources that {@link RecurringRunReconciler} schedules. */
final class RecurringRunCatalog {
    static final Set<String> KEYS = Set.of("recurring_run_id", "name", "display_name", "description", "created_at", "experiment_id", "status");

    private final KfpStore store;
    private final RunCatalog runs;
    private final Clock clock;

    RecurringRunCatalog(KfpStore store, RunCatalog runs, Clock clock) {
        this.store = store;
        this.runs = runs;
        this.clock = clock;
    }

    /** Creates the recurring run in {@code namespace}, its experiment's (see {@link RunCatalog#namespaceFor}). */
    KfpWire.RecurringRun create(KfpWire.RecurringRun request, String namespace) {
        var name = PipelineCatalog.firstNonBlank(request.displayName());
        if (name.isEmpty()) throw InvalidSpecException.of("display_name", "a recurring run needs a display_name");
        var ref = request.pipelineVersionReference();
        // Resolved now, so that a later version of the pipeline does not change what an existing schedule runs.
        var source = runs.source(ref == null ? "" : ref.pipelineId(),
                ref == null || ref.pipelineVersionId() == null ? request.pipelineVersionId() : ref.pipelineVersionId(), request.pipelineSpec(), namespace);
        var experimentId = request.experimentId() == null ? "" : request.experimentId();
        if (!experimentId.isEmpty()) runs.namespaceFor(experimentId, namespace);
        var spec = Json.json().createObjectNode();
        spec.put("displayName", name);
        spec.put("description", request.description() == null ? "" : request.description());
        if (!source.pipelineVersionId().isEmpty()) {
            spec.put("pipelineId", source.pipelineId());
            spec.put("pipelineVersionId", source.pipelineVersionId());
        } else {
            spec.put("pipelineSpec", source.irText());
        }
        var params = spec.putObject("parameters");
        if (request.runtimeConfig() != null && request.runtimeConfig().parameters() != null) request.runtimeConfig().parameters().forEach(params::set);
        if (request.runtimeConfig() != null && request.runtimeConfig().pipelineRoot() != null) spec.put("pipelineRoot", request.runtimeConfig().pipelineRoot());
        var trigger = spec.putObject("trigger");
        var t = request.trigger();
        if (t == null || (t.cronSchedule() == null && t.periodicSchedule() == null)) {
            throw InvalidSpecException.of("trigger", "a recurring run needs trigger.cron_schedule or trigger.periodic_schedule");
        }
        if (t.cronSchedule() != null) {
            trigger.put("cron", t.cronSchedule().cron() == null ? "" : t.cronSchedule().cron());
            putTime(trigger, "startTime", t.cronSchedule().startTime());
            putTime(trigger, "endTime", t.cronSchedule().endTime());
        } else {
            try {
                trigger.put("intervalSeconds", Long.parseLong(t.periodicSchedule().intervalSecond()));
            } catch (NumberFormatException e) {
                throw InvalidSpecException.of("trigger.periodic_schedule.interval_second", "interval_second must be a whole number of seconds, got '"
                        + t.periodicSchedule().intervalSecond() + "'");
            }
            putTime(trigger, "startTime", t.periodicSchedule().startTime());
            putTime(trigger, "endTime", t.periodicSchedule().endTime());
        }
        try {
            spec.put("maxConcurrency", request.maxConcurrency() == null || request.maxConcurrency().isBlank() ? 1 : Integer.parseInt(request.maxConcurrency()));
        } catch (NumberFormatException e) {
            throw InvalidSpecException.of("max_concurrency", "max_concurrency must be a whole number, got '" + request.maxConcurrency() + "'");
        }
        spec.put("noCatchup", Boolean.TRUE.equals(request.noCatchup()));
        spec.put("mode", "DISABLE".equals(request.mode()) ? "DISABLE" : "ENABLE");
        spec.put("experimentId", experimentId);
        return recurringRun(store.create(KfpKinds.RECURRING_RUN_KIND, namespace, Ids.uid(), spec, Map.of(), Map.of()));
    }

    private static void putTime(com.fasterxml.jackson.databind.node.ObjectNode trigger, String field, String value) {
        if (value != null && !value.isBlank()) trigger.put(field, value);
    }

    KfpWire.RecurringRun get(String id) {
        return recurringRun(store.get(KfpKinds.RECURRING_RUN, id, "recurring run"));
    }

    ListRequest.Page<KfpWire.RecurringRun> list(ListRequest request, ListRequest.Scope scope, String experimentId) {
        var rows = store.all(KfpKinds.RECURRING_RUN, scope, LabelSelector.EVERYTHING).stream()
                .filter(r -> experimentId.isEmpty() || KfpStore.text(r.spec(), "experimentId").equals(experimentId)).map(r -> {
                    var rr = recurringRun(r);
                    var m = new LinkedHashMap<String, Object>();
                    m.put("recurring_run_id", rr.recurringRunId());
                    m.put("name", rr.displayName());
                    m.put("display_name", rr.displayName());
                    m.put("description", rr.description());
                    m.put("created_at", KfpStore.created(r));
                    m.put("experiment_id", rr.experimentId());
                    m.put("status", rr.status());
                    return new ListRequest.Row<>(rr, rr.recurringRunId(), (Map<String, Object>) m);
                }).toList();
        return request.page(rows);
    }

    /** Enables or disables the recurring run; a change stamps {@code updated_at}, as KFP's does, and a no-op does not. */
    void setMode(String id, RecurringRunSpec.Mode mode) {
        store.mutate(store.get(KfpKinds.RECURRING_RUN, id, "recurring run").key(), r -> {
            if (KfpStore.text(r.spec(), "mode").equals(mode.name())) return r;
            var spec = r.spec();
            spec.put("mode", mode.name());
            var annotations = new HashMap<>(r.metadata().annotations());
            annotations.put(KfpKinds.ANNOTATION_UPDATED_AT, clock.instant().toString());
            return r.withSpec(spec).withMetadata(r.metadata().withAnnotations(annotations));
        });
    }

    void delete(String id) {
        store.delete(store.get(KfpKinds.RECURRING_RUN, id, "recurring run").key());
    }

    /**
     * The last change: the scheduler stamps status {@code updatedAt} when it starts a run, and this catalog stamps an
     * annotation when the mode changes (it does not write status, which is the scheduler's).
     */
    private static Instant updatedAt(Resource r) {
        var updated = KfpStore.created(r);
        for (var stamp : new String[] {r.status().field("updatedAt").map(JsonNode::asText).orElse(""),
                r.metadata().annotations().getOrDefault(KfpKinds.ANNOTATION_UPDATED_AT, "")}) {
            if (stamp.isEmpty()) continue;
            try {
                var at = Instant.parse(stamp);
                if (at.isAfter(updated)) updated = at;
            } catch (java.time.format.DateTimeParseException e) {
                // Written by this package as Instant.toString(); a hand-edited value that does not parse is ignored.
            }
        }
        return updated;
    }

    private static KfpWire.RecurringRun recurringRun(Resource r) {
        var s = r.spec();
        var t = s.path("trigger");
        KfpWire.Trigger trigger = t.has("cron")
                ? new KfpWire.Trigger(new KfpWire.CronSchedule(t.path("startTime").asText(null), t.path("endTime").asText(null), t.path("cron").asText()), null)
                : new KfpWire.Trigger(null, new KfpWire.PeriodicSchedule(t.path("startTime").asText(null), t.path("endTime").asText(null), t.path("intervalSeconds").asText()));
        var params = new LinkedHashMap<String, JsonNode>();
        s.path("parameters").properties().forEach(e -> params.put(e.getKey(), e.getValue()));
        var versionId = KfpStore.text(s, "pipelineVersionId");
        var enabled = "ENABLE".equals(KfpStore.text(s, "mode"));
        return new KfpWire.RecurringRun(r.metadata().name(), KfpStore.text(s, "displayName"), KfpStore.text(s, "description"),
                versionId.isEmpty() ? null : versionId, null,
                versionId.isEmpty() ? null : new KfpWire.PipelineVersionReference(KfpStore.text(s, "pipelineId"), versionId),
                new KfpWire.RuntimeConfig(params, s.path("pipelineRoot").asText(null)), s.path("maxConcurrency").asText("1"), trigger,
                enabled ? "ENABLE" : "DISABLE", KfpStore.created(r).toString(),
                updatedAt(r).toString(),
                enabled ? "ENABLED" : "DISABLED", s.path("noCatchup").asBoolean(false), r.metadata().namespace(), KfpStore.text(s, "experimentId"));
    }
}
