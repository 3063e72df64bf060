package io.capstan.monitoring.internal;

import io.airlift.compress.Decompressor;
import io.airlift.compress.lz4.Lz4Decompressor;
import io.airlift.compress.snappy.SnappyDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Parquet's page codecs in pure Java, for reading only: uncompressed, Snappy, gzip, ZSTD and LZ4_RAW (aircompressor and
 * the JDK). parquet-hadoop's own factory builds a Hadoop Configuration for every codec, which needs Hadoop's runtime.
 */
final class ParquetCodecs implements CompressionCodecFactory {
    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codecName) {
        throw new UnsupportedOperationException("reference datasets are only read");
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
        return switch (codec) {
            case UNCOMPRESSED -> new Codec(codec, null);
            case SNAPPY -> new Codec(codec, new SnappyDecompressor());
            case ZSTD -> new Codec(codec, new ZstdDecompressor());
            case LZ4_RAW -> new Codec(codec, new Lz4Decompressor());
            case GZIP -> new Codec(codec, null);
            default -> throw new UnsupportedOperationException("pages compressed with " + codec
                    + " cannot be read; write the reference with SNAPPY, ZSTD, GZIP, LZ4_RAW or no compression");
        };
    }

    @Override
    public void release() {
    }

    private record Codec(CompressionCodecName name, Decompressor decompressor) implements BytesInputDecompressor {
        @Override
        public BytesInput decompress(BytesInput bytes, int uncompressedSize) throws IOException {
            if (name == CompressionCodecName.UNCOMPRESSED) return bytes;
            var input = bytes.toByteArray();
            var output = new byte[uncompressedSize];
            int n;
            if (name == CompressionCodecName.GZIP) {
                try (var in = new GZIPInputStream(new java.io.ByteArrayInputStream(input))) {
                    n = in.readNBytes(output, 0, uncompressedSize);
                }
            } else {
                try {
                    n = decompressor.decompress(input, 0, input.length, output, 0, uncompressedSize);
                } catch (RuntimeException e) {
                    throw new IOException("a " + name + " page does not decompress: " + e.getMessage(), e);
                }
            }
            if (n != uncompressedSize) throw new IOException("a " + name + " page decompressed to " + n + " bytes, not the " + uncompressedSize + " its header says");
            return BytesInput.from(output);
        }

        @Override
        public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int decompressedSize) throws IOException {
            var in = new byte[compressedSize];
            input.get(in);
            output.put(decompress(BytesInput.from(in), decompressedSize).toByteArray());
        }

        @Override
        public void release() {
        }
    }
}
