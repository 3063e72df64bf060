package io.capstan.monitoring;

import io.capstan.core.Problems;
import io.capstan.monitoring.slo.ServiceLevelObjectiveSpec;
import io.capstan.serving.api.RolloutFreeze;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import java.util.Optional;

/**
 * No canary rollout of an InferenceService advances while a page alert of one of its ServiceLevelObjectives
 * (availability or latency) fires, as the reconciler last recorded it in the SLO's status.
 */
public final class SloRolloutFreeze implements RolloutFreeze {
    private final ResourceStore store;

    public SloRolloutFreeze(ResourceStore store) {
        this.store = store;
    }

    @Override
    public Optional<String> frozen(String namespace, String inferenceService) {
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(MonitoringKinds.SERVICE_LEVEL_OBJECTIVE, Optional.of(namespace), LabelSelector.EVERYTHING,
                    ListQuery.MAX_LIMIT, token));
            for (var slo : page.items()) {
                if (!slo.status().phase().equals("Paging")) continue;
                var spec = ServiceLevelObjectiveSpec.parse(slo.spec(), new Problems());
                if (spec != null && inferenceService.equals(targetOf(spec.sli()))) {
                    return Optional.of("the ServiceLevelObjective " + namespace + "/" + slo.metadata().name() + " pages (its error budget burns fast)");
                }
            }
            token = page.continueToken();
        } while (token.isPresent());
        return Optional.empty();
    }

    private static String targetOf(ServiceLevelObjectiveSpec.Sli sli) {
        return switch (sli) {
            case ServiceLevelObjectiveSpec.Availability a -> a.inferenceService();
            case ServiceLevelObjectiveSpec.Latency l -> l.inferenceService();
            default -> null;
        };
    }
}
