package io.capstan.server.http;

import io.capstan.core.security.Caller;
import io.capstan.security.AuditLog;
import io.capstan.serving.http.InferenceAccess;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.Set;

/**
 * Writes one audit record per mutating API request and per refused request (401, 403, a foreign Origin or a Host
 * not allowed), once the answer is known, and counts them as {@code capstan_audit_records_total{verb,outcome}} and
 * refusals as {@code capstan_auth_failures_total{reason}}. Inference calls are audited only when refused: they change
 * nothing, and a record per call would write as many rows as a model answers calls (tens of thousands a second).
 * A record that cannot be written is logged and counted as {@code capstan_audit_write_failures_total}; the request's
 * answer has gone out by then and is not changed.
 */
public final class AuditFilter implements Filter {
    private static final System.Logger LOG = System.getLogger(AuditFilter.class.getName());
    public static final String ANONYMOUS = "system:anonymous";
    private static final Set<Method> MUTATING = Set.of(Method.POST, Method.PUT, Method.PATCH, Method.DELETE);

    private final AuditLog log;
    private final MeterRegistry meters;
    private final Clock clock;
    private final Counter writeFailures;

    public AuditFilter(AuditLog log, MeterRegistry meters, Clock clock) {
        this.log = log;
        this.meters = meters;
        this.clock = clock;
        this.writeFailures = Counter.builder("capstan.audit.write.failures")
                .description("Audit records that could not be written to the database").register(meters);
        // Registered up front, so that the SLI's series exists before the first refusal.
        Counter.builder("capstan.auth.failures").tag("reason", Denial.MISSING).register(meters);
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        // Read before routing: a route registered under a prefix sees the path without it.
        var method = req.prologue().method();
        var path = req.path().path();
        var namespace = req.query().first("namespace").orElse("");
        try {
            chain.proceed();
        } finally {
            record(req, method, path, namespace, res.status().code());
        }
    }

    private void record(RoutingRequest req, Method method, String path, String queryNamespace, int status) {
        var denial = req.context().get(Denial.class).map(Denial::reason)
                .orElse(status == 401 ? Denial.INVALID : status == 403 ? Denial.FORBIDDEN : "");
        boolean denied = !denial.isEmpty() && (status == 401 || status == 403 || status == 421);
        boolean mutating = MUTATING.contains(method) && !InferenceAccess.isInferencePath(path) && path.startsWith("/apis/");
        if (!denied && !mutating) return;
        if (denied) Counter.builder("capstan.auth.failures").tag("reason", denial).register(meters).increment();
        var target = Target.of(method, path, queryNamespace);
        var outcome = denied ? "denied" : status < 400 ? "success" : "failure";
        Counter.builder("capstan.audit.records").tag("verb", target.verb()).tag("outcome", outcome).register(meters).increment();
        var user = req.context().get(Caller.class).map(Caller::user).orElse(ANONYMOUS);
        try {
            log.record(new AuditLog.Entry(0, clock.instant(), user, target.verb(), method.text(), path, target.namespace(),
                    target.resource(), target.name(), status, outcome, denied ? denial : ""));
        } catch (RuntimeException e) {
            writeFailures.increment();
            LOG.log(Level.ERROR, "cannot write the audit record of " + method.text() + " " + path + " by " + user + " (" + status + ")", e);
        }
    }

    /** Records a gRPC call refused for want of a valid token. */
    public void grpcDenied(String method, String namespace, String model, String reason) {
        Counter.builder("capstan.auth.failures").tag("reason", reason).register(meters).increment();
        Counter.builder("capstan.audit.records").tag("verb", "infer").tag("outcome", "denied").register(meters).increment();
        try {
            log.record(new AuditLog.Entry(0, clock.instant(), ANONYMOUS, "infer", "GRPC", "/" + method, namespace,
                    model.isEmpty() ? "" : "inferenceservices", model, 401, "denied", reason));
        } catch (RuntimeException e) {
            writeFailures.increment();
            LOG.log(Level.ERROR, "cannot write the audit record of the refused gRPC call " + method, e);
        }
    }

    /** What a request acted on, read from its method and path. */
    record Target(String verb, String namespace, String resource, String name) {
        static Target of(Method method, String path, String queryNamespace) {
            var segments = path.split("/");
            // "", "apis", group..., then the rest
            if (path.startsWith("/apis/capstan/v1/")) {
                var rest = java.util.Arrays.copyOfRange(segments, 4, segments.length);
                if (rest.length == 1 && rest[0].equals("apply")) return new Target("apply", queryNamespace, "", "");
                if (rest.length >= 3 && rest[0].equals("namespaces")) {
                    var name = rest.length >= 4 ? rest[3] : "";
                    var resource = rest[2] + (rest.length >= 5 ? "/" + rest[4] : "");
                    return new Target(verb(method, !name.isEmpty() && rest.length < 5), rest[1], resource, name);
                }
                var name = rest.length >= 2 ? rest[1] : "";
                return new Target(verb(method, !name.isEmpty()), queryNamespace, rest.length >= 1 ? rest[0] : "", name);
            }
            if (path.startsWith("/apis/v2beta1/")) {
                var rest = java.util.Arrays.copyOfRange(segments, 3, segments.length);
                var collection = rest.length >= 1 ? rest[0] : "";
                if (collection.equals("pipelines") && rest.length == 2 && rest[1].startsWith("upload")) {
                    return new Target("upload", queryNamespace, collection, "");
                }
                var last = rest.length >= 2 ? rest[rest.length - 1] : "";
                int colon = last.lastIndexOf(':');
                if (colon > 0 && method.equals(Method.POST)) {
                    return new Target(last.substring(colon + 1), queryNamespace, collection, last.substring(0, colon));
                }
                return new Target(verb(method, rest.length >= 2), queryNamespace, collection, rest.length >= 2 ? rest[1] : "");
            }
            if (InferenceAccess.isInferencePath(path)) {
                var model = InferenceAccess.modelOf(path);
                return new Target(method.equals(Method.POST) ? "infer" : "get", model.map(InferenceAccess.ModelRef::namespace).orElse(""),
                        model.isPresent() ? "inferenceservices" : "", model.map(InferenceAccess.ModelRef::name).orElse(""));
            }
            return new Target(verb(method, false), "", "", "");
        }

        private static String verb(Method method, boolean named) {
            return switch (method.text()) {
                case "POST" -> "create";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                case "DELETE" -> "delete";
                case "GET", "HEAD" -> named ? "get" : "list";
                default -> method.text().toLowerCase(java.util.Locale.ROOT);
            };
        }
    }
}
