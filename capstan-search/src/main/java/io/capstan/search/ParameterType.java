package io.capstan.search;

/** Katib's parameter types. */
public enum ParameterType {
    DOUBLE, INT, DISCRETE, CATEGORICAL
}
