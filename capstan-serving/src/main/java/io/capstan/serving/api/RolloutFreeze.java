package io.capstan.serving.api;

import java.util.Optional;

/**
 * Holds canary rollouts where they are: while it gives a reason for an InferenceService, no rollout of it advances a
 * step or promotes (a failing canary is still rolled back). The SLO work implements it as "a page alert fires".
 */
@FunctionalInterface
public interface RolloutFreeze {
    RolloutFreeze NEVER = (namespace, inferenceService) -> Optional.empty();

    /** Why rollouts of this InferenceService may not advance now; empty when they may. */
    Optional<String> frozen(String namespace, String inferenceService);
}
