package io.capstan.search;

/** How values of a numeric parameter are drawn by the sampling algorithms. */
public enum Distribution {
    UNIFORM, LOG_UNIFORM, NORMAL, LOG_NORMAL
}
