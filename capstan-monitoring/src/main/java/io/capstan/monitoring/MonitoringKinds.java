package io.capstan.monitoring;

import io.capstan.core.ResourceKind;
import io.capstan.monitoring.internal.ModelMonitorSpec;
import java.util.List;

/** The kinds of {@code monitoring.capstan.io}, with their validators. */
public final class MonitoringKinds {
    public static final String GROUP = "monitoring.capstan.io";
    public static final String MODEL_MONITOR = "ModelMonitor";
    public static final String SERVICE_LEVEL_OBJECTIVE = "ServiceLevelObjective";

    public static final ResourceKind MODEL_MONITOR_KIND = new ResourceKind(GROUP, List.of("v1alpha1"), MODEL_MONITOR,
            "modelmonitors", List.of("mm", "monitor"), (spec, problems) -> ModelMonitorSpec.parse(spec, problems));

    public static final ResourceKind SERVICE_LEVEL_OBJECTIVE_KIND = new ResourceKind(GROUP, List.of("v1alpha1"), SERVICE_LEVEL_OBJECTIVE,
            "servicelevelobjectives", List.of("slo"), (spec, problems) -> io.capstan.monitoring.slo.ServiceLevelObjectiveSpec.parse(spec, problems));

    private MonitoringKinds() {
    }

    /** Every kind of this module, to add to the server's {@code ResourceKinds}. */
    public static List<ResourceKind> all() {
        return List.of(MODEL_MONITOR_KIND, SERVICE_LEVEL_OBJECTIVE_KIND);
    }
}
