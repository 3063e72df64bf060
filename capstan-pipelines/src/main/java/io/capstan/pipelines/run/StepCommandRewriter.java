package io.capstan.pipelines.run;

/**
 * Rewrites a container step's resolved command before it is launched; how the offline Python runtime replaces
 * {@code pip install kfp && python3 -m kfp.dsl.executor_main}. Must be a pure function of its input, because a
 * step is rebuilt and relaunched (idempotently) after a restart. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface StepCommandRewriter {
    StepCommandRewriter IDENTITY = command -> command;

    StepCommand rewrite(StepCommand command);
}
