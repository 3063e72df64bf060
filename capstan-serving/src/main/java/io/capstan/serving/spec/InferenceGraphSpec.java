package io.capstan.serving.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A KServe {@code InferenceGraph} (serving.kserve.io/v1alpha1): named router nodes, starting at {@code root}. */
public record InferenceGraphSpec(Map<String, Node> nodes) {

    public enum RouterType { Sequence, Splitter, Ensemble, Switch }

    public InferenceGraphSpec {
        nodes = Map.copyOf(nodes);
    }

    public record Node(RouterType routerType, List<Step> steps) {
        public Node {
            steps = List.copyOf(steps);
        }
    }

    /**
     * One step: a call to an InferenceService ({@code serviceName}), another node ({@code nodeName})
     * or a URL ({@code serviceUrl}).
     *
     * @param data "$request" to pass the graph's request, "$response" (the default in a Sequence) for the previous step's answer
     * @param condition for Switch: a GJSON-style condition such as {@code instances.#(x>1)} or a {@code field==value} test
     * @param hard whether a failure of this step fails the graph (dependency: Hard)
     */
    public record Step(String name, String serviceName, String nodeName, String serviceUrl, String data, int weight,
                       String condition, boolean hard) {
    }

    public static InferenceGraphSpec parse(ObjectNode spec, Problems problems) {
        var nodesNode = spec.get("nodes");
        if (nodesNode == null || !nodesNode.isObject()) {
            problems.add("spec.nodes", nodesNode == null ? "is required, with a root node" : "expected a map of nodes");
            return null;
        }
        if (!nodesNode.has("root")) problems.add("spec.nodes.root", "is required: the graph starts at node 'root'");
        var nodes = new LinkedHashMap<String, Node>();
        int before = problems.errors().size();
        nodesNode.fields().forEachRemaining(e -> {
            var node = node(e.getValue(), "spec.nodes." + e.getKey(), problems);
            if (node != null) nodes.put(e.getKey(), node);
        });
        for (var entry : nodes.entrySet()) {
            var steps = entry.getValue().steps();
            for (int i = 0; i < steps.size(); i++) {
                var target = steps.get(i).nodeName();
                if (target != null && !nodesNode.has(target)) {
                    problems.add("spec.nodes." + entry.getKey() + ".steps[" + i + "].nodeName", "names no node of this graph: '"
                            + io.capstan.core.Names.printable(target) + "'");
                }
            }
        }
        if (problems.errors().size() == before) {
            for (var name : nodes.keySet()) {
                if (cyclic(name, nodes, new HashSet<>())) {
                    problems.add("spec.nodes." + name, "is part of a cycle of nodeName references");
                    break;
                }
            }
        }
        return problems.errors().size() > before ? null : new InferenceGraphSpec(nodes);
    }

    private static boolean cyclic(String name, Map<String, Node> nodes, Set<String> path) {
        if (!path.add(name)) return true;
        var node = nodes.get(name);
        if (node != null) {
            for (var step : node.steps()) {
                if (step.nodeName() != null && cyclic(step.nodeName(), nodes, path)) return true;
            }
        }
        path.remove(name);
        return false;
    }

    private static Node node(JsonNode node, String at, Problems problems) {
        if (!node.isObject()) {
            problems.add(at, "expected an object with routerType and steps");
            return null;
        }
        var typeName = SpecFields.string(node.get("routerType"), at + ".routerType", InferenceServiceSpec.MAX_STRING, problems);
        RouterType type = null;
        if (typeName.isEmpty()) {
            if (!node.has("routerType")) problems.add(at + ".routerType", "is required: Sequence, Splitter, Ensemble or Switch");
        } else {
            try {
                type = RouterType.valueOf(typeName.get());
            } catch (IllegalArgumentException e) {
                problems.add(at + ".routerType", "'" + io.capstan.core.Names.printable(typeName.get())
                        + "' is not one of Sequence, Splitter, Ensemble, Switch");
            }
        }
        var stepsNode = node.get("steps");
        if (stepsNode == null || !stepsNode.isArray() || stepsNode.isEmpty()) {
            problems.add(at + ".steps", "expected a non-empty list of steps");
            return null;
        }
        var steps = new ArrayList<Step>();
        int weights = 0;
        for (int i = 0; i < stepsNode.size(); i++) {
            var s = stepsNode.get(i);
            var sat = at + ".steps[" + i + "]";
            if (!s.isObject()) {
                problems.add(sat, "expected an object");
                continue;
            }
            var service = SpecFields.string(s.get("serviceName"), sat + ".serviceName", InferenceServiceSpec.MAX_STRING, problems).orElse(null);
            var target = SpecFields.string(s.get("nodeName"), sat + ".nodeName", InferenceServiceSpec.MAX_STRING, problems).orElse(null);
            var url = SpecFields.string(s.get("serviceUrl"), sat + ".serviceUrl", InferenceServiceSpec.MAX_STRING, problems).orElse(null);
            int given = (service != null ? 1 : 0) + (target != null ? 1 : 0) + (url != null ? 1 : 0);
            if (given != 1) problems.add(sat, "needs exactly one of serviceName, nodeName or serviceUrl");
            var data = SpecFields.string(s.get("data"), sat + ".data", InferenceServiceSpec.MAX_STRING, problems).orElse(null);
            if (data != null && !data.equals("$request") && !data.equals("$response")) {
                problems.add(sat + ".data", "must be $request or $response");
            }
            int weight = SpecFields.integerOrString(s.get("weight"), sat + ".weight", 0, 100, problems).orElse(0);
            weights += weight;
            var condition = SpecFields.string(s.get("condition"), sat + ".condition", InferenceServiceSpec.MAX_STRING, problems).orElse(null);
            var dependency = SpecFields.string(s.get("dependency"), sat + ".dependency", InferenceServiceSpec.MAX_STRING, problems).orElse("Soft");
            if (!dependency.equals("Soft") && !dependency.equals("Hard")) problems.add(sat + ".dependency", "must be Soft or Hard");
            if (type == RouterType.Splitter && !s.has("weight")) problems.add(sat + ".weight", "is required in a Splitter");
            steps.add(new Step(SpecFields.string(s.get("name"), sat + ".name", InferenceServiceSpec.MAX_STRING, problems).orElse("step" + i), service, target, url, data,
                    weight, condition, dependency.equals("Hard")));
        }
        if (type == RouterType.Splitter && weights != 100) problems.add(at + ".steps", "Splitter weights must sum to 100, got " + weights);
        return type == null ? null : new Node(type, steps);
    }
}
