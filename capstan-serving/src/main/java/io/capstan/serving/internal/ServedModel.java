package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.ModelNotFoundException;
import io.capstan.serving.api.ModelNotReadyException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** One InferenceService as the endpoint sees it: its current route, swapped atomically on rollout. */
public final class ServedModel {
    private static final System.Logger LOG = System.getLogger(ServedModel.class.getName());

    private final String namespace;
    private final String name;
    private volatile Route route = Route.NONE;
    private volatile String notReadyReason = "the model is loading";
    private volatile int maxRequestBytes;
    private volatile boolean allowsAnonymous;
    /** Set while a monitor reads this model's payloads; null otherwise, so an unwatched model pays one volatile read. */
    private volatile io.capstan.serving.api.PayloadTap tap;

    ServedModel(String namespace, String name) {
        this.namespace = namespace;
        this.name = name;
    }

    public String name() {
        return name;
    }

    public String namespace() {
        return namespace;
    }

    public Route route() {
        return route;
    }

    /** Switches traffic; requests already running on the old route finish there. */
    public void route(Route next) {
        this.route = next;
    }

    /** Why the model cannot answer while it has no route, e.g. a failed load. */
    public void notReadyReason(String reason) {
        this.notReadyReason = reason;
    }

    /** The largest request body this model accepts, in bytes; 0 for the server's default. */
    public int maxRequestBytes() {
        return maxRequestBytes;
    }

    public void maxRequestBytes(int bytes) {
        this.maxRequestBytes = bytes;
    }

    /** Whether callers without a token may reach this model. */
    public boolean allowsAnonymous() {
        return allowsAnonymous;
    }

    public void allowsAnonymous(boolean anonymous) {
        this.allowsAnonymous = anonymous;
    }

    /** Records every answered request (not the shadow's) into {@code tap}; null stops recording. */
    public void tap(io.capstan.serving.api.PayloadTap tap) {
        this.tap = tap;
    }

    public boolean ready() {
        return !route.targets().isEmpty();
    }

    /** Every revision that is taking traffic (not the shadow), newest first. */
    public List<Revision> revisions() {
        var out = new ArrayList<Revision>();
        for (var t : route.targets()) if (!out.contains(t.revision())) out.add(t.revision());
        out.sort((a, b) -> Integer.compare(b.number(), a.number()));
        return out;
    }

    /** The revision a version addresses; null or empty means the one with the most traffic. */
    public Revision revision(String version) {
        var current = route;
        if (version == null || version.isEmpty()) {
            if (current.targets().isEmpty()) throw notReady();
            return current.targets().stream().max((a, b) -> a.percent() != b.percent()
                    ? Integer.compare(a.percent(), b.percent()) : Integer.compare(a.revision().number(), b.revision().number()))
                    .orElseThrow().revision();
        }
        for (var t : current.targets()) {
            if (t.revision().version().equals(version)) return t.revision();
        }
        if (current.shadow() != null && current.shadow().version().equals(version)) return current.shadow();
        throw new ModelNotFoundException("model '" + name + "' in namespace '" + namespace + "' has no ready version '"
                + OipSafe.printable(version) + "'; ready versions: " + revisions().stream().map(Revision::version).toList());
    }

    public InferenceResponse infer(String version, InferenceRequest request) {
        ModelNotReadyException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            var current = route;
            var target = version == null || version.isEmpty() ? pick(current) : null;
            var revision = target != null ? target.revision() : revision(version);
            var cohort = target == null || current.cohorts() == null ? null : target.cohort();
            long start = cohort == null ? 0 : System.nanoTime();
            try {
                var response = revision.infer(request);
                if (cohort != null) {
                    current.cohorts().answered(cohort, System.nanoTime() - start, request, response);
                    if (cohort == CanaryCohorts.Cohort.BASELINE) compareOnCanary(current, request, response);
                }
                mirror(current, request);
                if (current.logger().enabled()) current.logger().log(namespace, name, revision, request, response, false);
                var watching = tap;
                if (watching != null) watching.record(revision.version(), request, response);
                return response;
            } catch (ModelNotReadyException e) {
                // The revision was retired by a rollout between routing and running: try the new route.
                if (revision.ready() || route == current) throw e;
                last = e;
            } catch (io.capstan.serving.api.InferenceException e) {
                var error = e.error();
                if (cohort != null && (error == io.capstan.serving.api.InferenceError.MODEL_FAILED
                        || error == io.capstan.serving.api.InferenceError.OVERLOADED)) {
                    current.cohorts().error(cohort, System.nanoTime() - start);
                }
                throw e;
            }
        }
        throw last;
    }

    private Route.Target pick(Route current) {
        var targets = current.targets();
        if (targets.isEmpty()) throw notReady();
        if (targets.size() == 1) return targets.getFirst();
        int roll = ThreadLocalRandom.current().nextInt(100);
        for (var t : targets) {
            roll -= t.percent();
            if (roll < 0) return t;
        }
        return targets.getLast();
    }

    /**
     * For the rollout's agreement check: sends a copy of a baseline request, with the share the cohorts ask, to the
     * canary off the caller's thread, and records whether it answered alike. The canary's answer is discarded.
     */
    private void compareOnCanary(Route current, InferenceRequest request, InferenceResponse baseline) {
        var cohorts = current.cohorts();
        int percent = cohorts.mirrorPercent();
        if (percent <= 0 || ThreadLocalRandom.current().nextInt(100) >= percent) return;
        var canary = current.targets().stream().filter(t -> t.cohort() == CanaryCohorts.Cohort.CANARY).findFirst().orElse(null);
        if (canary == null) return;
        Thread.ofVirtual().name("capstan-canary-mirror").start(() -> {
            try {
                cohorts.compared(CanaryCohorts.alike(canary.revision().infer(request), baseline));
            } catch (RuntimeException e) {
                cohorts.compared(false);
            }
        });
    }

    private void mirror(Route current, InferenceRequest request) {
        var shadow = current.shadow();
        if (shadow == null || ThreadLocalRandom.current().nextInt(100) >= current.shadowPercent()) return;
        Thread.ofVirtual().name("capstan-shadow").start(() -> {
            try {
                var answer = shadow.infer(request);
                current.logger().log(namespace, name, shadow, request, answer, true);
                LOG.log(System.Logger.Level.DEBUG, () -> "shadow " + shadow + " answered " + answer.outputs());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "shadow " + shadow + " failed: " + e.getMessage());
            }
        });
    }

    private ModelNotReadyException notReady() {
        return new ModelNotReadyException("model '" + name + "' in namespace '" + namespace + "' is not ready: " + notReadyReason);
    }
}
