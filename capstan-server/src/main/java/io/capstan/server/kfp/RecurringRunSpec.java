package io.capstan.server.kfp;

import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.ResourceParser;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;

/**
 * Spec of a {@code RecurringRun}: what to run (a pipeline version, or an inline pipeline), with which parameters,
 * and when.
 *
 * @param irText         the inline pipeline; empty when {@code pipelineVersionId} names what to run
 * @param startTime      no tick before this; {@link Instant#MIN} when unset
 * @param endTime        no tick after this; {@link Instant#MAX} when unset
 * @param maxConcurrency how many of its runs may be unfinished at once; a tick waits while that many are
 * @param noCatchup      after downtime, run only the latest missed tick instead of every one
 */
record RecurringRunSpec(String pipelineId, String pipelineVersionId, String irText, ObjectNode parameters,
                        Trigger trigger, Instant startTime, Instant endTime, int maxConcurrency,
                        boolean noCatchup, Mode mode, String experimentId) {
    static final int MAX_CONCURRENCY_LIMIT = 10;

    RecurringRunSpec {
        Objects.requireNonNull(pipelineId, "pipelineId");
        Objects.requireNonNull(pipelineVersionId, "pipelineVersionId");
        Objects.requireNonNull(irText, "irText");
        Objects.requireNonNull(startTime, "startTime");
        Objects.requireNonNull(endTime, "endTime");
        parameters = parameters.deepCopy();
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(experimentId, "experimentId");
    }

    enum Mode { ENABLE, DISABLE }

    /** When ticks fall. */
    sealed interface Trigger permits Cron, Periodic {
        /** The first tick strictly after {@code after}. */
        Instant next(Instant after);
    }

    /**
     * KFP's cron: six fields, seconds first ({@code sec min hour day-of-month month day-of-week}), both day fields
     * allowed at once as in robfig/cron, which KFP's scheduler uses; times are UTC.
     */
    record Cron(String expression) implements Trigger {
        private static final CronDefinition DEFINITION = CronDefinitionBuilder.defineCron()
                .withSeconds().and()
                .withMinutes().and()
                .withHours().and()
                .withDayOfMonth().supportsL().supportsW().supportsLW().supportsQuestionMark().and()
                .withMonth().and()
                .withDayOfWeek().withValidRange(0, 7).withMondayDoWValue(1).withIntMapping(7, 0).supportsHash().supportsL().supportsQuestionMark().and()
                .instance();
        private static final CronParser PARSER = new CronParser(DEFINITION);

        Cron {
            Objects.requireNonNull(expression, "expression");
        }

        /** @throws IllegalArgumentException naming the problem when the expression is not a 6-field cron */
        static Cron parse(String text) {
            var fields = text.trim().split("\\s+");
            if (fields.length != 6) {
                throw new IllegalArgumentException("cron '" + text + "' has " + fields.length
                        + " fields; KFP uses 6, seconds first, as in '0 0 * * * *' for every hour");
            }
            PARSER.parse(text.trim()).validate();
            return new Cron(text.trim());
        }

        @Override
        public Instant next(Instant after) {
            var time = ExecutionTime.forCron(PARSER.parse(expression));
            return time.nextExecution(ZonedDateTime.ofInstant(after, ZoneOffset.UTC)).map(ZonedDateTime::toInstant)
                    .orElse(Instant.MAX);
        }
    }

    record Periodic(Duration interval) implements Trigger {
        Periodic {
            if (!interval.isPositive()) throw new IllegalArgumentException("interval_second must be > 0, got " + interval.toSeconds());
        }

        @Override
        public Instant next(Instant after) {
            return after.plus(interval);
        }
    }

    static void validate(ObjectNode spec, Problems problems) {
        read(spec, problems);
    }

    static RecurringRunSpec of(ObjectNode spec) {
        var problems = new Problems();
        var read = read(spec, problems);
        problems.throwIfAny();
        return read;
    }

    private static RecurringRunSpec read(ObjectNode spec, Problems problems) {
        var pipelineId = spec.path("pipelineId").asText("");
        var versionId = spec.path("pipelineVersionId").asText("");
        var inlineNode = spec.path("pipelineSpec");
        var inline = inlineNode.isTextual() ? inlineNode.asText() : inlineNode.isObject() ? inlineNode.toString() : "";
        if (versionId.isEmpty() && inline.isBlank()) {
            problems.add("spec.pipelineVersionId", "required: a pipeline version (pipeline_version_reference) or an inline pipeline_spec");
        }
        var params = spec.get("parameters");
        ObjectNode parameters = params instanceof ObjectNode o ? o : io.capstan.core.Json.json().createObjectNode();
        if (params != null && !params.isNull() && !params.isObject()) {
            problems.add("spec.parameters", "expected a map of parameter name to value, got " + ResourceParser.describe(params));
        }
        Trigger trigger = null;
        var t = spec.path("trigger");
        try {
            if (t.hasNonNull("cron")) trigger = Cron.parse(t.get("cron").asText());
            else if (t.hasNonNull("intervalSeconds")) trigger = new Periodic(Duration.ofSeconds(t.get("intervalSeconds").asLong()));
            else problems.add("spec.trigger", "required: a cron schedule or a periodic interval in seconds");
        } catch (IllegalArgumentException e) {
            problems.add(t.hasNonNull("cron") ? "spec.trigger.cron" : "spec.trigger.intervalSeconds", e.getMessage());
        }
        var start = instant(t, "startTime", problems).orElse(Instant.MIN);
        var end = instant(t, "endTime", problems).orElse(Instant.MAX);
        int max = spec.path("maxConcurrency").asInt(1);
        if (max < 1 || max > MAX_CONCURRENCY_LIMIT) {
            problems.add("spec.maxConcurrency", "max_concurrency must be from 1 to " + MAX_CONCURRENCY_LIMIT + ", got " + spec.path("maxConcurrency"));
        }
        Mode mode = Mode.ENABLE;
        var modeText = spec.path("mode").asText("ENABLE");
        try {
            mode = Mode.valueOf(modeText);
        } catch (IllegalArgumentException e) {
            problems.add("spec.mode", "mode must be ENABLE or DISABLE, got '" + modeText + "'");
        }
        if (!problems.isEmpty()) return null;
        return new RecurringRunSpec(pipelineId, versionId, inline, parameters, trigger, start, end, max,
                spec.path("noCatchup").asBoolean(false), mode, spec.path("experimentId").asText(""));
    }

    private static Optional<Instant> instant(JsonNode trigger, String field, Problems problems) {
        var v = trigger.path(field).asText("");
        if (v.isEmpty()) return Optional.empty();
        try {
            return Optional.of(Instant.parse(v));
        } catch (DateTimeParseException e) {
            problems.add("spec.trigger." + field, "expected an RFC 3339 time such as 2026-01-01T00:00:00Z, got '" + v + "'");
            return Optional.empty();
        }
    }
}
