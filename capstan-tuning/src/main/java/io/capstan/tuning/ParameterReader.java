package io.capstan.tuning;

import static io.capstan.core.SpecFields.object;
import static io.capstan.core.SpecFields.requiredObject;
import static io.capstan.core.SpecFields.name;
import static io.capstan.core.SpecFields.number;
import static io.capstan.core.SpecFields.describe;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.search.Distribution;
import io.capstan.search.Parameter;
import io.capstan.search.ParameterType;
import io.capstan.search.SearchSpace;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalDouble;
import java.util.regex.Pattern;

/** Reads {@code spec.parameters}: Katib's double, int, discrete and categorical parameters with their feasible spaces. */
final class ParameterReader {
    static final int MAX_LIST_ENTRIES = 10_000;
    private static final Pattern PARAMETER_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,253}");

    private ParameterReader() {
    }

    static SearchSpace parameters(JsonNode node, Problems problems) {
        if (node == null || node.isNull()) {
            problems.add("spec.parameters", "required: the hyperparameters to search, each with name, parameterType and feasibleSpace");
            return null;
        }
        if (!node.isArray()) {
            problems.add("spec.parameters", "expected a list of parameters, got " + describe(node));
            return null;
        }
        if (node.isEmpty()) {
            problems.add("spec.parameters", "must list at least one parameter");
            return null;
        }
        if (node.size() > ExperimentSpecReader.MAX_PARAMETERS) {
            problems.add("spec.parameters", "has " + node.size() + " parameters; the limit is " + ExperimentSpecReader.MAX_PARAMETERS);
            return null;
        }
        int before = problems.errors().size();
        var params = new ArrayList<Parameter>();
        var names = new HashSet<String>();
        for (int i = 0; i < node.size(); i++) {
            var p = parameter(node.get(i), "spec.parameters[" + i + "]", problems);
            if (p == null) continue;
            if (!names.add(p.name())) problems.add("spec.parameters[" + i + "].name", "'" + Names.printable(p.name()) + "' is declared twice");
            else params.add(p);
        }
        return problems.errors().size() == before ? new SearchSpace(params) : null;
    }

    static Parameter parameter(JsonNode node, String path, Problems problems) {
        if (requiredObject(node, path, problems).isEmpty()) return null;
        var name = name(node.get("name"), path + ".name", problems).orElse(null);
        if (name != null && !PARAMETER_NAME.matcher(name).matches()) {
            problems.add(path + ".name", "'" + Names.printable(name) + "' must be letters, digits, '_', '.' or '-'");
            name = null;
        }
        ParameterType type = null;
        var t = node.get("parameterType");
        if (t == null || t.isNull()) problems.add(path + ".parameterType", "required: double, int, discrete or categorical");
        else {
            type = switch (t.isTextual() ? t.asText() : "") {
                case "double" -> ParameterType.DOUBLE;
                case "int" -> ParameterType.INT;
                case "discrete" -> ParameterType.DISCRETE;
                case "categorical" -> ParameterType.CATEGORICAL;
                default -> null;
            };
            if (type == null) problems.add(path + ".parameterType", "expected double, int, discrete or categorical, got " + describe(t));
        }
        var fs = node.get("feasibleSpace");
        var fsPath = path + ".feasibleSpace";
        if (requiredObject(fs, fsPath, problems).isEmpty() || type == null || name == null) return null;

        var distribution = Distribution.UNIFORM;
        var d = fs.get("distribution");
        if (d != null && !d.isNull()) {
            var parsed = switch (d.isTextual() ? d.asText() : "") {
                case "uniform" -> Distribution.UNIFORM;
                case "logUniform" -> Distribution.LOG_UNIFORM;
                case "normal" -> Distribution.NORMAL;
                case "logNormal" -> Distribution.LOG_NORMAL;
                default -> null;
            };
            if (parsed == null) problems.add(fsPath + ".distribution", "expected uniform, logUniform, normal or logNormal, got " + describe(d));
            else distribution = parsed;
        }
        int before = problems.errors().size();
        return switch (type) {
            case DOUBLE, INT -> {
                if (fs.has("list") && !fs.get("list").isNull()) {
                    problems.add(fsPath + ".list", "is for discrete and categorical parameters; give min and max for a " + t.asText() + " parameter");
                }
                var min = bound(fs.get("min"), fsPath + ".min", type, problems);
                var max = bound(fs.get("max"), fsPath + ".max", type, problems);
                var step = OptionalDouble.empty();
                var s = fs.get("step");
                if (s != null && !s.isNull() && !(s.isTextual() && s.asText().isEmpty())) {
                    step = number(s, fsPath + ".step", problems);
                    if (step.isPresent() && !(step.getAsDouble() > 0)) {
                        problems.add(fsPath + ".step", "must be > 0, got " + step.getAsDouble());
                        step = OptionalDouble.empty();
                    } else if (step.isPresent() && type == ParameterType.INT && step.getAsDouble() != Math.rint(step.getAsDouble())) {
                        problems.add(fsPath + ".step", "must be a whole number for an int parameter, got " + step.getAsDouble());
                    }
                }
                if (min.isPresent() && max.isPresent()) {
                    double lo = min.getAsDouble(), hi = max.getAsDouble();
                    if (lo > hi) problems.add(fsPath + ".min", "min " + fmt(lo) + " is greater than max " + fmt(hi) + "; the space is empty");
                    else if (step.isPresent() && step.getAsDouble() > hi - lo && hi > lo) {
                        problems.add(fsPath + ".step", "step " + fmt(step.getAsDouble()) + " is larger than the range " + fmt(lo) + ".." + fmt(hi));
                    }
                    if ((distribution == Distribution.LOG_UNIFORM || distribution == Distribution.LOG_NORMAL) && !(lo > 0)) {
                        problems.add(fsPath + ".min", "must be > 0 for the " + d.asText() + " distribution, got " + fmt(lo));
                    }
                }
                if (problems.errors().size() != before) yield null;
                yield new Parameter(name, type, min.getAsDouble(), max.getAsDouble(), step, List.of(), distribution);
            }
            case DISCRETE, CATEGORICAL -> {
                var values = list(fs.get("list"), fsPath + ".list", type == ParameterType.DISCRETE, problems);
                if (fs.has("min") || fs.has("max")) {
                    problems.add(fsPath, "min and max are for double and int parameters; give list for a " + t.asText() + " parameter");
                }
                if (problems.errors().size() != before) yield null;
                double lo = 0, hi = 0;
                if (type == ParameterType.DISCRETE) {
                    lo = values.stream().mapToDouble(Double::parseDouble).min().orElse(0);
                    hi = values.stream().mapToDouble(Double::parseDouble).max().orElse(0);
                }
                yield new Parameter(name, type, lo, hi, OptionalDouble.empty(), values, distribution);
            }
        };
    }

    static OptionalDouble bound(JsonNode node, String path, ParameterType type, Problems problems) {
        if (node == null || node.isNull() || (node.isTextual() && node.asText().isEmpty())) {
            problems.add(path, "required for a " + (type == ParameterType.INT ? "int" : "double") + " parameter");
            return OptionalDouble.empty();
        }
        var v = number(node, path, problems);
        if (v.isPresent() && type == ParameterType.INT && v.getAsDouble() != Math.rint(v.getAsDouble())) {
            problems.add(path, "expected a whole number for an int parameter, got " + describe(node));
            return OptionalDouble.empty();
        }
        if (v.isPresent() && type == ParameterType.INT && Math.abs(v.getAsDouble()) > 1e15) {
            problems.add(path, "is too large for an int parameter");
            return OptionalDouble.empty();
        }
        return v;
    }

    static List<String> list(JsonNode node, String path, boolean numeric, Problems problems) {
        var out = new ArrayList<String>();
        if (node == null || node.isNull()) {
            problems.add(path, "required: the values to choose from");
            return out;
        }
        if (!node.isArray()) {
            problems.add(path, "expected a list of values, got " + describe(node));
            return out;
        }
        if (node.isEmpty()) {
            problems.add(path, "is empty; list at least one value");
            return out;
        }
        if (node.size() > MAX_LIST_ENTRIES) {
            problems.add(path, "has " + node.size() + " values; the limit is " + MAX_LIST_ENTRIES);
            return out;
        }
        var seen = new HashSet<String>();
        for (int i = 0; i < node.size(); i++) {
            var item = node.get(i);
            var itemPath = path + "[" + i + "]";
            if (!item.isValueNode() || item.isNull()) {
                problems.add(itemPath, "expected a value, got " + describe(item));
                continue;
            }
            var text = item.asText();
            if (text.length() > 1024) {
                problems.add(itemPath, "is " + text.length() + " characters long; the limit is 1024");
                continue;
            }
            if (numeric && number(item, itemPath, problems).isEmpty()) continue;
            if (!seen.add(text)) problems.add(itemPath, "'" + Names.printable(text) + "' is listed twice");
            else out.add(text);
        }
        return out;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
