package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.ResourceKind;
import java.util.List;
import java.util.Optional;

/**
 * The kinds of this module: Katib's {@code kubeflow.org/v1beta1 Experiment} and {@code Trial}. An Experiment's spec
 * is validated in full at admission, algorithm settings included; Trials are created by the experiment controller.
 */
public final class Experiments {
    public static final String EXPERIMENT = "Experiment";
    public static final String TRIAL = "Trial";
    public static final String GROUP = "kubeflow.org";
    public static final String VERSION = "v1beta1";
    public static final String API_VERSION = GROUP + "/" + VERSION;
    /** The label Katib puts on every trial, naming its experiment. */
    public static final String EXPERIMENT_LABEL = "katib.kubeflow.org/experiment";

    public static final ResourceKind EXPERIMENT_KIND = new ResourceKind(GROUP, List.of(VERSION), EXPERIMENT, "experiments",
            List.of("experiment", "exp"), Experiments::validateExperiment);
    public static final ResourceKind TRIAL_KIND = new ResourceKind(GROUP, List.of(VERSION), TRIAL, "trials",
            List.of("trial"), TrialSpec::validate);

    private static final String WORKLOAD_PREFIX = "trial_";

    private Experiments() {
    }

    /** Both kinds, for {@code ResourceKinds.of(...)}. */
    public static List<ResourceKind> kinds() {
        return List.of(EXPERIMENT_KIND, TRIAL_KIND);
    }

    private static void validateExperiment(ObjectNode spec, Problems problems) {
        new ExperimentSpecReader(SearchCatalog.KATIB).read(spec, problems);
    }

    /** Workload ids carry the trial's uid, so that a re-created trial of the same name never meets an old workload. */
    static String workloadId(String trialUid) {
        return WORKLOAD_PREFIX + trialUid;
    }

    /** The workload of the trial's {@code attempt} (1 for the first), which is new when a lost trial is launched again. */
    static String workloadId(String trialUid, int attempt) {
        return attempt <= 1 ? workloadId(trialUid) : WORKLOAD_PREFIX + trialUid + "_" + attempt;
    }

    /** The uid of the trial that owns {@code workloadId}, or empty for workloads that are not a trial's. */
    static Optional<String> trialUidOf(String workloadId) {
        if (!workloadId.startsWith(WORKLOAD_PREFIX)) return Optional.empty();
        var rest = workloadId.substring(WORKLOAD_PREFIX.length());
        int attemptCut = rest.indexOf('_');
        return Optional.of(attemptCut < 0 ? rest : rest.substring(0, attemptCut));
    }
}
