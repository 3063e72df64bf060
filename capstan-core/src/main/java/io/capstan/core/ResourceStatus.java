package io.capstan.core;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The observed state of a resource. {@code phase}, {@code conditions} and {@code observedGeneration} are common to
 * every kind; anything else a controller reports (exit codes, task states, URLs) lives in {@code fields}, which
 * serialises flat beside them.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ResourceStatus(
        String phase,
        List<Condition> conditions,
        long observedGeneration,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> fields) {

    public static final ResourceStatus EMPTY = new ResourceStatus("", List.of(), 0, Map.of());

    public ResourceStatus {
        phase = phase == null ? "" : phase;
        conditions = conditions == null ? List.of() : List.copyOf(conditions);
        fields = fields == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public ResourceStatus withPhase(String newPhase) {
        return new ResourceStatus(newPhase, conditions, observedGeneration, fields);
    }

    public ResourceStatus withObservedGeneration(long generation) {
        return new ResourceStatus(phase, conditions, generation, fields);
    }

    public ResourceStatus withField(String name, JsonNode value) {
        var copy = new LinkedHashMap<>(fields);
        copy.put(name, value);
        return new ResourceStatus(phase, conditions, observedGeneration, copy);
    }

    public Optional<JsonNode> field(String name) {
        return Optional.ofNullable(fields.get(name));
    }

    public Optional<Condition> condition(String type) {
        return conditions.stream().filter(c -> c.type().equals(type)).findFirst();
    }

    /**
     * Sets a condition, keeping its {@code lastTransitionTime} when the status value did not change, so that a
     * level-triggered controller writing the same condition twice leaves the status unchanged.
     */
    public ResourceStatus withCondition(Condition condition) {
        var next = new ArrayList<Condition>(conditions.size() + 1);
        boolean replaced = false;
        for (var c : conditions) {
            if (c.type().equals(condition.type())) {
                var at = c.status() == condition.status() ? c.lastTransitionTime() : condition.lastTransitionTime();
                next.add(new Condition(condition.type(), condition.status(), condition.reason(), condition.message(), at));
                replaced = true;
            } else {
                next.add(c);
            }
        }
        if (!replaced) next.add(condition);
        return new ResourceStatus(phase, next, observedGeneration, fields);
    }

    /** Convenience for the common "Ready"/"Succeeded" style condition written at {@code at}. */
    public ResourceStatus withCondition(String type, boolean value, String reason, String message, Instant at) {
        return withCondition(new Condition(type, value ? Condition.Status.True : Condition.Status.False, reason, message, at));
    }
}
