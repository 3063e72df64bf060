package io.capstan.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads what Capstan's compiled classes name: string constants and class references sit in each class file's
 * constant pool as plain text, so a pattern over the bytes finds them without a bytecode library. The classes are
 * found through the class loader (Surefire's class path is a manifest jar), in folders and jars alike.
 */
final class ClassScan {
    private ClassScan() {
    }

    /**
     * Every match of {@code pattern} (its group 1) in the class files under {@code packageFolder} (such as
     * io/capstan/) whose path passes {@code classFile}.
     */
    static TreeSet<String> find(Pattern pattern, String packageFolder, Predicate<String> classFile) {
        var found = new TreeSet<String>();
        for (var bytes : classFiles(packageFolder, classFile)) {
            var m = pattern.matcher(new String(bytes, StandardCharsets.ISO_8859_1));
            while (m.find()) found.add(m.group(1));
        }
        return found;
    }

    private static List<byte[]> classFiles(String packageFolder, Predicate<String> wanted) {
        var out = new ArrayList<byte[]>();
        try {
            for (var url : Collections.list(ClassScan.class.getClassLoader().getResources(packageFolder))) {
                if (url.getProtocol().equals("file")) {
                    var dir = Path.of(url.toURI());
                    var root = dir;
                    for (int i = 0; i < Path.of(packageFolder).getNameCount(); i++) root = root.getParent();
                    try (Stream<Path> files = Files.walk(dir)) {
                        for (var f : files.filter(Files::isRegularFile).toList()) {
                            var name = root.relativize(f).toString().replace('\\', '/');
                            if (name.endsWith(".class") && wanted.test(name)) out.add(Files.readAllBytes(f));
                        }
                    }
                } else if (url.getProtocol().equals("jar")) {
                    var connection = (JarURLConnection) url.openConnection();
                    connection.setUseCaches(false);
                    try (var jar = connection.getJarFile()) {
                        for (var e : Collections.list(jar.entries())) {
                            if (e.getName().startsWith(packageFolder) && e.getName().endsWith(".class") && wanted.test(e.getName())) {
                                try (var in = jar.getInputStream(e)) {
                                    out.add(in.readAllBytes());
                                }
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the classes under " + packageFolder, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
