package io.capstan.backend;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Command lines that run a main class of this JVM's class path in a child JVM, as built-in steps and workers do. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** {@code java -Xss2m --enable-native-access=ALL-UNNAMED -cp <this class path> mainClass}, with this JVM's java binary. */
    public static List<String> command(String mainClass) {
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-Xss2m", "--enable-native-access=ALL-UNNAMED", "-cp", absoluteClassPath(), mainClass);
    }

    /**
     * This JVM's class path with every entry absolute: a workload runs in its own folder, where a relative entry
     * (as {@code java -jar capstan-cli/target/capstan.jar} gives) would name nothing.
     */
    public static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().normalize().toString())
                .collect(Collectors.joining(File.pathSeparator));
    }
}
