package io.capstan.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class FormattingTest {
    private static final String NL = System.lineSeparator();

    @Test
    void tableAlignsColumnsThreeSpacesApartWithoutTrailingBlanks() {
        var table = new Table(List.of("NAME", "PHASE", "AGE"))
                .add(List.of("hello", "Succeeded", "5m"))
                .add(List.of("a-much-longer-name", "Running", "12s"));

        assertThat(table.render()).isEqualTo(
                "NAME                 PHASE       AGE" + NL
                + "hello                Succeeded   5m" + NL
                + "a-much-longer-name   Running     12s" + NL);
    }

    @Test
    void tableEscapesControlCharactersSoACellCannotBreakTheLayout() {
        var rendered = new Table(List.of("NAME")).add(List.of("evil\u001b[2Jname\nnext")).render();

        assertThat(rendered).doesNotContain("\u001b").contains("evil\\u001b[2Jname next");
    }

    @Test
    void tableRefusesRowsOfTheWrongWidth() {
        assertThatIllegalArgumentException().isThrownBy(() -> new Table(List.of("A", "B")).add(List.of("x")));
    }

    @Test
    void ageFollowsKubectl() {
        assertThat(Age.format(Duration.ofSeconds(45))).isEqualTo("45s");
        assertThat(Age.format(Duration.ofSeconds(119))).isEqualTo("119s");
        assertThat(Age.format(Duration.ofSeconds(192))).isEqualTo("3m12s");
        assertThat(Age.format(Duration.ofMinutes(5))).isEqualTo("5m");
        assertThat(Age.format(Duration.ofMinutes(42))).isEqualTo("42m");
        assertThat(Age.format(Duration.ofMinutes(185))).isEqualTo("3h5m");
        assertThat(Age.format(Duration.ofHours(20))).isEqualTo("20h");
        assertThat(Age.format(Duration.ofHours(51))).isEqualTo("2d3h");
        assertThat(Age.format(Duration.ofDays(40))).isEqualTo("40d");
        assertThat(Age.format(Duration.ofDays(800))).isEqualTo("2y70d");
        assertThat(Age.format(Duration.ofDays(365 * 9))).isEqualTo("9y");
        assertThat(Age.format(Duration.ofSeconds(-3))).isEqualTo("0s");
    }

    @Test
    void describeWordsSplitCamelCase() {
        assertThat(Describer.words("observedGeneration")).isEqualTo("Observed Generation");
        assertThat(Describer.words("exitCode")).isEqualTo("Exit Code");
    }

    @Test
    void resourceTypesMatchKindPluralShortNameAndGroupInAnyCase() {
        var job = new ResourceType("Job", "capstan.io/v1", "jobs", List.of("job"));

        assertThat(List.of("Job", "jobs", "JOB", "jobs.capstan.io", "job.capstan.io")).allMatch(job::matches);
        assertThat(job.matches("pipeline")).isFalse();
        assertThat(job.qualifiedName()).isEqualTo("job.capstan.io");
    }
}
