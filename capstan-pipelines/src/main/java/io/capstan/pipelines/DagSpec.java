package io.capstan.pipelines;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** A component's {@code dag}: its tasks by name, in document order, and how its outputs are picked from them. */
public record DagSpec(Map<String, PipelineTask> tasks, Map<String, OutputParameter> outputParameters,
                      Map<String, List<Selector>> outputArtifacts) {
    public DagSpec {
        tasks = Collections.unmodifiableMap(new LinkedHashMap<>(tasks));
        outputParameters = Collections.unmodifiableMap(new LinkedHashMap<>(outputParameters));
        var copy = new LinkedHashMap<String, List<Selector>>();
        outputArtifacts.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        outputArtifacts = Collections.unmodifiableMap(copy);
    }

    /** Names one output of one task of this DAG. */
    public record Selector(String producerSubtask, String outputKey) {
        public Selector {
            Objects.requireNonNull(producerSubtask, "producerSubtask");
            Objects.requireNonNull(outputKey, "outputKey");
        }
    }

    /** Where a DAG output parameter comes from. */
    public sealed interface OutputParameter permits FromParameter, FromOneOf {
    }

    /** {@code valueFromParameter}: one task's output parameter. */
    public record FromParameter(Selector selector) implements OutputParameter {
        public FromParameter {
            Objects.requireNonNull(selector, "selector");
        }
    }

    /** {@code valueFromOneof}: the first of these outputs that was produced (If/Elif/Else branches). */
    public record FromOneOf(List<Selector> selectors) implements OutputParameter {
        public FromOneOf {
            selectors = List.copyOf(selectors);
        }
    }
}
