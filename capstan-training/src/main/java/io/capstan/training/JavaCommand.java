package io.capstan.training;

import java.nio.file.Path;
import java.util.List;

/** A command line that runs a main class of this module in a fresh JVM: the running JVM's java binary and classpath. */
final class JavaCommand {
    private JavaCommand() {
    }

    static List<String> of(Class<?> mainClass) {
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-Xss2m", "--enable-native-access=ALL-UNNAMED", "-cp", absoluteClassPath(), mainClass.getName());
    }

    /** The running JVM's classpath with every entry absolute: workers run in their own folders. */
    static String absoluteClassPath() {
        return java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().toString())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }
}
