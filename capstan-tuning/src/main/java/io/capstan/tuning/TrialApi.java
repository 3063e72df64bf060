package io.capstan.tuning;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.Backend;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.TransientException;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.core.security.UnauthenticatedException;
import io.capstan.core.security.WorkloadScope;
import io.capstan.store.ResourceStore;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Objects;

/**
 * Trials over REST: Katib's Push collector, through which a running trial reports observations of its experiment's
 * metrics, and a trial's log.
 *
 * <pre>
 * POST {base}/namespaces/{namespace}/trials/{name}/observations
 * {"metrics": [{"name": "loss", "value": 0.3, "step": 1, "timestamp": "2026-01-01T00:00:00Z"}]}
 * </pre>
 *
 * {@code step} and {@code timestamp} are optional (the next step of that metric, and now). Answers 200 with
 * {@code {"accepted": n}}. Bad input throws {@link InvalidSpecException} naming the field ({@code metrics[0].value}),
 * an unknown trial {@link NotFoundException}, and a finished trial or one whose experiment does not use the Push
 * collector {@link ConflictException}; the server's problem handlers turn those into problem+json answers. Trials
 * find the URL in {@code CAPSTAN_OBSERVATION_URL}.
 *
 * <pre>
 * GET {base}/namespaces/{namespace}/trials/{name}/log?tailLines=500
 * </pre>
 *
 * answers the last lines of the trial's stdout and stderr as text; empty before the trial is launched.
 *
 * <p>Pushing needs edit in the trial's namespace, or the trial's own workload token; the log needs view there. The
 * caller is the one the server's authentication filter registered in the request's context.
 */
public final class TrialApi implements HttpService {
    public static final int MAX_BODY_BYTES = 1 << 20;
    public static final int MAX_METRICS_PER_REQUEST = 1000;
    private static final int WRITE_ATTEMPTS = 8;

    static final int DEFAULT_TAIL_LINES = 1000;
    static final int MAX_TAIL_LINES = 100_000;

    private final ResourceStore store;
    private final Backend backend;
    private final Clock clock;
    private final AccessPolicy policy;
    private final ExperimentSpecReader reader = new ExperimentSpecReader(SearchCatalog.UNCHECKED);

    public TrialApi(ResourceStore store, Backend backend, Clock clock, AccessPolicy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.store = Objects.requireNonNull(store, "store");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The URL a trial posts to, below the base this service is mounted under. */
    public static String url(String base, String namespace, String trial) {
        var b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        return b + "/namespaces/" + namespace + "/trials/" + trial + "/observations";
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/namespaces/{namespace}/trials/{name}/observations", this::push);
        rules.get("/namespaces/{namespace}/trials/{name}/log", this::log);
    }

    private void log(ServerRequest req, ServerResponse res) {
        var key = trialKey(req);
        policy.require(caller(req), key.namespace(), Role.VIEW);
        var tail = req.query().first("tailLines").orElse(Integer.toString(DEFAULT_TAIL_LINES));
        if (!tail.matches("\\d{1,9}") || Integer.parseInt(tail) > MAX_TAIL_LINES) {
            throw InvalidSpecException.of("tailLines", "expected a whole number from 0 to " + MAX_TAIL_LINES + ", got '" + Names.printable(tail) + "'");
        }
        var workload = store.get(key).status().field("workloadId").map(n -> n.asText());
        var lines = workload.filter(id -> backend.find(id).isPresent()).map(id -> backend.tail(id, Integer.parseInt(tail))).orElse(java.util.List.of());
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        try (var out = res.outputStream()) {
            for (var l : lines) {
                out.write(l.text().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.write('\n');
            }
        } catch (IOException e) {
            // The client went away mid-answer: nothing was changed, so there is nothing to undo.
        }
    }

    private static Caller caller(ServerRequest req) {
        return req.context().get(Caller.class).orElseThrow(() -> new UnauthenticatedException(
                "this endpoint needs a token: send 'Authorization: Bearer <token>'"));
    }

    private static ResourceKey trialKey(ServerRequest req) {
        var namespace = req.path().pathParameters().get("namespace");
        var name = req.path().pathParameters().get("name");
        var problems = new Problems();
        Names.checkLabel(namespace).ifPresent(m -> problems.add("namespace", m));
        Names.checkSubdomain(name).ifPresent(m -> problems.add("name", m));
        problems.throwIfAny();
        return new ResourceKey(Experiments.TRIAL, namespace, name);
    }

    private void push(ServerRequest req, ServerResponse res) {
        var key = trialKey(req);
        var namespace = key.namespace();
        var name = key.name();
        var caller = caller(req);
        if (!caller.isWorkloadScopedTo(namespace, WorkloadScope.TRIAL_OBSERVATIONS, name)) policy.require(caller, namespace, Role.EDIT);
        var body = body(req);
        for (int attempt = 1; ; attempt++) {
            var trial = store.get(key);
            var spec = experimentSpec(trial);
            var added = parse(body, spec.objective(), TrialRunner.observationsOf(trial));
            if (TrialPhase.ofStatus(trial.status().phase()).isTerminal()) {
                throw new ConflictException("trial " + namespace + "/" + name + " has finished (" + trial.status().phase()
                        + "); observations are accepted only while it runs");
            }
            var all = new ArrayList<>(TrialRunner.observationsOf(trial));
            all.addAll(added);
            if (all.size() > TrialObservations.MAX_KEPT) {
                throw new ConflictException("trial " + namespace + "/" + name + " would have " + all.size()
                        + " observations; the limit is " + TrialObservations.MAX_KEPT + "; report less often");
            }
            var next = trial.status().withField("observations", TrialObservations.toJson(all))
                    .withField("observation", TrialObservations.katibObservation(all, spec.objective()));
            try {
                store.updateStatus(key, trial.metadata().resourceVersion(), next);
            } catch (ConflictException e) {
                // The controller wrote the trial's status meanwhile; read it again and append to the new version.
                if (attempt < WRITE_ATTEMPTS) continue;
                throw new TransientException("trial " + namespace + "/" + name + " kept changing; retry the push", e);
            }
            res.status(Status.OK_200);
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.send("{\"accepted\":" + added.size() + "}");
            return;
        }
    }

    private ExperimentSpec experimentSpec(Resource trial) {
        var owner = trial.metadata().labels().get(Experiments.EXPERIMENT_LABEL);
        if (owner == null) throw new NotFoundException("trial " + trial.key() + " has no " + Experiments.EXPERIMENT_LABEL + " label");
        var experiment = store.get(new ResourceKey(Experiments.EXPERIMENT, trial.metadata().namespace(), owner));
        var spec = reader.read(experiment.spec());
        if (spec.collector().kind() != MetricsCollectorSpec.CollectorKind.PUSH) {
            throw new ConflictException("experiment " + owner + " collects metrics with " + spec.collector().kind().wire
                    + "; set spec.metricsCollectorSpec.collector.kind to Push to report observations here");
        }
        return spec;
    }

    private static JsonNode body(ServerRequest req) {
        var declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > MAX_BODY_BYTES) throw tooLarge(declared.getAsLong());
        var contentType = req.headers().contentType().map(ct -> ct.mediaType().text()).orElse("");
        if (!contentType.isEmpty() && !contentType.contains("json")) {
            throw InvalidSpecException.of("", "content type '" + Names.printable(contentType) + "' is not accepted; send application/json");
        }
        var out = new ByteArrayOutputStream();
        try (var in = req.content().inputStream()) {
            var buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                if (out.size() > MAX_BODY_BYTES) throw tooLarge(out.size());
            }
        } catch (IOException e) {
            throw new TransientException("could not read the request body: " + e.getMessage(), e);
        }
        try {
            return Json.json().readTree(out.toByteArray());
        } catch (IOException e) {
            throw InvalidSpecException.of("", "the body is not valid JSON: " + Names.printable(String.valueOf(e.getMessage())));
        }
    }

