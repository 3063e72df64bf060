package io.capstan.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.registry.FilterQuery.Binary;
import io.capstan.registry.FilterQuery.Comparison;
import io.capstan.registry.FilterQuery.Expr;
import io.capstan.registry.FilterQuery.FilterException;
import io.capstan.store.testing.Conformance;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The filter parser against upstream's own cases, read in place from {@code internal/db/filter/parser_test.go}: each
 * {@code input} must parse to the {@code expected} rendering (upstream's {@code exprToString}, values printed as Go's
 * {@code %v} prints them), each case of {@code TestParseErrors} must be refused, and blank input means no filter.
 */
class FilterQueryTest {
    static final String PARSER_TEST = "model-registry/internal/db/filter/parser_test.go";
    private static final String GO_STRING = "(`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\")";
    private static final Pattern CASE = Pattern.compile("name:\\s*" + GO_STRING + ",\\s*input:\\s*" + GO_STRING + "(?:,\\s*expected:\\s*" + GO_STRING + ")?");

    record Case(String name, String input, String expected) {
    }

    static List<Case> upstreamCases() throws Exception {
        var source = Files.readString(Conformance.require(PARSER_TEST));
        var cases = new ArrayList<Case>();
        var m = CASE.matcher(source);
        while (m.find()) cases.add(new Case(goString(m.group(1)), goString(m.group(2)), m.group(3) == null ? null : goString(m.group(3))));
        return cases;
    }

    static Stream<Arguments> parses() throws Exception {
        return upstreamCases().stream().filter(c -> c.expected() != null).map(c -> Arguments.of(Named.of(c.name(), c)));
    }

    static Stream<Arguments> errors() throws Exception {
        return upstreamCases().stream().filter(c -> c.expected() == null).map(c -> Arguments.of(Named.of(c.name(), c)));
    }

    @Test
    void upstreamCasesWereFound() throws Exception {
        // 8 basic, 8 type suffixes, 6 complex, 7 inference, 2 escaped, 3 ILIKE, 6 IN; 4 errors.
        assertThat(upstreamCases().stream().filter(c -> c.expected() != null)).hasSize(40);
        assertThat(upstreamCases().stream().filter(c -> c.expected() == null)).hasSize(4);
    }

    @ParameterizedTest
    @MethodSource("parses")
    void parsesAsUpstream(Case c) {
        assertThat(render(FilterQuery.parse(c.input()))).as(c.input()).isEqualTo(c.expected());
    }

    @ParameterizedTest
    @MethodSource("errors")
    void refusesAsUpstream(Case c) {
        assertThatThrownBy(() -> FilterQuery.parse(c.input())).isInstanceOf(FilterException.class).hasMessageStartingWith("invalid filter query");
    }

    @Test
    void blankInputIsNoFilter() {
        for (var blank : List.of("", "   ", "\t", "\n")) assertThat(FilterQuery.parse(blank)).isNull();
    }

    @Test
    void keywordsAndTypeSuffixesIgnoreCaseAndCommentsAreSkipped() {
        assertThat(render(FilterQuery.parse("a = 1 and (b.DOUBLE_VALUE > 2.5 Or c ilike 'x%') -- note"))).isEqualTo("(a = 1 AND (b.double_value > 2.5 OR c ILIKE x%))");
        assertThat(render(FilterQuery.parse("`a.b`.int_value IN (1, 2) AND flag = FALSE"))).isEqualTo("(a.b.int_value IN [1 2] AND flag = false)");
        assertThat(render(FilterQuery.parse("s = 'it\\'s' OR t = \"say \\\"hi\\\"\""))).isEqualTo("(s = it's OR t = say \"hi\")");
    }

    @Test
    void refusesWithThePositionOfTheProblem() {
        assertThatThrownBy(() -> FilterQuery.parse("name = 'a' AND")).hasMessageContaining("expected a property name at position 15");
        assertThatThrownBy(() -> FilterQuery.parse("name ~ 'a'")).hasMessageContaining("unexpected character '~' at position 6");
        assertThatThrownBy(() -> FilterQuery.parse("n = 99999999999999999999")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> FilterQuery.parse("accuracy.double_value > 1e999")).isInstanceOf(FilterException.class)
                .hasMessageContaining("number 1e999 is out of range");
        assertThatThrownBy(() -> FilterQuery.parse("(".repeat(100) + "a = 1" + ")".repeat(100))).hasMessageContaining("nest deeper");
    }

    /** Upstream's exprToString. */
    static String render(Expr e) {
        return switch (e) {
            case Binary b -> "(" + render(b.left()) + " " + b.op() + " " + render(b.right()) + ")";
            case Comparison c -> c.property() + " " + c.op() + " " + goValue(c.value());
        };
    }

    /** A value as Go's {@code %v} prints it: floats in their shortest form, integral ones without a point. */
    static String goValue(Object v) {
        return switch (v) {
            case List<?> list -> list.stream().map(FilterQueryTest::goValue).collect(Collectors.joining(" ", "[", "]"));
            case Double d when d == Math.rint(d) && Math.abs(d) < 1e21 -> Long.toString(d.longValue());
            case Double d -> new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
            default -> String.valueOf(v);
        };
    }

    /** A Go string literal's value: raw (backquoted) as is, interpreted with its escapes. */
    static String goString(String literal) {
        if (literal.startsWith("`")) return literal.substring(1, literal.length() - 1);
        var body = literal.substring(1, literal.length() - 1);
        var out = new StringBuilder();
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '\\') {
                char n = body.charAt(++i);
                out.append(switch (n) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    default -> n;
                });
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
