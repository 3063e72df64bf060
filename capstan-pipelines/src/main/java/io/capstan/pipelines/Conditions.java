package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.CelOptions;
import dev.cel.common.types.SimpleType;
import dev.cel.common.values.NullValue;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.capstan.core.InvalidSpecException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks and evaluates {@code triggerPolicy.condition}, a CEL expression over {@code inputs.parameter_values[...]}
 * and {@code inputs.artifacts[...]}, as KFP's driver compiles it. Immutable and thread-safe.
 */
public final class Conditions {
    private static final Pattern PARAMETER_REF = Pattern.compile("inputs\\.parameter_values\\[(?:'([^']*)'|\"([^\"]*)\")]");
    // KFP hands parameter values to CEL as protobuf Values, where every number is a double; comparing them with
    // integer literals needs heterogeneous numeric comparisons.
    private static final CelOptions OPTIONS = CelOptions.current().enableHeterogeneousNumericComparisons(true).build();
    private final CelCompiler compiler;
    private final CelRuntime runtime;

    public Conditions() {
        this.compiler = CelCompilerFactory.standardCelCompilerBuilder()
                .setOptions(OPTIONS)
                .addVar("inputs", SimpleType.DYN)
                .build();
        this.runtime = CelRuntimeFactory.standardCelRuntimeBuilder().setOptions(OPTIONS).build();
    }

    /**
     * Evaluates {@code expression} with {@code inputs.parameter_values} bound to the task's resolved input
     * parameters and {@code inputs.artifacts} to its input artifacts (each a JSON object).
     *
     * @throws InvalidSpecException when the expression does not compile, fails, or does not yield a boolean
     */
    public boolean evaluate(String expression, Map<String, JsonNode> parameterValues, Map<String, JsonNode> artifacts) {
        var compiled = compiler.compile(expression);
        if (compiled.hasError()) {
            throw new InvalidSpecException("condition '" + expression + "' is not valid CEL: " + compiled.getErrorString().strip());
        }
        var inputs = new LinkedHashMap<String, Object>();
        inputs.put("parameter_values", toCel(parameterValues));
        inputs.put("artifacts", toCel(artifacts));
        try {
            var program = runtime.createProgram(compiled.getAst());
            var result = program.eval(Map.of("inputs", inputs));
            if (result instanceof Boolean b) return b;
            throw new InvalidSpecException("condition '" + expression + "' yielded " + result + ", not a boolean; write a comparison such as "
                    + "inputs.parameter_values['x'] == 'heads'");
        } catch (CelEvaluationException e) {
            throw new InvalidSpecException("condition '" + expression + "' failed: " + e.getMessage()
                    + "; check that every input it reads is passed to the task");
        } catch (dev.cel.common.CelValidationException e) {
            throw new InvalidSpecException("condition '" + expression + "' is not valid CEL: " + e.getMessage());
        }
    }

    private static Map<String, Object> toCel(Map<String, JsonNode> values) {
        var out = new LinkedHashMap<String, Object>();
        values.forEach((k, v) -> out.put(k, toCel(v)));
        return out;
    }

    private static Object toCel(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) return NullValue.NULL_VALUE;
        if (value.isTextual()) return value.asText();
        if (value.isBoolean()) return value.asBoolean();
        if (value.isIntegralNumber() && value.canConvertToLong()) return value.asLong();
        if (value.isNumber()) return value.asDouble();
        if (value.isArray()) {
            var list = new ArrayList<Object>();
            value.forEach(v -> list.add(toCel(v)));
            return List.copyOf(list);
        }
        var map = new LinkedHashMap<String, Object>();
        value.properties().forEach(e -> map.put(e.getKey(), toCel(e.getValue())));
        return map;
    }

    /** Why {@code expression} does not compile as CEL, or empty if it does. */
    Optional<String> syntaxError(String expression) {
        var result = compiler.compile(expression);
        if (!result.hasError()) return Optional.empty();
        var message = result.getErrorString().strip();
        return Optional.of(message.length() > 400 ? message.substring(0, 400) + "..." : message);
    }

    /** The input parameter names the expression reads through {@code inputs.parameter_values['name']}. */
    static Set<String> parameterReferences(String expression) {
        var names = new LinkedHashSet<String>();
        var m = PARAMETER_REF.matcher(expression);
        while (m.find()) names.add(m.group(1) != null ? m.group(1) : m.group(2));
        return names;
    }
}
