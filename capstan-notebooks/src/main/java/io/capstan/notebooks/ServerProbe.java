package io.capstan.notebooks;

import java.time.Instant;
import java.util.Optional;

/** How the controllers ask a notebook's server whether it answers (readiness) and when it last saw activity (culling). */
interface ServerProbe {

    /**
     * What the server says of itself.
     *
     * @param kernels     Jupyter kernels running, which the culler asks about once the server alone looks idle; 0 elsewhere
     * @param connections Jupyter's open connections; 0 elsewhere
     */
    record Status(Instant lastActivity, int kernels, int connections) {
    }

    /** The status, or empty while the server does not answer 200 (starting, or gone). */
    Optional<Status> status(Upstream upstream);
}
