package io.capstan.notebooks;

import io.capstan.core.Resource;
import io.capstan.store.Reconciler;
import java.util.Optional;

/** A Notebook controller that also says where a running notebook's server answers, for the proxy. */
interface NotebookController extends Reconciler {
    /** Where the server of {@code notebook} listens, and its token; empty while it has none. */
    Optional<Upstream> upstream(Resource notebook);
}
