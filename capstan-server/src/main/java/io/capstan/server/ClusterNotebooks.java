package io.capstan.server;

import io.capstan.core.ResourceKind;
import io.capstan.core.ResourceKinds;
import io.capstan.core.SpecValidator;
import java.util.ArrayList;

/**
 * Notebooks in Kubernetes mode run as a StatefulSet and a Service on the cluster where the workload backend offers
 * them ({@link KubernetesMode.WorkloadBackend#notebooks}); where it does not, a Notebook is refused when applied.
 */
final class ClusterNotebooks {
    private ClusterNotebooks() {
    }

    /** {@code kinds}, with Notebooks refused: this backend has no cluster to put their StatefulSets on. */
    static ResourceKinds refused(ResourceKinds kinds) {
        var out = new ArrayList<ResourceKind>();
        for (var k : kinds.all()) {
            if (!k.kind().equals(io.capstan.notebooks.Notebooks.KIND)) {
                out.add(k);
                continue;
            }
            SpecValidator both = (spec, problems) -> {
                k.validator().validate(spec, problems);
                problems.add("spec", "Notebooks cannot run on this Kubernetes backend: it has no cluster client for their StatefulSet and Service"
                        + KubernetesMode.LOCAL_ONLY + "; capstan render shows the StatefulSet and Service");
            };
            out.add(new ResourceKind(k.group(), k.versions(), k.kind(), k.plural(), k.shortNames(), both, k.foreignApiVersions()));
        }
        return ResourceKinds.of(out);
    }
}
