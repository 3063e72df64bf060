package io.capstan.cli;

/** What {@code -o/--output} accepts. Picocli matches the names case-insensitively. */
enum OutputFormat {
    /** A human table, or kubectl-style one-line messages for commands that change things. */
    TABLE,
    /** The table with more columns. */
    WIDE,
    /** The resources as YAML documents. */
    YAML,
    /** The resources as JSON. */
    JSON;

    boolean isStructured() {
        return this == YAML || this == JSON;
    }
}
