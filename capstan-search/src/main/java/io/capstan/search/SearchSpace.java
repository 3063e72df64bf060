package io.capstan.search;

import java.util.List;

/** The parameters a search explores, in the order the experiment declares them. */
public record SearchSpace(List<Parameter> parameters) {
    public SearchSpace {
        parameters = List.copyOf(parameters);
    }
}