    private static InvalidSpecException tooLarge(long size) {
        return InvalidSpecException.of("", "the body has " + size + " bytes or more; the limit is " + MAX_BODY_BYTES + " (1 MiB): send fewer observations per request");
    }

    private java.util.List<Observation> parse(JsonNode body, Objective objective, java.util.List<Observation> existing) {
        var problems = new Problems();
        if (body == null || !body.isObject()) {
            throw InvalidSpecException.of("", "expected an object {\"metrics\": [{\"name\": ..., \"value\": ...}]}, got " + SpecFields.describe(body));
        }
        var metrics = body.get("metrics");
        if (metrics == null || !metrics.isArray()) throw InvalidSpecException.of("metrics", "required: a list of {name, value, step}");
        if (metrics.isEmpty()) throw InvalidSpecException.of("metrics", "is empty; report at least one observation");
        if (metrics.size() > MAX_METRICS_PER_REQUEST) {
            throw InvalidSpecException.of("metrics", "has " + metrics.size() + " entries; the limit is " + MAX_METRICS_PER_REQUEST);
        }
        var known = new HashSet<>(objective.allMetricNames());
        var steps = new HashMap<String, Long>();
        existing.forEach(o -> steps.merge(o.metric(), o.step(), Math::max));
        var out = new ArrayList<Observation>();
        var now = clock.instant();
        for (int i = 0; i < metrics.size(); i++) {
            var path = "metrics[" + i + "]";
            var item = metrics.get(i);
            if (SpecFields.requiredObject(item, path, problems).isEmpty()) continue;
            var name = SpecFields.name(item.get("name"), path + ".name", problems).orElse(null);
            if (name != null && !known.contains(name)) {
                problems.add(path + ".name", "'" + Names.printable(name) + "' is not a metric of the experiment; expected one of " + objective.allMetricNames());
                name = null;
            }
            var valueNode = item.get("value");
            var value = valueNode == null || valueNode.isNull() ? java.util.OptionalDouble.empty()
                    : SpecFields.number(valueNode, path + ".value", problems);
            if (valueNode == null || valueNode.isNull()) problems.add(path + ".value", "required: a number");
            long step = -1;
            var stepNode = item.get("step");
            if (stepNode != null && !stepNode.isNull()) {
                if (!stepNode.isIntegralNumber() || !stepNode.canConvertToLong() || stepNode.asLong() < 0) {
                    problems.add(path + ".step", "expected a whole number >= 0, got " + SpecFields.describe(stepNode));
                } else {
                    step = stepNode.asLong();
                }
            }
            Instant at = now;
            var ts = item.get("timestamp");
            if (ts != null && !ts.isNull()) {
                try {
                    at = OffsetDateTime.parse(ts.asText()).toInstant();
                } catch (DateTimeParseException e) {
                    problems.add(path + ".timestamp", "expected an RFC 3339 time such as 2026-01-01T00:00:00Z, got " + SpecFields.describe(ts));
                }
            }
            if (name == null || value.isEmpty() || !problems.isEmpty()) continue;
            long s = step >= 0 ? step : steps.getOrDefault(name, 0L) + 1;
            steps.merge(name, s, Math::max);
            out.add(new Observation(name, value.getAsDouble(), s, at));
        }
        problems.throwIfAny();
        return out;
    }
}
