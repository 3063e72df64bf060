package io.capstan.monitoring;

import io.capstan.core.ResourceKind;
import io.capstan.monitoring.internal.ModelMonitorReconciler;
import io.capstan.serving.Serving;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;

/**
 * Model monitoring, assembled: the {@code monitoring.capstan.io} kinds and their reconcilers.
 *
 * <pre>{@code
 * var monitoring = new Monitoring(store, serving, meters, clock);
 * kinds.addAll(Monitoring.kinds());
 * monitoring.reconcilers().forEach(runtime::register);
 * }</pre>
 */
public final class Monitoring {
    private final List<Reconciler> reconcilers;
    private final ModelMonitorReconciler monitors;

    public Monitoring(ResourceStore store, Serving serving, MeterRegistry meters, Clock clock) {
        this(store, serving, meters, clock, null, RetrainingHooks.NONE);
    }

    /** Monitoring whose ModelMonitors act on {@code spec.actions}: drifted windows go to {@code artifacts}, models through {@code hooks}. */
    public Monitoring(ResourceStore store, Serving serving, MeterRegistry meters, Clock clock, io.capstan.artifacts.ArtifactStore artifacts,
                      RetrainingHooks hooks) {
        this(store, serving, meters, clock, artifacts, hooks, null, ReferenceResolver.NONE);
    }

    /**
     * Monitoring that also reads reference datasets from the stores {@code locator} reaches ({@code s3://},
     * {@code capstan://}) and from pipeline and registry artifacts through {@code resolver}.
     */
    public Monitoring(ResourceStore store, Serving serving, MeterRegistry meters, Clock clock, io.capstan.artifacts.ArtifactStore artifacts,
                      RetrainingHooks hooks, io.capstan.artifacts.ArtifactLocator locator, ReferenceResolver resolver) {
        this.monitors = new ModelMonitorReconciler(store, serving, meters, clock, artifacts, hooks, locator, resolver);
        this.reconcilers = List.of(monitors,
                new io.capstan.monitoring.internal.ServiceLevelObjectiveReconciler(store, meters, clock));
    }

    /** ModelMonitor and ServiceLevelObjective. */
    public static List<ResourceKind> kinds() {
        return MonitoringKinds.all();
    }

    public List<Reconciler> reconcilers() {
        return reconcilers;
    }

    /** Canaries' training reference: the reference of a ModelMonitor of their InferenceService, for the rollout's inputDrift check. */
    public io.capstan.serving.api.CanaryInputReference canaryInputReference() {
        return monitors::referenceOf;
    }
}
