package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tasks of a pipeline's root DAG and the edges between them, read from the KFP IR. A ParallelFor (a task with an
 * iterator) and a nested DAG are one node each; the run page counts their iterations and children.
 *
 * @param key a digest of the structure, the same for every run of the same pipeline version: the layout cache's key
 */
record Dag(List<Node> nodes, List<Edge> edges, String key) {
    enum Kind { TASK, LOOP, DAG }

    record Node(String name, String component, Kind kind) {
    }

    record Edge(String from, String to) {
    }

    Dag {
        nodes = List.copyOf(nodes);
        edges = List.copyOf(edges);
    }

    /** The root DAG of {@code pipelineSpec}: the IR as an object, as YAML or JSON text, or wrapped in {@code pipelineSpec}. */
    static Dag of(JsonNode pipelineSpec) {
        var spec = ir(pipelineSpec);
        var tasks = spec.path("root").path("dag").path("tasks");
        var components = spec.path("components");
        var nodes = new ArrayList<Node>();
        var edges = new LinkedHashSet<Edge>();
        var names = new java.util.HashSet<String>();
        tasks.fieldNames().forEachRemaining(names::add);
        for (var e : (Iterable<Map.Entry<String, JsonNode>>) tasks::fields) {
            var task = e.getValue();
            var component = task.path("componentRef").path("name").asText("");
            Kind kind;
            if (task.has("parameterIterator") || task.has("artifactIterator") || task.has("iteratorPolicy")) kind = Kind.LOOP;
            else if (components.path(component).has("dag")) kind = Kind.DAG;
            else kind = Kind.TASK;
            nodes.add(new Node(e.getKey(), component, kind));
            for (var dep : task.path("dependentTasks")) addEdge(edges, names, dep.asText(), e.getKey());
            for (var group : List.of("parameters", "artifacts")) {
                for (var input : task.path("inputs").path(group)) {
                    addEdge(edges, names, input.path("taskOutputParameter").path("producerTask").asText(""), e.getKey());
                    addEdge(edges, names, input.path("taskOutputArtifact").path("producerTask").asText(""), e.getKey());
                }
            }
        }
        return new Dag(nodes, new ArrayList<>(edges), digest(nodes, edges));
    }

    private static void addEdge(Set<Edge> edges, Set<String> names, String from, String to) {
        if (!from.isEmpty() && !from.equals(to) && names.contains(from)) edges.add(new Edge(from, to));
    }

    static JsonNode ir(JsonNode pipelineSpec) {
        var spec = pipelineSpec;
        if (spec.isTextual()) {
            try {
                spec = Json.yaml().readTree(spec.asText());
            } catch (IOException e) {
                return Json.json().createObjectNode();
            }
        }
        if (spec == null) return Json.json().createObjectNode();
        if (!spec.has("root") && spec.has("pipelineSpec")) spec = spec.get("pipelineSpec");
        return spec;
    }

    private static String digest(List<Node> nodes, Set<Edge> edges) {
        try {
            var md = MessageDigest.getInstance("SHA-256");
            for (var n : nodes) md.update((n.name() + '\u0000' + n.kind() + '\n').getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            for (var e : edges) md.update((e.from() + '\u0000' + e.to() + '\n').getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    Map<String, Node> byName() {
        var map = new LinkedHashMap<String, Node>();
        nodes.forEach(n -> map.put(n.name(), n));
        return map;
    }
}
