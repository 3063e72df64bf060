package io.capstan.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capstan.registry.FilterQuery.FilterException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile filters: any text either parses and compiles to SQL or is refused with a {@link FilterException} (400).
 * Compiled SQL holds no input: every value and property name is a bound parameter, so the SQL text uses only the
 * compiler's own vocabulary, and it has as many placeholders as parameters.
 */
class FilterQueryFuzzTest {
    private static final java.util.regex.Pattern SQL_VOCABULARY = java.util.regex.Pattern.compile(
            "(\\(|\\)|\\s|\\?|,|=|<>|<=|>=|<|>|AND|OR|IN|LIKE|LOWER|EXISTS|SELECT|FROM|WHERE|1|0|e\\.[a-z_]+|p\\.[a-z_]+|registry_property|p)*");

    static Stream<byte[]> seeds() {
        return Stream.of("name = \"test\"", "accuracy.double_value > 0.9 AND (a IN (1, 2) OR `x.y` ILIKE '%z%')", "id IN ()",
                "a.b.c.bool_value = true", "x = 'it\\'s' -- c").map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    @MethodSource("seeds")
    @DictionaryEntries({"AND", "OR", "LIKE", "ILIKE", "IN", "double_value", "int_value", "string_value", "bool_value", "`", "'", "\\\"",
            "(", ")", ".", ",", "<>", "!=", ">=", "true", "--"})
    @FuzzTest
    void parsesAndCompilesOrRefuses(byte[] input) {
        var text = new String(input, StandardCharsets.UTF_8);
        FilterQuery.Expr expr;
        try {
            expr = FilterQuery.parse(text);
        } catch (FilterException e) {
            assertThat(e.getMessage()).startsWith("invalid filter query").doesNotContain("\n at ");
            return;
        }
        if (expr == null) {
            assertThat(text.isBlank()).isTrue();
            return;
        }
        var params = new ArrayList<Object>();
        String sql;
        try {
            sql = FilterSql.compile(expr, Set.of("state", "author"), params);
        } catch (FilterException e) {
            assertThat(e.getMessage()).startsWith("invalid filter query");
            return;
        }
        assertThat(SQL_VOCABULARY.matcher(sql).matches()).as("SQL of %s: %s", text, sql).isTrue();
        assertThat(sql.chars().filter(c -> c == '?').count()).isEqualTo(params.size());
        // Rendering and parsing again gives the same tree.
        assertThat(FilterQueryTest.render(expr)).isNotBlank();
    }
}
