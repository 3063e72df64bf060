package io.capstan.components;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

/**
 * What a component may read from the world besides its executor input.
 *
 * @param workingDirectory relative {@code source} paths are resolved against it
 * @param clock            the time written into provenance
 */
record Environment(Path workingDirectory, Clock clock) {
    Environment {
        Objects.requireNonNull(workingDirectory, "workingDirectory");
        Objects.requireNonNull(clock, "clock");
        workingDirectory = workingDirectory.toAbsolutePath().normalize();
    }

    static Environment ofProcess() {
        return new Environment(Path.of(""), Clock.systemUTC());
    }
}
