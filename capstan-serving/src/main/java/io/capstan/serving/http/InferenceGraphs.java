package io.capstan.serving.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.Json;
import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.ModelNotFoundException;
import io.capstan.serving.spec.InferenceGraphSpec;
import io.capstan.serving.spec.InferenceGraphSpec.Step;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * KServe InferenceGraphs, run in-process: each step calls an InferenceService through the
 * endpoint with the JSON it is given (V2 when the body has typed {@code inputs}, V1 otherwise).
 * Routers: Sequence (each step gets the previous answer, or the graph's request with
 * {@code data: $request}), Splitter (one step, by weight), Ensemble (every step at once; the answer
 * maps step names to answers) and Switch (the first step whose condition matches the request).
 */
public final class InferenceGraphs {
    private final InferenceEndpoint endpoint;
    private final V1Protocol v1;
    private final Map<String, InferenceGraphSpec> graphs = new ConcurrentHashMap<>();

    public InferenceGraphs(InferenceEndpoint endpoint) {
        this.endpoint = endpoint;
        this.v1 = new V1Protocol(endpoint);
    }

    public void put(String namespace, String name, InferenceGraphSpec graph) {
        graphs.put(namespace + "/" + name, graph);
    }

    public void remove(String namespace, String name) {
        graphs.remove(namespace + "/" + name);
    }

    public JsonNode run(String namespace, String name, JsonNode request) {
        var graph = graphs.get(namespace + "/" + name);
        if (graph == null) throw new ModelNotFoundException("no InferenceGraph '" + name + "' in namespace '" + namespace + "'");
        return node(namespace, graph, "root", request, 0);
    }

    private JsonNode node(String namespace, InferenceGraphSpec graph, String nodeName, JsonNode request, int depth) {
        if (depth > 32) throw new InvalidInputException("the graph nests nodes more than 32 deep");
        var node = graph.nodes().get(nodeName);
        return switch (node.routerType()) {
            case Sequence -> {
                JsonNode current = request;
                for (var step : node.steps()) {
                    var input = "$request".equals(step.data()) ? request : current == request ? request : asRequest(current);
                    current = step(namespace, graph, step, input, depth);
                }
                yield current;
            }
            case Splitter -> {
                int roll = ThreadLocalRandom.current().nextInt(100);
                Step chosen = node.steps().getLast();
                for (var step : node.steps()) {
                    roll -= step.weight();
                    if (roll < 0) {
                        chosen = step;
                        break;
                    }
                }
                yield step(namespace, graph, chosen, request, depth);
            }
            case Ensemble -> {
                var answer = JsonNodeFactory.instance.objectNode();
                try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    var futures = new ArrayList<Future<JsonNode>>();
                    for (var step : node.steps()) futures.add(pool.submit(() -> step(namespace, graph, step, request, depth)));
                    for (int i = 0; i < futures.size(); i++) {
                        var step = node.steps().get(i);
                        try {
                            answer.set(step.name(), futures.get(i).get());
                        } catch (ExecutionException e) {
                            if (step.hard() && e.getCause() instanceof RuntimeException r) throw r;
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                    }
                }
                yield answer;
            }
            case Switch -> {
                for (var step : node.steps()) {
                    if (step.condition() == null || Conditions.matches(step.condition(), request)) {
                        yield step(namespace, graph, step, request, depth);
                    }
                }
                yield request;
            }
        };
    }

    /** A step's answer as the next step's request: V1 predictions become instances, V2 outputs become inputs. */
    private static JsonNode asRequest(JsonNode answer) {
        if (answer.has("predictions")) return JsonNodeFactory.instance.objectNode().set("instances", answer.get("predictions"));
        if (answer.path("outputs").isArray()) return JsonNodeFactory.instance.objectNode().set("inputs", answer.get("outputs"));
        return answer;
    }

    private JsonNode step(String namespace, InferenceGraphSpec graph, Step step, JsonNode input, int depth) {
        if (step.nodeName() != null) return node(namespace, graph, step.nodeName(), input, depth + 1);
        if (step.serviceName() == null) {
            throw new InvalidInputException("step '" + step.name() + "' calls a serviceUrl; Capstan graphs call InferenceServices by serviceName");
        }
        try {
            byte[] body = Json.json().writeValueAsBytes(input);
            boolean v2 = input.path("inputs").isArray() && input.path("inputs").path(0).has("datatype");
            byte[] answer = v2
                    ? OipJson.writeResponse(endpoint.infer(namespace, step.serviceName(), null, OipJson.readRequest(body)))
                    : v1.predict(namespace, step.serviceName(), body);
            return Json.json().readTree(answer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The GJSON subset KServe's Switch conditions use: {@code path.#(field OP value)} and {@code field OP value}. */
    static final class Conditions {
        private Conditions() {
        }

        static boolean matches(String condition, JsonNode request) {
            var c = condition.strip();
            int hash = c.indexOf(".#(");
            if (hash >= 0 && c.endsWith(")")) {
                var path = c.substring(0, hash);
                var test = c.substring(hash + 3, c.length() - 1);
                JsonNode items = path.equals("[@this]") ? JsonNodeFactory.instance.arrayNode().add(request) : at(request, path);
                if (items == null || !items.isArray()) return false;
                for (var item : items) if (compare(item, test)) return true;
                return false;
            }
            return compare(request, c);
        }

        private static boolean compare(JsonNode item, String test) {
            for (var op : List.of("==", "!=", ">=", "<=", ">", "<")) {
                int at = test.indexOf(op);
                if (at <= 0) continue;
                var left = at(item, test.substring(0, at).strip());
                var right = test.substring(at + op.length()).strip().replaceAll("^\"|\"$", "");
                if (left == null || left.isMissingNode()) return false;
                if (left.isNumber()) {
                    double l = left.asDouble();
                    double r;
                    try {
                        r = Double.parseDouble(right);
                    } catch (NumberFormatException e) {
                        return false;
                    }
                    return switch (op) {
                        case "==" -> l == r;
                        case "!=" -> l != r;
                        case ">=" -> l >= r;
                        case "<=" -> l <= r;
                        case ">" -> l > r;
                        default -> l < r;
                    };
                }
                int cmp = left.asText().compareTo(right);
                return switch (op) {
                    case "==" -> cmp == 0;
                    case "!=" -> cmp != 0;
                    case ">=" -> cmp >= 0;
                    case "<=" -> cmp <= 0;
                    case ">" -> cmp > 0;
                    default -> cmp < 0;
                };
            }
            return false;
        }

        private static JsonNode at(JsonNode node, String path) {
            JsonNode current = node;
            for (var part : path.split("\\.")) {
                if (current == null) return null;
                current = current.isArray() && part.matches("\\d+") ? current.get(Integer.parseInt(part)) : current.get(part);
            }
            return current;
        }
    }
}
