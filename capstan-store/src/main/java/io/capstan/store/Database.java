package io.capstan.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.capstan.core.InvalidSpecException;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;

/**
 * A pooled connection to Capstan's database: embedded H2 in PostgreSQL mode, or PostgreSQL, chosen by the JDBC
 * URL. Each module owns its schema: {@link #migrate(String)} runs that module's Flyway migrations from
 * {@code classpath:db/migration/<module>} with a history table of its own, so that version numbers never collide.
 * Thread-safe; close it once at shutdown.
 */
public final class Database implements AutoCloseable {
    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final Dialect dialect;

    private Database(HikariDataSource dataSource, Dialect dialect) {
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.jdbi = Jdbi.create(dataSource);
    }

    /** The SQL dialect behind the URL; the SQL is shared, but a few statements (locks, sequences) differ. */
    public enum Dialect { H2, POSTGRESQL }

    public static Database open(String jdbcUrl, String user, String password) {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Dialect dialect;
        if (jdbcUrl.startsWith("jdbc:h2:")) dialect = Dialect.H2;
        else if (jdbcUrl.startsWith("jdbc:postgresql:")) dialect = Dialect.POSTGRESQL;
        else throw InvalidSpecException.of("db-url", "unsupported database URL '" + describe(jdbcUrl) + "': use jdbc:h2:... or jdbc:postgresql://host/db");
        var config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        if (user != null && !user.isEmpty()) config.setUsername(user);
        if (password != null && !password.isEmpty()) config.setPassword(password);
        config.setMaximumPoolSize(dialect == Dialect.H2 ? 8 : 16);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(Duration.ofSeconds(10).toMillis());
        config.setPoolName("capstan");
        // Connect lazily: the first use (the migrations) reports an unreachable database, and start-up can overlap
        // opening the database with everything else.
        config.setInitializationFailTimeout(-1);
        return new Database(new HikariDataSource(config), dialect);
    }

    /**
     * The URL without its parameters and user info, for messages: a parameter or the part before '@' may hold a
     * password, and messages end up in logs.
     */
    public static String describe(String jdbcUrl) {
        var cut = jdbcUrl.replaceFirst("(?<=//)[^/?#@]*@", "");
        int end = cut.length();
        for (char c : new char[] {'?', ';', '&'}) {
            int i = cut.indexOf(c);
            if (i >= 0 && i < end) end = i;
        }
        return cut.substring(0, end);
    }

    /** Runs the migrations under {@code classpath:db/migration/<module>}, recording them in {@code flyway_<module>}. */
    public void migrate(String module) {
        if (!module.matches("[a-z][a-z0-9_]*")) throw new IllegalArgumentException("module name must be lower-case identifier: " + module);
        Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration/" + module)
                .table("flyway_" + module)
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .load()
                .migrate();
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public Dialect dialect() {
        return dialect;
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
