package io.capstan.serving.python;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Python that model servers run on: the system property {@value #PROPERTY}, else {@code $CAPSTAN_PYTHON}, else
 * Debian's {@code /usr/bin/python3} (where {@code python3-sklearn} installs), else {@code python3} on the PATH.
 */
public final class PythonInterpreter {
    public static final String PROPERTY = "capstan.serving.python";

    private PythonInterpreter() {
    }

    public static String command() {
        var configured = System.getProperty(PROPERTY);
        if (configured == null || configured.isBlank()) configured = System.getenv("CAPSTAN_PYTHON");
        if (configured != null && !configured.isBlank()) return configured;
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }
}
