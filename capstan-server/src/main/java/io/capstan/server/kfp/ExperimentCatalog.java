package io.capstan.server.kfp;

import io.capstan.core.ConflictException;
import io.capstan.core.Ids;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.Resource;
import io.capstan.store.LabelSelector;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** KFP experiments: a display name, a description and a storage state; archiving one archives its runs. */
final class ExperimentCatalog {
    static final Set<String> KEYS = Set.of("experiment_id", "name", "display_name", "description", "created_at", "storage_state");

    enum StorageState { AVAILABLE, ARCHIVED }

    private final KfpStore store;
    private final RunCatalog runs;

    ExperimentCatalog(KfpStore store, RunCatalog runs) {
        this.store = store;
        this.runs = runs;
    }

    /** Creates the experiment in {@code namespace}, where its display name must be new. */
    KfpWire.Experiment create(KfpWire.Experiment request, String namespace) {
        var name = PipelineCatalog.firstNonBlank(request.displayName());
        if (name.isEmpty()) throw InvalidSpecException.of("display_name", "an experiment needs a display_name");
        boolean taken = store.all(KfpKinds.EXPERIMENT, namespace, LabelSelector.EVERYTHING).stream()
                .anyMatch(r -> KfpStore.text(r.spec(), "displayName").equals(name));
        if (taken) throw new ConflictException("an experiment named '" + Names.printable(name) + "' already exists in namespace '"
                + namespace + "'; pick another display_name");
        var spec = Json.json().createObjectNode();
        spec.put("displayName", name);
        spec.put("description", request.description() == null ? "" : request.description());
        spec.put("storageState", StorageState.AVAILABLE.name());
        return experiment(store.create(KfpKinds.EXPERIMENT_KIND, namespace, Ids.uid(), spec, Map.of(), Map.of()));
    }

    KfpWire.Experiment get(String id) {
        return experiment(store.get(KfpKinds.EXPERIMENT, id, "experiment"));
    }

    ListRequest.Page<KfpWire.Experiment> list(ListRequest request, ListRequest.Scope scope) {
        var rows = store.all(KfpKinds.EXPERIMENT, scope, LabelSelector.EVERYTHING).stream().map(r -> {
            var e = experiment(r);
            var m = new LinkedHashMap<String, Object>();
            m.put("experiment_id", e.experimentId());
            m.put("name", e.displayName());
            m.put("display_name", e.displayName());
            m.put("description", e.description());
            m.put("created_at", KfpStore.created(r));
            m.put("storage_state", e.storageState());
            return new ListRequest.Row<>(e, e.experimentId(), (Map<String, Object>) m);
        }).toList();
        return request.page(rows);
    }

    void delete(String id) {
        store.delete(store.get(KfpKinds.EXPERIMENT, id, "experiment").key());
    }

    /** Archives the experiment and every run in it, as KFP does. */
    void archive(String id) {
        setState(id, StorageState.ARCHIVED);
        runs.setStorageStateOfExperiment(store.get(KfpKinds.EXPERIMENT, id, "experiment").metadata().namespace(), id, StorageState.ARCHIVED);
    }

    /** Unarchives the experiment only; its runs stay archived until unarchived one by one, as in KFP. */
    void unarchive(String id) {
        setState(id, StorageState.AVAILABLE);
    }

    private void setState(String id, StorageState state) {
        store.mutate(store.get(KfpKinds.EXPERIMENT, id, "experiment").key(), r -> {
            var spec = r.spec();
            spec.put("storageState", state.name());
            return r.withSpec(spec);
        });
    }

    private static KfpWire.Experiment experiment(Resource r) {
        var s = r.spec();
        return new KfpWire.Experiment(r.metadata().name(), KfpStore.text(s, "displayName"), KfpStore.text(s, "description"),
                KfpStore.created(r).toString(), r.metadata().namespace(), s.path("storageState").asText(StorageState.AVAILABLE.name()), null);
    }
}
