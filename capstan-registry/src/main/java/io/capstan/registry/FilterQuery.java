package io.capstan.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Model Registry's {@code filterQuery} language, parsed by recursive descent with the upstream grammar and lexer
 * ({@code internal/platform/db/filter/parser.go}):
 *
 * <pre>
 * expression := and ("OR" and)*
 * and        := term ("AND" term)*
 * term       := "(" expression ")" | comparison
 * comparison := property operator value
 * property   := `escaped` ("." type)? | ident ("." ident)* ("." type)?
 * operator   := = | != | &lt;&gt; | &lt; | &lt;= | &gt; | &gt;= | LIKE | ILIKE | IN
 * value      := string | int | float | true | false | "(" (single ("," single)*)? ")"
 * </pre>
 *
 * Keywords, booleans and the type suffixes ({@code string_value}, {@code double_value}, {@code int_value},
 * {@code bool_value}) are case-insensitive; {@code --} starts a comment.
 */
final class FilterQuery {
    static final Set<String> VALUE_TYPES = Set.of("string_value", "double_value", "int_value", "bool_value");
    /** Longest filter accepted; a longer one is refused before parsing. */
    static final int MAX_LENGTH = 16_384;
    /** Deepest nesting of parentheses accepted, so that recursion stays bounded. */
    static final int MAX_DEPTH = 64;

    sealed interface Expr permits Binary, Comparison {
    }

    /** {@code op} is AND or OR. */
    record Binary(String op, Expr left, Expr right) implements Expr {
    }

    /**
     * @param name         the property, with its path joined by dots and without the type suffix
     * @param explicitType the type suffix, lower case, or null
     * @param value        a String, Long, Double, Boolean, or a List of those
     */
    record Comparison(String name, String explicitType, boolean escaped, String op, Object value) implements Expr {
        /** The property as upstream names it: the type suffix appended. */
        String property() {
            return explicitType == null ? name : name + "." + explicitType;
        }
    }

    private enum T { IDENT, FLOAT, INT, STRING, ESCAPED, OP, PUNCT, EOF }

    private record Token(T type, String text, int pos) {
    }

    // The upstream lexer's rules, tried in its order at each position.
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final Pattern COMMENT = Pattern.compile("--[^\\r\\n]*");
    private static final Pattern IDENT = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT = Pattern.compile("[-+]?\\d*\\.\\d+([eE][-+]?\\d+)?|[-+]?\\d+[eE][-+]?\\d+");
    private static final Pattern INT = Pattern.compile("[-+]?\\d+");
    private static final Pattern STRING = Pattern.compile("'([^'\\\\]|\\\\.)*'|\"([^\"\\\\]|\\\\.)*\"", Pattern.DOTALL);
    private static final Pattern ESCAPED = Pattern.compile("`([^`\\\\]|\\\\.)*`", Pattern.DOTALL);
    private static final Pattern OPERATOR = Pattern.compile(">=|<=|!=|<>|=|>|<");
    private static final Pattern PUNCT = Pattern.compile("[().,]");

    private final String input;
    private final List<Token> tokens;
    private int next;
    private int depth;

    private FilterQuery(String input, List<Token> tokens) {
        this.input = input;
        this.tokens = tokens;
    }

    /** The expression, or null for a blank filter. */
    static Expr parse(String input) {
        if (input == null || input.isBlank()) return null;
        if (input.length() > MAX_LENGTH) throw new FilterException("the filter is " + input.length() + " characters long; at most " + MAX_LENGTH + " are accepted");
        var parser = new FilterQuery(input, lex(input));
        var expr = parser.expression();
        var rest = parser.peek();
        if (rest.type != T.EOF) throw parser.error(rest, "unexpected '" + rest.text + "'");
        return expr;
    }

    private static List<Token> lex(String input) {
        var tokens = new ArrayList<Token>();
        int pos = 0;
        Matcher m = WHITESPACE.matcher(input);
        outer:
        while (pos < input.length()) {
            for (var rule : List.of(WHITESPACE, COMMENT, IDENT, FLOAT, INT, STRING, ESCAPED, OPERATOR, PUNCT)) {
                m.usePattern(rule);
                m.region(pos, input.length());
                if (m.lookingAt() && m.end() > pos) {
                    T type = rule == IDENT ? T.IDENT : rule == FLOAT ? T.FLOAT : rule == INT ? T.INT : rule == STRING ? T.STRING
                            : rule == ESCAPED ? T.ESCAPED : rule == OPERATOR ? T.OP : rule == PUNCT ? T.PUNCT : null;
                    if (type != null) tokens.add(new Token(type, m.group(), pos));
                    pos = m.end();
                    continue outer;
                }
            }
            throw new FilterException("invalid filter query: unexpected character '" + input.charAt(pos) + "' at position " + (pos + 1));
        }
        tokens.add(new Token(T.EOF, "", input.length()));
        return tokens;
    }

