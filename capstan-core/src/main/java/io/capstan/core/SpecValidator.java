package io.capstan.core;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Checks the spec of one kind; adds a problem for each bad field, with paths starting at {@code spec}. */
@FunctionalInterface
public interface SpecValidator {
    SpecValidator NONE = (spec, problems) -> { };

    void validate(ObjectNode spec, Problems problems);
}
