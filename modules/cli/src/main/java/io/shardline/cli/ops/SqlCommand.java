package io.shardline.cli.ops;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.cli.config.DurationConverter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code shardline sql}: SQL (DuckDB) over the control-plane topics, read to their end: {@code shard_events},
 * {@code commands}, {@code migrations}, {@code migration_steps}, {@code stats}, {@code routing}. With {@code --follow}
 * the query runs again whenever new records arrive and prints the rows it has not printed yet (a push query).
 */
@Command(name = "sql", mixinStandardHelpOptions = true,
    description = "Query the control-plane topics with SQL: shard_events, commands, migrations, migration_steps, stats, routing.")
public final class SqlCommand extends ReadCommands.Read {

    @Parameters(index = "0", paramLabel = "QUERY", description = "e.g. \"SELECT type, count(*) FROM shard_events GROUP BY type\"")
    String query;

    @Option(names = "--follow", negatable = false, description = "Run the query again on new records and print the new rows, until interrupted.")
    boolean follow;

    @Option(names = "--interval", defaultValue = "1s", converter = DurationConverter.class,
        description = "How often --follow looks for new records (default: ${DEFAULT-VALUE}).")
    Duration interval;

    @Override
    int read(ControlPlaneClient plane, Rows.Format format) throws Exception {
        try (SqlTables tables = new SqlTables(plane.bootstrap(), plane.catalog());
             Connection connection = DriverManager.getConnection("jdbc:duckdb:")) {
            tables.refresh();
            tables.load(connection);
            Rows first = run(connection);
            first.print(out(), format, true);
            Set<List<Object>> printed = new HashSet<>(first.rows());
            while (follow && !Thread.currentThread().isInterrupted()) {
                Thread.sleep(interval.toMillis());
                if (tables.refresh() == 0) {
                    continue;
                }
                tables.load(connection);
                Rows fresh = new Rows(first.columns());
                for (List<Object> row : run(connection).rows()) {
                    if (printed.add(row)) {
                        fresh.add(row.toArray());
                    }
                }
                if (!fresh.rows().isEmpty()) {
                    fresh.print(out(), format, false);
                }
            }
        }
        return 0;
    }

    private Rows run(Connection connection) {
        try (Statement statement = connection.createStatement(); ResultSet result = statement.executeQuery(query)) {
            ResultSetMetaData meta = result.getMetaData();
            List<String> columns = new ArrayList<>();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                columns.add(meta.getColumnLabel(i));
            }
            Rows rows = new Rows(columns);
            while (result.next()) {
                Object[] values = new Object[columns.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = result.getObject(i + 1);
                }
                rows.add(values);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalArgumentException("QUERY: " + e.getMessage().lines().findFirst().orElse(e.getMessage()), e);
        }
    }
}
