package io.capstan.components;

import io.capstan.core.CapstanException;

import java.io.PrintStream;
import java.util.List;
import java.util.Objects;

/**
 * Runs one built-in component under KFP's executor contract: {@code <component> --executor_input <json>}. A pipeline
 * names it as container command {@code [capstan-component, <component>]}, which the run engine turns into
 * {@code java -cp <capstan jar> io.capstan.components.BuiltinMain <component> ...}.
 *
 * <p>Exit status: 0 when the component succeeded and wrote its outputs; 1 when it failed, with one sentence on
 * standard error naming the input at fault and the fix; 2 when the command line itself is wrong.
 */
public final class BuiltinMain {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    private BuiltinMain() {
    }

    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out, System.err));
    }

    /** Runs the component that {@code args} name, in this process, and returns the exit status. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return run(args, Environment.ofProcess(), out, err);
    }

    /** The names of the built-in components. */
    public static List<String> componentNames() {
        return Components.names();
    }

    static int run(List<String> args, Environment environment, PrintStream out, PrintStream err) {
        Objects.requireNonNull(args, "args");
        if (args.isEmpty() || args.getFirst().equals("--help") || args.getFirst().equals("-h")) {
            err.println(usage());
            return args.isEmpty() ? USAGE : OK;
        }
        var name = args.getFirst();
        var component = Components.find(name);
        if (component.isEmpty()) {
            err.println("capstan-component: unknown component '%s'; use one of %s".formatted(name, String.join(", ", Components.names())));
            return USAGE;
        }
        String executorInput = null;
        for (int i = 1; i < args.size(); i++) {
            var arg = args.get(i);
            if (arg.equals("--executor_input") && i + 1 < args.size()) {
                executorInput = args.get(++i);
            } else if (arg.startsWith("--executor_input=")) {
                executorInput = arg.substring("--executor_input=".length());
            } else {
                err.println("capstan-component %s: unexpected argument '%s'; pass only --executor_input '{{$}}'".formatted(name, arg));
                err.println(usage());
                return USAGE;
            }
        }
        if (executorInput == null) {
            err.println("capstan-component %s: --executor_input is missing; pass --executor_input '{{$}}'".formatted(name));
            err.println(usage());
            return USAGE;
        }
        try {
            var input = ExecutorInput.parse(executorInput);
            var output = component.get().run(input, environment);
            output.write(input);
            out.println("capstan-component %s: succeeded".formatted(name));
            output.parameters().forEach((k, v) -> out.println("  parameter %s = %s".formatted(k, v)));
            output.artifacts().forEach((k, a) -> out.println("  artifact %s -> %s %s".formatted(k, a.uri(), a.metadata())));
            return OK;
        } catch (CapstanException e) {
            err.println("capstan-component %s: %s".formatted(name, e.getMessage()));
            return FAILED;
        } catch (RuntimeException | LinkageError e) {
            err.println("capstan-component %s: failed unexpectedly with %s; this is a bug in the component, please report it with the trace below"
                    .formatted(name, e));
            e.printStackTrace(err);
            return FAILED;
        }
    }

    static String usage() {
        return """
                usage: capstan-component <component> --executor_input <KFP executor input JSON>
                components: %s""".formatted(String.join(", ", Components.names()));
    }
}
