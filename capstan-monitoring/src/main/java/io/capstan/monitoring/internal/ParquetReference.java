package io.capstan.monitoring.internal;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;

/**
 * A reference dataset in a Parquet file: the listed features' top-level columns, each numeric (INT32, INT64, FLOAT,
 * DOUBLE, BOOLEAN as 0 and 1). Read with parquet-hadoop's file reader over Parquet's own {@link InputFile}, without
 * Hadoop. Messages name the column and row, never a value.
 */
final class ParquetReference {
    private ParquetReference() {
    }

    static double[][] read(ReferenceSource.Dataset dataset, List<String> features) throws IOException {
        var source = dataset.source();
        InputFile file = dataset.file() != null ? new LocalInputFile(dataset.file()) : new BytesInputFile(dataset.bytes());
        // a plain configuration and pure-Java codecs: the defaults are Hadoop's, whose runtime is not on the classpath
        try (var reader = new ParquetFileReader(file, ParquetReadOptions.builder(new PlainParquetConfiguration())
                .withCodecFactory(new ParquetCodecs()).build())) {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            long total = reader.getRecordCount();
            if (total > ModelMonitorSpec.MAX_ROWS) {
                throw new InvalidSpecException("spec.reference.uri: " + source + " has more than " + ModelMonitorSpec.MAX_ROWS + " rows; give a sample");
            }
            if (total < 2) throw new InvalidSpecException("spec.reference.uri: " + source + " has " + total + " data rows; it needs at least 2");
            var columns = new ColumnDescriptor[features.size()];
            for (int f = 0; f < features.size(); f++) {
                var name = features.get(f);
                if (!schema.containsField(name)) {
                    throw new InvalidSpecException("spec.reference.features[" + f + "]: '" + Names.printable(name) + "' is not a column of "
                            + source + "; its schema has " + schema.getFieldCount() + " columns");
                }
                var type = schema.getType(name);
                if (!type.isPrimitive() || type.isRepetition(org.apache.parquet.schema.Type.Repetition.REPEATED)) {
                    throw new InvalidSpecException("spec.reference.features[" + f + "]: column '" + Names.printable(name) + "' of " + source
                            + " is not a plain numeric column");
                }
                var primitive = type.asPrimitiveType().getPrimitiveTypeName();
                if (!List.of(PrimitiveType.PrimitiveTypeName.INT32, PrimitiveType.PrimitiveTypeName.INT64, PrimitiveType.PrimitiveTypeName.FLOAT,
                        PrimitiveType.PrimitiveTypeName.DOUBLE, PrimitiveType.PrimitiveTypeName.BOOLEAN).contains(primitive)) {
                    throw new InvalidSpecException("spec.reference.uri: column '" + Names.printable(name) + "' of " + source + " is " + primitive
                            + ", not a number (categorical features are numeric codes, as in the input tensor)");
                }
                columns[f] = schema.getColumnDescription(new String[] {name});
            }
            var out = new double[features.size()][(int) total];
            int row = 0;
            var converter = new GroupRecordConverter(schema);
            var createdBy = reader.getFooter().getFileMetaData().getCreatedBy();
            org.apache.parquet.column.page.PageReadStore pages;
            while ((pages = reader.readNextRowGroup()) != null) {
                var store = new ColumnReadStoreImpl(pages, converter.getRootConverter(), schema, createdBy);
                int rows = (int) pages.getRowCount();
                for (int f = 0; f < columns.length; f++) {
                    ColumnReader column = store.getColumnReader(columns[f]);
                    int maxDefinition = columns[f].getMaxDefinitionLevel();
                    for (int r = 0; r < rows; r++) {
                        if (column.getCurrentDefinitionLevel() < maxDefinition) {
                            throw new InvalidSpecException("spec.reference.uri: row " + (row + r + 1) + " of " + source + ": column '"
                                    + Names.printable(features.get(f)) + "' is null");
                        }
                        double v = switch (columns[f].getPrimitiveType().getPrimitiveTypeName()) {
                            case INT32 -> column.getInteger();
                            case INT64 -> column.getLong();
                            case FLOAT -> column.getFloat();
                            case DOUBLE -> column.getDouble();
                            case BOOLEAN -> column.getBoolean() ? 1 : 0;
                            default -> throw new IllegalStateException("unreachable");
                        };
                        if (!Double.isFinite(v)) {
                            throw new InvalidSpecException("spec.reference.uri: row " + (row + r + 1) + " of " + source + ": column '"
                                    + Names.printable(features.get(f)) + "' is not a finite number");
                        }
                        out[f][row + r] = v;
                        column.consume();
                    }
                }
                row += rows;
            }
            return out;
        } catch (RuntimeException e) {
            if (e instanceof InvalidSpecException) throw e;
            var failure = new InvalidSpecException("spec.reference.uri: " + source + " is not a readable Parquet file: " + e.getMessage());
            failure.initCause(e);
            throw failure;
        }
    }

    /** A Parquet file held in memory (an object read from a store). */
    private record BytesInputFile(byte[] bytes) implements InputFile {
        @Override
        public long getLength() {
            return bytes.length;
        }

        @Override
        public SeekableInputStream newStream() {
            var in = new ByteArrayInputStream(bytes) {
                long position() {
                    return pos;
                }

                void seek(long to) {
                    pos = (int) to;
                }
            };
            return new DelegatingSeekableInputStream(in) {
                @Override
                public long getPos() {
                    return in.position();
                }

                @Override
                public void seek(long newPos) {
                    in.seek(newPos);
                }
            };
        }
    }
}
