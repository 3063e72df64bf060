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

    KfpWire.Experiment create(KfpWire.Experiment request) {
        var name = PipelineCatalog.firstNonBlank(request.displayName());
        if (name.isEmpty()) throw InvalidSpecException.of("display_name", "an experiment needs a display_name");
        boolean taken = store.all(KfpKinds.EXPERIMENT, LabelSelector.EVERYTHING).stream()
                .anyMatch(r -> KfpStore.text(r.spec(), "displayName").equals(name));
        if (taken) throw new ConflictException("an experiment named '" + Names.printable(name) + "' already exists; pick another display_name");
        var spec = Json.json().createObjectNode();
        spec.put("displayName", name);
        spec.put("description", request.description() == null ? "" : request.description());
        spec.put("storageState", StorageState.AVAILABLE.name());
        return experiment(store.create(KfpKinds.EXPERIMENT_KIND, Ids.uid(), spec, Map.of(), Map.of()));
    }

    KfpWire.Experiment get(String id) {
        return experiment(store.get(KfpKinds.EXPERIMENT, id, "experiment"));
    }

    ListRequest.Page<KfpWire.Experiment> list(ListRequest request) {
        var rows = store.all(KfpKinds.EXPERIMENT, LabelSelector.EVERYTHING).stream().map(r -> {
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
        store.get(KfpKinds.EXPERIMENT, id, "experiment");
        store.delete(KfpStore.key(KfpKinds.EXPERIMENT, id));
    }

    /** Archives the experiment and every run in it, as KFP does. */
    void archive(String id) {
        setState(id, StorageState.ARCHIVED);
        runs.setStorageStateOfExperiment(id, StorageState.ARCHIVED);
    }

    /** Unarchives the experiment only; its runs stay archived until unarchived one by one, as in KFP. */
    void unarchive(String id) {
        setState(id, StorageState.AVAILABLE);
    }

    private void setState(String id, StorageState state) {
        store.get(KfpKinds.EXPERIMENT, id, "experiment");
        store.mutate(KfpStore.key(KfpKinds.EXPERIMENT, id), r -> {
            var spec = r.spec();
            spec.put("storageState", state.name());
            return r.withSpec(spec);
        });
    }

    private static KfpWire.Experiment experiment(Resource r) {
        var s = r.spec();
        return new KfpWire.Experiment(r.metadata().name(), KfpStore.text(s, "displayName"), KfpStore.text(s, "description"),
                KfpStore.created(r).toString(), "", s.path("storageState").asText(StorageState.AVAILABLE.name()), null);
    }
}
