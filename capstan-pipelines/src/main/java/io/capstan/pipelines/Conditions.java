package io.capstan.pipelines;

import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks {@code triggerPolicy.condition}, a CEL expression over {@code inputs.parameter_values[...]}, as KFP's
 * driver compiles it. Only syntax and references are checked here; evaluation happens at run time.
 * Immutable and thread-safe.
 */
final class Conditions {
    private static final Pattern PARAMETER_REF = Pattern.compile("inputs\\.parameter_values\\[(?:'([^']*)'|\"([^\"]*)\")]");
    private final CelCompiler compiler;

    Conditions() {
        this.compiler = CelCompilerFactory.standardCelCompilerBuilder()
                .addVar("inputs", SimpleType.DYN)
                .build();
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
