package io.capstan.pipelines.run;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The process a container step runs, after placeholders are resolved: program, arguments and extra environment.
 * The workload runs {@code command} followed by {@code args}.
 */
public record StepCommand(List<String> command, List<String> args, Map<String, String> env) {
    public StepCommand {
        command = List.copyOf(command);
        args = List.copyOf(args);
        env = Map.copyOf(env);
        if (command.isEmpty() && args.isEmpty()) throw new IllegalArgumentException("a step needs a command or arguments");
    }
}
