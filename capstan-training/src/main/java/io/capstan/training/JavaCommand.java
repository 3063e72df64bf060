package io.capstan.training;

import java.nio.file.Path;
import java.util.List;

/** A command line that runs a main class of this module in a fresh JVM: the running JVM's java binary and classpath. */
final class JavaCommand {
    private JavaCommand() {
    }

    static List<String> of(Class<?> mainClass) {
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-Xss2m", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), mainClass.getName());
    }
}
