package io.capstan.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The instructions of a Containerfile (Dockerfile syntax), parsed as BuildKit and Buildah read them: comments,
 * backslash continuations, flags such as {@code --chown=}, exec (JSON array) and shell forms. Refuses what they refuse.
 */
record Containerfile(List<Instruction> instructions) {
    static final Set<String> KEYWORDS = Set.of("FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
            "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FLAG = Pattern.compile("--([a-z-]+)(?:=(\\S*))?");

    /** One instruction: its keyword, flags and arguments (the JSON array's items, or the shell form's text). */
    record Instruction(int line, String keyword, Map<String, String> flags, String text, Optional<List<String>> exec) {
        List<String> words() {
            return exec.orElseGet(() -> List.of(text.strip().split("\\s+")));
        }
    }

    static Containerfile parse(Path file) throws IOException {
        var lines = Files.readAllLines(file);
        var out = new ArrayList<Instruction>();
        var current = new StringBuilder();
        int start = 0;
        for (int i = 0; i < lines.size(); i++) {
            var line = lines.get(i);
            var trimmed = line.strip();
            if (current.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("#"))) continue;
            if (!current.isEmpty() && trimmed.startsWith("#")) continue; // comments inside a continued instruction
            if (current.isEmpty()) start = i + 1;
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            out.add(instruction(start, current.toString()));
            current.setLength(0);
        }
        if (!current.isEmpty()) throw new IllegalArgumentException(file + " line " + start + ": continuation runs past the end of the file");
        var parsed = new Containerfile(List.copyOf(out));
        if (out.isEmpty() || !(out.getFirst().keyword().equals("FROM") || out.getFirst().keyword().equals("ARG"))) {
            throw new IllegalArgumentException(file + ": the first instruction must be FROM (or ARG before it)");
        }
        return parsed;
    }

    private static Instruction instruction(int line, String text) {
        var space = text.indexOf(' ');
        var keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
        if (!KEYWORDS.contains(keyword)) throw new IllegalArgumentException("line " + line + ": unknown instruction " + keyword);
        var rest = space < 0 ? "" : text.substring(space + 1).strip();
        if (rest.isEmpty()) throw new IllegalArgumentException("line " + line + ": " + keyword + " needs arguments");
        var flags = new LinkedHashMap<String, String>();
        var m = FLAG.matcher(rest);
        while (rest.startsWith("--") && m.reset(rest).lookingAt()) {
            flags.put(m.group(1), m.group(2) == null ? "" : m.group(2));
            rest = rest.substring(m.end()).strip();
        }
        Optional<List<String>> exec = Optional.empty();
        var jsonPart = keyword.equals("HEALTHCHECK") && rest.startsWith("CMD ") ? rest.substring(4).strip() : rest;
        if (jsonPart.startsWith("[")) {
            try {
                exec = Optional.of(JSON.readValue(jsonPart, new TypeReference<List<String>>() { }));
            } catch (IOException e) {
                throw new IllegalArgumentException("line " + line + ": " + keyword + " has a malformed JSON array: " + e.getMessage(), e);
            }
        }
        return new Instruction(line, keyword, Map.copyOf(flags), rest, exec);
    }

    List<Instruction> all(String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    Instruction last(String keyword) {
        var found = all(keyword);
        if (found.isEmpty()) throw new AssertionError("no " + keyword + " instruction");
        return found.getLast();
    }

    /** ENV's variables, in both forms (NAME=value ..., and the legacy NAME value). */
    Map<String, String> env() {
        var env = new LinkedHashMap<String, String>();
        var pair = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S*)");
        for (var i : all("ENV")) {
            if (!i.text().contains("=")) {
                var parts = i.text().split("\\s+", 2);
                env.put(parts[0], parts[1]);
                continue;
            }
            var m = pair.matcher(i.text());
            while (m.find()) {
                var v = m.group(2);
                env.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
            }
        }
        return env;
    }

    /** COPY's sources (every word but the last, which is the destination). */
    static List<String> copySources(Instruction copy) {
        var words = copy.words();
        if (words.size() < 2) throw new AssertionError("line " + copy.line() + ": COPY needs a source and a destination");
        return words.subList(0, words.size() - 1);
    }

    static String copyDestination(Instruction copy) {
        return copy.words().getLast();
    }
}
