package io.capstan.store;

import io.capstan.core.InvalidSpecException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Kubernetes equality- and set-based label selector: {@code a=b,c!=d,e in (x,y),f notin (z),g,!h}.
 * Immutable.
 */
public record LabelSelector(List<Requirement> requirements) {
    public static final LabelSelector EVERYTHING = new LabelSelector(List.of());

    public LabelSelector {
        requirements = List.copyOf(requirements);
    }

    public boolean matches(Map<String, String> labels) {
        return requirements.stream().allMatch(r -> r.matches(labels));
    }

    public boolean isEverything() {
        return requirements.isEmpty();
    }

    /** One clause of a selector. */
    public record Requirement(String key, Operator operator, Set<String> values) {
        public Requirement {
            values = Set.copyOf(values);
        }

        boolean matches(Map<String, String> labels) {
            var v = labels.get(key);
            return switch (operator) {
                case IN -> v != null && values.contains(v);
                case NOT_IN -> v == null || !values.contains(v);
                case EXISTS -> v != null;
                case DOES_NOT_EXIST -> v == null;
            };
        }
    }

    public enum Operator { IN, NOT_IN, EXISTS, DOES_NOT_EXIST }

    /** Parses the Kubernetes selector syntax; an empty string selects everything. */
    public static LabelSelector parse(String text) {
        if (text == null || text.isBlank()) return EVERYTHING;
        if (text.length() > 4096) throw InvalidSpecException.of("labelSelector", "label selector is longer than 4096 characters");
        var out = new ArrayList<Requirement>();
        for (var clause : splitClauses(text)) {
            var c = clause.trim();
            if (c.isEmpty()) throw InvalidSpecException.of("labelSelector", "empty clause in label selector '" + text + "'");
            var lower = c.replaceAll("\\s+", " ");
            int in = indexOfWord(lower, " in ");
            int notin = indexOfWord(lower, " notin ");
            if (notin > 0) out.add(new Requirement(key(lower.substring(0, notin), text), Operator.NOT_IN, values(lower.substring(notin + 7), text)));
            else if (in > 0) out.add(new Requirement(key(lower.substring(0, in), text), Operator.IN, values(lower.substring(in + 4), text)));
            else if (c.contains("!=")) {
                var parts = c.split("!=", 2);
                out.add(new Requirement(key(parts[0], text), Operator.NOT_IN, Set.of(parts[1].trim())));
            } else if (c.contains("==") || c.contains("=")) {
                var parts = c.split("==?", 2);
                out.add(new Requirement(key(parts[0], text), Operator.IN, Set.of(parts[1].trim())));
            } else if (c.startsWith("!")) {
                out.add(new Requirement(key(c.substring(1), text), Operator.DOES_NOT_EXIST, Set.of()));
            } else {
                out.add(new Requirement(key(c, text), Operator.EXISTS, Set.of()));
            }
        }
        return new LabelSelector(out);
    }

    private static int indexOfWord(String s, String word) {
        return s.indexOf(word);
    }

    private static List<String> splitClauses(String text) {
        var clauses = new ArrayList<String>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch == '(') depth++;
            else if (ch == ')') depth--;
            else if (ch == ',' && depth == 0) {
                clauses.add(text.substring(start, i));
                start = i + 1;
            }
        }
        clauses.add(text.substring(start));
        return clauses;
    }

    private static String key(String raw, String whole) {
        var k = raw.trim();
        io.capstan.core.Names.checkLabelKey(k).ifPresent(m -> {
            throw InvalidSpecException.of("labelSelector", "in label selector '" + io.capstan.core.Names.printable(whole) + "': " + m);
        });
        return k;
    }

    private static Set<String> values(String raw, String whole) {
        var v = raw.trim();
        if (!v.startsWith("(") || !v.endsWith(")")) {
            throw InvalidSpecException.of("labelSelector", "in label selector '" + io.capstan.core.Names.printable(whole) + "': values must be in parentheses, as in 'env in (a,b)'");
        }
        var set = new java.util.HashSet<String>();
        for (var s : v.substring(1, v.length() - 1).split(",")) {
            if (!s.isBlank()) set.add(s.trim());
        }
        return set;
    }
}
