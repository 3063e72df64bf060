package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * KFP's {@code child_tasks} of a task: the tasks of the same DAG that wait for it, through {@code dependentTasks}
 * or by taking one of its outputs, read from the run's IR. Task paths are the engine's: {@code root/<task>}, a
 * sub-DAG's tasks under the DAG task's path, and a loop iteration as {@code <loop>[i]}.
 */
final class TaskDependents {
    private TaskDependents() {
    }

    /** For each task among {@code taskPaths} that others wait for, those others, in IR order. */
    static Map<String, List<String>> of(JsonNode ir, Collection<String> taskPaths) {
        var present = new HashSet<>(taskPaths);
        var out = new LinkedHashMap<String, List<String>>();
        for (var path : taskPaths) {
            int cut = path.lastIndexOf('/');
            if (cut < 0) continue;
            var parent = path.substring(0, cut);
            var name = path.substring(cut + 1);
            var dependents = new ArrayList<String>();
            dagOf(ir, parent).path("tasks").properties().forEach(e -> {
                var child = parent + "/" + e.getKey();
                if (present.contains(child) && upstream(e.getValue()).contains(name)) dependents.add(child);
            });
            if (!dependents.isEmpty()) out.put(path, List.copyOf(dependents));
        }
        return out;
    }

    /** The DAG whose tasks sit under {@code dagPath}; a missing node when the path leads to none. */
    private static JsonNode dagOf(JsonNode ir, String dagPath) {
        var segments = dagPath.split("/");
        if (!segments[0].equals("root")) return MissingNode.getInstance();
        var dag = ir.path("root").path("dag");
        for (int i = 1; i < segments.length; i++) {
            var task = segments[i].replaceFirst("\\[\\d+]$", "");
            var component = dag.path("tasks").path(task).path("componentRef").path("name").asText("");
            dag = ir.path("components").path(component).path("dag");
        }
        return dag;
    }

    private static Set<String> upstream(JsonNode task) {
        var out = new LinkedHashSet<String>();
        task.path("dependentTasks").forEach(t -> out.add(t.asText()));
        task.path("inputs").path("parameters").forEach(p -> addProducer(out, p.path("taskOutputParameter").path("producerTask")));
        task.path("inputs").path("artifacts").forEach(a -> addProducer(out, a.path("taskOutputArtifact").path("producerTask")));
        return out;
    }

    private static void addProducer(Set<String> out, JsonNode producer) {
        if (producer.isTextual()) out.add(producer.asText());
    }
}
