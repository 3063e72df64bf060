package io.capstan.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The client's own version, written into {@code version.properties} by the Maven build. */
final class Version {
    private Version() {
    }

    static String client() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) return "unknown";
            var props = new Properties();
            props.load(in);
            var v = props.getProperty("version", "unknown");
            // An unfiltered copy (an IDE run without Maven) still holds the placeholder.
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled version.properties", e);
        }
    }

    /** Answers {@code capstan --version}. */
    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"capstan " + client()};
        }
    }
}
