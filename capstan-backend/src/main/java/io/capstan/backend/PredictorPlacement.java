package io.capstan.backend;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Set;

/**
 * Where an InferenceService revision's predictor runs when it does not run in the server's own process: on a
 * Kubernetes backend, a Deployment, Service and HorizontalPodAutoscaler per revision. Capstan's router keeps
 * splitting traffic between revisions by weight and calls the predictor at the address this gives back.
 */
public interface PredictorPlacement {

    /**
     * Creates the revision's predictor, or adopts the one already there, and says where it answers once it is
     * available. Called again until then; revisions are immutable, so each call places the same thing.
     *
     * @param spec the revision's {@code spec}
     * @return the address of its Open Inference Protocol server; empty while it is starting
     * @throws IllegalStateException when it cannot start (such as a Deployment past its progress deadline), with a
     *         sentence for the InferenceService status
     * @throws io.capstan.core.InvalidSpecException when the spec cannot be placed, naming the field
     */
    Optional<InetSocketAddress> place(String namespace, String name, int revision, JsonNode spec);

    /** Removes the predictors of InferenceService {@code namespace/name} whose revision is not in {@code revisions}. */
    void retain(String namespace, String name, Set<Integer> revisions);

    /** A backend that places predictors. */
    interface Provider {
        PredictorPlacement predictorPlacement();
    }
}
