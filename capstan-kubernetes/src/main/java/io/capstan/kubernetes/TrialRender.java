package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The first trial of a Katib Experiment: its trial template with the first point of Katib's grid substituted (each
 * parameter's {@code feasibleSpace.min}, or the first of its {@code list}), named {@code <experiment>-1} as the
 * server names its first trial, then rendered as the template's kind. The search algorithm is not run: which point a
 * server's algorithm picks first depends on it (random, TPE...), so the grid's first point stands for all.
 */
final class TrialRender {
    static final String EXPERIMENT_LABEL = "katib.kubeflow.org/experiment";
    static final String TRIAL_LABEL = "katib.kubeflow.org/trial";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{trialParameters\\.([^}]*)}");
    private static final Pattern METADATA = Pattern.compile("\\$\\{trialSpec\\.(Name|Namespace|Kind|APIVersion|Labels\\[(.+)]|Annotations\\[(.+)])}");

    private TrialRender() {
    }

    static List<HasMetadata> render(String experiment, String ns, JsonNode spec, Function<JsonNode, List<HasMetadata>> renderTemplate) {
        var trial = experiment + "-1";
        var assignment = firstAssignment(spec.path("parameters"));
        var template = spec.path("trialTemplate");
        if (template.has("configMap") && !template.has("trialSpec")) {
            throw InvalidSpecException.of("spec.trialTemplate.configMap", "capstan render reads an inline spec.trialTemplate.trialSpec; a config-map template lives on the server");
        }
        var trialSpec = template.get("trialSpec");
        if (trialSpec == null || !trialSpec.isObject()) throw InvalidSpecException.of("spec.trialTemplate.trialSpec", "required: the trial's Job (or training job) template");
        var values = new LinkedHashMap<String, String>();
        var declared = template.path("trialParameters");
        for (int i = 0; i < declared.size(); i++) {
            var p = declared.get(i);
            var name = p.path("name").asText("");
            var ref = p.path("reference").asText("");
            if (name.isEmpty()) throw InvalidSpecException.of("spec.trialTemplate.trialParameters[" + i + "].name", "required");
            var value = assignment.get(ref);
            if (value == null) value = metadataValue(ref, trialSpec, trial, ns);
            if (value == null) {
                throw InvalidSpecException.of("spec.trialTemplate.trialParameters[" + i + "].reference", "'" + Names.printable(ref)
                        + "' is neither a parameter of spec.parameters " + assignment.keySet() + " nor ${trialSpec.Name|Namespace|Kind|APIVersion|Labels[k]|Annotations[k]}");
            }
            values.put(name, value);
        }
        var doc = (ObjectNode) substitute(trialSpec.deepCopy(), values);
        var meta = doc.withObject("/metadata");
        meta.put("name", trial);
        meta.put("namespace", ns);
        meta.withObject("/labels").put(EXPERIMENT_LABEL, experiment).put(TRIAL_LABEL, trial);
        var objects = renderTemplate.apply(doc);
        for (var o : objects) {
            if (!(o instanceof Job job)) continue;
            // A trial's Job is the Trial's, as the server's trial runner owns it.
            var labels = new TreeMap<>(job.getMetadata().getLabels());
            labels.put(CapstanLabels.OWNER_KIND, "Trial");
            labels.put(CapstanLabels.OWNER_NAME, trial);
            job.getMetadata().setLabels(labels);
            var podLabels = new TreeMap<>(job.getSpec().getTemplate().getMetadata().getLabels());
            podLabels.putAll(labels);
            job.getSpec().getTemplate().getMetadata().setLabels(podLabels);
        }
        return objects;
    }

    /** Katib grid's first point: each parameter's min (int, double) or first listed value (categorical, discrete). */
    static Map<String, String> firstAssignment(JsonNode parameters) {
        if (!parameters.isArray() || parameters.isEmpty()) throw InvalidSpecException.of("spec.parameters", "required: at least one parameter to search");
        var out = new LinkedHashMap<String, String>();
        for (int i = 0; i < parameters.size(); i++) {
            var p = parameters.get(i);
            var path = "spec.parameters[" + i + "]";
            var name = p.path("name").asText("");
            if (name.isEmpty()) throw InvalidSpecException.of(path + ".name", "required");
            var type = p.path("parameterType").asText("");
            var space = p.path("feasibleSpace");
            switch (type) {
                case "int", "double" -> {
                    var min = space.path("min").asText("");
                    try {
                        var number = new BigDecimal(min.trim());
                        out.put(name, type.equals("int") ? number.toBigIntegerExact().toString() : min.trim());
                    } catch (NumberFormatException | ArithmeticException e) {
                        throw InvalidSpecException.of(path + ".feasibleSpace.min", "expected " + (type.equals("int") ? "an integer" : "a number") + ", got '" + Names.printable(min) + "'");
                    }
                }
                case "categorical", "discrete" -> {
                    var list = space.path("list");
                    if (!list.isArray() || list.isEmpty()) throw InvalidSpecException.of(path + ".feasibleSpace.list", "required: the values to choose from");
                    out.put(name, list.get(0).asText());
                }
                default -> throw InvalidSpecException.of(path + ".parameterType", "expected int, double, categorical or discrete, got '" + Names.printable(type) + "'");
            }
        }
        return out;
    }

    private static String metadataValue(String reference, JsonNode trialSpec, String trial, String ns) {
        Matcher m = METADATA.matcher(reference);
        if (!m.matches()) return null;
        return switch (m.group(1)) {
            case "Name" -> trial;
            case "Namespace" -> ns;
            case "Kind" -> trialSpec.path("kind").asText();
            case "APIVersion" -> trialSpec.path("apiVersion").asText();
            default -> m.group(2) != null ? trialSpec.path("metadata").path("labels").path(m.group(2)).asText("")
                    : trialSpec.path("metadata").path("annotations").path(m.group(3)).asText("");
        };
    }

    /** Every {@code ${trialParameters.x}} in the text values of {@code node} replaced; an undeclared one names itself. */
    private static JsonNode substitute(JsonNode node, Map<String, String> values) {
        if (node.isTextual()) {
            var m = PLACEHOLDER.matcher(node.asText());
            var sb = new StringBuilder();
            while (m.find()) {
                var v = values.get(m.group(1));
                if (v == null) {
                    throw InvalidSpecException.of("spec.trialTemplate.trialSpec", "uses ${trialParameters." + Names.printable(m.group(1))
                            + "}, which spec.trialTemplate.trialParameters does not declare");
                }
                m.appendReplacement(sb, Matcher.quoteReplacement(v));
            }
            m.appendTail(sb);
            return TextNode.valueOf(sb.toString());
        }
        if (node instanceof ObjectNode o) {
            var names = new java.util.ArrayList<String>();
            o.fieldNames().forEachRemaining(names::add);
            for (var f : names) o.set(f, substitute(o.get(f), values));
        } else if (node instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
            for (int i = 0; i < a.size(); i++) a.set(i, substitute(a.get(i), values));
        }
        return node;
    }
}
