package io.capstan.kfpruntime;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads the requirements out of the {@code pip install} commands of a KFP preamble (a POSIX sh script). */
final class PipInstallScript {
    /** The oldest Python the runtime supports; markers that exclude every version from here on are false. */
    static final int[] MIN_PYTHON = {3, 9};

    /** pip options that take a value in the next word. */
    private static final Set<String> OPTIONS_WITH_VALUE = Set.of(
            "-i", "--index-url", "--extra-index-url", "--trusted-host", "-f", "--find-links", "-c", "--constraint",
            "-r", "--requirement", "-t", "--target", "--prefix", "--root", "--upgrade-strategy", "--platform",
            "--python-version", "--implementation", "--abi", "--progress-bar", "--src", "--cache-dir", "--log",
            "--timeout", "--retries", "--proxy", "--cert", "--client-cert", "--exists-action", "--global-option",
            "--config-settings", "-C", "--no-binary", "--only-binary", "--report", "--root-user-action");
    private static final Pattern NAME = Pattern.compile(
            "^\\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\\s*(\\[[^\\]]*])?\\s*(.*)$", Pattern.DOTALL);
    private static final Pattern PYTHON_VERSION_CLAUSE = Pattern.compile(
            "^\\s*python_version\\s*(<=|<|==)\\s*[\"'](\\d+)\\.(\\d+)[\"']\\s*$");

    private PipInstallScript() {
    }

    /** A requirement as pip was asked to install it: the text, and its project name where it has one. */
    record Requirement(String text, Optional<String> name, Optional<String> marker) {
        /** The name to report: the project name, else the requirement text (a URL or a path). */
        String displayName() {
            return name.orElse(text);
        }

        boolean isKfp() {
            return name.map(n -> normalize(n).equals("kfp")).orElse(false);
        }

        /** True unless the environment marker rules out every Python the runtime supports. */
        boolean appliesToSupportedPython() {
            return marker.map(m -> !provablyFalse(m)).orElse(true);
        }
    }

    /** The requirements of every {@code pip install} in {@code script}, in order. */
    static List<Requirement> requirements(String script) {
        var found = new ArrayList<Requirement>();
        for (var words : commands(script)) {
            for (int i = 1; i < words.size(); i++) {
                if (words.get(i).equals("install") && isPip(words.get(i - 1))) {
                    addRequirements(words.subList(i + 1, words.size()), found);
                    break;
                }
            }
        }
        return found;
    }

    private static boolean isPip(String word) {
        var base = word.substring(word.lastIndexOf('/') + 1);
        return base.matches("pip(3(\\.\\d+)?)?");
    }

    private static void addRequirements(List<String> words, List<Requirement> found) {
        for (int i = 0; i < words.size(); i++) {
            var word = words.get(i);
            if (word.equals("-e") || word.equals("--editable")) {
                if (i + 1 < words.size()) {
                    found.add(parse(words.get(++i)));
                }
            } else if (word.startsWith("-")) {
                if (OPTIONS_WITH_VALUE.contains(word)) {
                    i++;
                }
            } else if (!word.isBlank()) {
                found.add(parse(word));
            }
        }
    }

    static Requirement parse(String text) {
        var requirement = text.strip();
        int semicolon = requirement.indexOf(';');
        Optional<String> marker = Optional.empty();
        var spec = requirement;
        if (semicolon >= 0) {
            marker = Optional.of(requirement.substring(semicolon + 1).strip());
            spec = requirement.substring(0, semicolon);
        }
        var m = NAME.matcher(spec);
        Optional<String> name = Optional.empty();
        if (m.matches()) {
            var rest = m.group(3);
            var candidate = m.group(1);
            boolean archive = candidate.toLowerCase(Locale.ROOT).matches(".*\\.(whl|zip|tar\\.gz|tgz|tar\\.bz2)");
            if (!archive && (rest.isEmpty() || "<>=!~@(".indexOf(rest.charAt(0)) >= 0)) {
                name = Optional.of(candidate);
            }
        }
        return new Requirement(requirement, name, marker);
    }

    /** PEP 503 normalisation: lower case, runs of {@code - _ .} become one dash. */
    static String normalize(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[-_.]+", "-");
    }

    /** True when a conjunct of the marker is a {@code python_version} bound that every supported Python fails. */
    static boolean provablyFalse(String marker) {
        if (marker.contains(" or ")) {
            return false;
        }
        for (var clause : marker.split("\\s+and\\s+")) {
            var m = PYTHON_VERSION_CLAUSE.matcher(clause.replace("(", "").replace(")", ""));
            if (!m.matches()) {
                continue;
            }
            int cmp = compare(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
            boolean excludesSupported = switch (m.group(1)) {
                case "<" -> cmp <= 0;   // python_version < X.Y with X.Y <= 3.9
                case "<=", "==" -> cmp < 0; // python_version <= X.Y or == X.Y with X.Y < 3.9
                default -> false;
            };
            if (excludesSupported) {
                return true;
            }
        }
        return false;
    }

    /** Compares X.Y to {@link #MIN_PYTHON}. */
    private static int compare(int major, int minor) {
        return major != MIN_PYTHON[0] ? Integer.compare(major, MIN_PYTHON[0]) : Integer.compare(minor, MIN_PYTHON[1]);
    }

    /** The words of each simple command of a POSIX sh script, with quoting removed. */
    static List<List<String>> commands(String script) {
        var commands = new ArrayList<List<String>>();
        var current = new ArrayList<String>();
        var word = new StringBuilder();
        boolean inWord = false;
        int n = script.length();
        for (int i = 0; i < n; i++) {
            char c = script.charAt(i);
            switch (c) {
                case '\'' -> {
                    int end = script.indexOf('\'', i + 1);
                    if (end < 0) {
                        end = n;
                    }
                    word.append(script, i + 1, end);
                    inWord = true;
                    i = end;
                }
                case '"' -> {
                    i++;
                    while (i < n && script.charAt(i) != '"') {
                        char d = script.charAt(i);
                        if (d == '\\' && i + 1 < n && "$`\"\\\n".indexOf(script.charAt(i + 1)) >= 0) {
                            if (script.charAt(i + 1) != '\n') {
                                word.append(script.charAt(i + 1));
                            }
                            i += 2;
                        } else {
                            word.append(d);
                            i++;
                        }
                    }
                    inWord = true;
                }
                case '\\' -> {
                    if (i + 1 < n && script.charAt(i + 1) != '\n') {
                        word.append(script.charAt(i + 1));
                        inWord = true;
                    }
                    i++;
                }
                case ' ', '\t' -> {
                    inWord = endWord(word, inWord, current);
                }
                case '\n', '\r', ';', '&', '|', '(', ')' -> {
                    inWord = endWord(word, inWord, current);
                    if (!current.isEmpty()) {
                        commands.add(List.copyOf(current));
                        current.clear();
                    }
                }
                case '#' -> {
                    if (inWord) {
                        word.append(c);
                    } else {
                        int end = script.indexOf('\n', i);
                        i = (end < 0 ? n : end) - 1;
                    }
                }
                default -> {
                    word.append(c);
                    inWord = true;
                }
            }
        }
        endWord(word, inWord, current);
        if (!current.isEmpty()) {
            commands.add(List.copyOf(current));
        }
        return commands;
    }

    private static boolean endWord(StringBuilder word, boolean inWord, List<String> current) {
        if (inWord) {
            current.add(word.toString());
            word.setLength(0);
        }
        return false;
    }
}
