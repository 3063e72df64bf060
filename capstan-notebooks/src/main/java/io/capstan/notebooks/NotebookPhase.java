package io.capstan.notebooks;

/** A Notebook's {@code status.phase}. */
enum NotebookPhase {
    PENDING("Pending"), RUNNING("Running"), STOPPED("Stopped"), FAILED("Failed");

    private final String wireName;

    NotebookPhase(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }
}
