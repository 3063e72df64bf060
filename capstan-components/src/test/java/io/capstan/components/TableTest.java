package io.capstan.components;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TableTest {
    @TempDir
    Path tmp;

    @Test
    void parsesQuotesDelimitersAndLineEnds() {
        var records = Table.parse("\uFEFFa;\"b;c\"\r\n\"say \"\"hi\"\"\";\"two\nlines\"\r\n\n", ';', "test");
        assertThat(records).containsExactly(List.of("a", "b;c"), List.of("say \"hi\"", "two\nlines"));
    }

    @Test
    void roundTripsThroughWrite() throws Exception {
        var table = new Table(List.of("x", "note"), List.of(List.of("1", "a,b"), List.of("2", "q\"")));
        var file = tmp.resolve("t.csv");
        table.write(file, "test");
        assertThat(Files.readString(file)).isEqualTo("x,note\n1,\"a,b\"\n2,\"q\"\"\"\n");
        assertThat(Table.read(file, "test")).isEqualTo(table);
    }

    @Test
    void headerlessFilesGetColumnNames() throws Exception {
        var file = tmp.resolve("h.csv");
        Files.writeString(file, "1\t2\n3\t4\n");
        var table = Table.read(file, '\t', false, "test");
        assertThat(table.columns()).containsExactly("column_0", "column_1");
        assertThat(table.rows()).hasSize(2);
    }
}