    private Expr expression() {
        if (++depth > MAX_DEPTH) throw error(peek(), "parentheses nest deeper than " + MAX_DEPTH);
        var left = and();
        while (keyword("OR")) {
            next++;
            left = new Binary("OR", left, and());
        }
        depth--;
        return left;
    }

    private Expr and() {
        var left = term();
        while (keyword("AND")) {
            next++;
            left = new Binary("AND", left, term());
        }
        return left;
    }

    private Expr term() {
        if (punct("(")) {
            next++;
            var inner = expression();
            expectPunct(")");
            return inner;
        }
        return comparison();
    }

    private Expr comparison() {
        var first = peek();
        String name;
        boolean escaped;
        String type = null;
        if (first.type == T.ESCAPED) {
            next++;
            var raw = first.text.substring(1, first.text.length() - 1);
            name = raw.replace("\\.", ".").replace("\\\\", "\\");
            escaped = true;
            if (punct(".") && tokens.get(next + 1).type == T.IDENT && VALUE_TYPES.contains(lower(tokens.get(next + 1).text))) {
                type = lower(tokens.get(next + 1).text);
                next += 2;
            }
        } else if (first.type == T.IDENT && !isKeyword(first.text)) {
            next++;
            var parts = new ArrayList<String>();
            parts.add(first.text);
            while (punct(".")) {
                next++;
                var part = peek();
                if (part.type != T.IDENT) throw error(part, "expected a property name after '.'");
                next++;
                parts.add(part.text);
            }
            if (parts.size() > 1 && VALUE_TYPES.contains(lower(parts.getLast()))) type = lower(parts.removeLast());
            name = String.join(".", parts);
            escaped = false;
        } else {
            throw error(first, first.type == T.EOF ? "expected a property name" : "expected a property name, found '" + first.text + "'");
        }
        var op = operator();
        var value = value();
        return new Comparison(name, type, escaped, op, value);
    }

    private String operator() {
        var t = peek();
        if (t.type == T.OP) {
            next++;
            return t.text;
        }
        if (t.type == T.IDENT) {
            var upper = t.text.toUpperCase(Locale.ROOT);
            if (upper.equals("LIKE") || upper.equals("ILIKE") || upper.equals("IN")) {
                next++;
                return upper;
            }
        }
        throw error(t, t.type == T.EOF ? "expected an operator" : "expected an operator (= != <> < <= > >= LIKE ILIKE IN), found '" + t.text + "'");
    }

    private Object value() {
        if (punct("(")) {
            next++;
            var values = new ArrayList<Object>();
            if (!punct(")")) {
                values.add(single());
                while (punct(",")) {
                    next++;
                    values.add(single());
                }
            }
            expectPunct(")");
            return List.copyOf(values);
        }
        return single();
    }

    private Object single() {
        var t = peek();
        switch (t.type) {
            case STRING -> {
                next++;
                return unquote(t.text);
            }
            case INT -> {
                next++;
                try {
                    return Long.parseLong(t.text.startsWith("+") ? t.text.substring(1) : t.text);
                } catch (NumberFormatException e) {
                    throw error(t, "integer " + t.text + " is out of range");
                }
            }
            case FLOAT -> {
                next++;
                double value = Double.parseDouble(t.text);
                // As Go's strconv.ParseFloat, which upstream's parser uses, refuses it: no property holds an infinity.
                if (Double.isInfinite(value)) throw error(t, "number " + t.text + " is out of range");
                return value;
            }
            case IDENT -> {
                var lower = lower(t.text);
                if (lower.equals("true") || lower.equals("false")) {
                    next++;
                    return lower.equals("true");
                }
            }
            default -> {
            }
        }
        throw error(t, t.type == T.EOF ? "expected a value" : "expected a value (a quoted string, a number, true or false), found '" + t.text + "'");
    }

    private static String unquote(String quoted) {
        var body = quoted.substring(1, quoted.length() - 1);
        var out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '\\' && i + 1 < body.length()) {
                char n = body.charAt(i + 1);
                if (n == '"' || n == '\'' || n == '\\') {
                    out.append(n);
                    i++;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    private static boolean isKeyword(String ident) {
        var upper = ident.toUpperCase(Locale.ROOT);
        return upper.equals("AND") || upper.equals("OR");
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private Token peek() {
        return tokens.get(next);
    }

    private boolean keyword(String word) {
        var t = peek();
        return t.type == T.IDENT && t.text.equalsIgnoreCase(word);
    }

    private boolean punct(String p) {
        var t = peek();
        return t.type == T.PUNCT && t.text.equals(p);
    }

    private void expectPunct(String p) {
        if (!punct(p)) {
            var t = peek();
            throw error(t, t.type == T.EOF ? "expected '" + p + "' before the end" : "expected '" + p + "', found '" + t.text + "'");
        }
        next++;
    }

    private FilterException error(Token at, String what) {
        return new FilterException("invalid filter query: " + what + " at position " + (at.pos + 1) + " of '" + input + "'");
    }

    /** A filter that does not parse, or names a value its property cannot be compared with. */
    static final class FilterException extends RuntimeException {
        FilterException(String message) {
            super(message);
        }
    }
}
