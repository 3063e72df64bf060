package io.capstan.monitoring;

import io.capstan.core.ResourceKind;
import io.capstan.monitoring.internal.ModelMonitorSpec;
import java.util.List;

/** The kinds of {@code monitoring.capstan.io}, with their validators. */
public final class MonitoringKinds {
    public static final String GROUP = "monitoring.capstan.io";
    public static final String MODEL_MONITOR = "ModelMonitor";

    public static final ResourceKind MODEL_MONITOR_KIND = new ResourceKind(GROUP, List.of("v1alpha1"), MODEL_MONITOR,
            "modelmonitors", List.of("mm", "monitor"), (spec, problems) -> ModelMonitorSpec.parse(spec, problems));

    private MonitoringKinds() {
    }

    /** Every kind of this module, to add to the server's {@code ResourceKinds}. */
    public static List<ResourceKind> all() {
        return List.of(MODEL_MONITOR_KIND);
    }
}
