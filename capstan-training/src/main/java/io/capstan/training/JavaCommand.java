package io.capstan.training;

import io.capstan.backend.ChildJvm;
import java.util.List;

/** A command line that runs a main class of this module in a fresh JVM: the running JVM's java binary and classpath. */
final class JavaCommand {
    private JavaCommand() {
    }

    static List<String> of(Class<?> mainClass) {
        return ChildJvm.command(mainClass.getName());
    }
}
