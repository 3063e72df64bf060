package io.capstan.notebooks;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.util.Map;

/**
 * What a notebook serves, as the Jupyter web app's {@code notebooks.kubeflow.org/server-type} annotation says:
 * Jupyter, VS Code ({@code group-one}) or RStudio ({@code group-two}). Without the annotation it is Jupyter.
 */
enum ServerType {
    JUPYTER("jupyter"), VSCODE("group-one"), RSTUDIO("group-two");

    static final String ANNOTATION = "notebooks.kubeflow.org/server-type";

    private final String wireName;

    ServerType(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }

    /** @throws InvalidSpecException naming the annotation for a value Kubeflow does not know */
    static ServerType of(Map<String, String> annotations) {
        var value = annotations.get(ANNOTATION);
        if (value == null || value.isBlank()) return JUPYTER;
        for (var t : values()) {
            if (t.wireName.equals(value.strip())) return t;
        }
        throw InvalidSpecException.of("metadata.annotations[" + ANNOTATION + "]", "server type '" + Names.printable(value)
                + "' is not jupyter, group-one (VS Code) or group-two (RStudio)");
    }
}
