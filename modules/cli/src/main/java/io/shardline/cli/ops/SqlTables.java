package io.shardline.cli.ops;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.specific.SpecificRecord;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyHex;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardStats;

/**
 * The control-plane topics as DuckDB tables, from a bounded read (each topic up to its end when {@link #refresh()} runs):
 * {@code shard_events}, {@code commands} and {@code migration_steps} hold every record; {@code migrations},
 * {@code stats} and {@code routing} the latest per key. Bytes (keys) are hex; maps and command bodies are JSON.
 */
final class SqlTables implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A table: its columns with their SQL types, and the row of one record. */
    private record Table<V>(String name, Map<String, String> columns, Function<V, Object[]> row) {
    }

    private final TopicTail<ShardEvent> events;
    private final TopicTail<ShardCommand> commands;
    private final TopicTail<MigrationState> migrationLog;
    private final TopicTable<ShardStats> stats;
    private final TopicTable<ChunkRoute> routing;
    private final TopicTable<ChunkStats> chunkStats;
    private final List<ShardEvent> eventRows = new ArrayList<>();
    private final List<ShardCommand> commandRows = new ArrayList<>();
    private final List<MigrationState> steps = new ArrayList<>();
    private final Map<String, MigrationState> latestMigrations = new LinkedHashMap<>();

    SqlTables(String bootstrap, TopicCatalog catalog) {
        this.events = new TopicTail<>(bootstrap, catalog.events(), true, catalog.controlDlq().name(), "cli");
        this.commands = new TopicTail<>(bootstrap, catalog.commands(), true, catalog.controlDlq().name(), "cli");
        this.migrationLog = new TopicTail<>(bootstrap, catalog.migrations(), true, catalog.controlDlq().name(), "cli");
        this.stats = new TopicTable<>(bootstrap, catalog.stats(), catalog.controlDlq().name(), "cli");
        this.routing = new TopicTable<>(bootstrap, catalog.routing(), catalog.controlDlq().name(), "cli");
        this.chunkStats = new TopicTable<>(bootstrap, catalog.chunkStats(), catalog.controlDlq().name(), "cli");
    }

    /** Reads every topic to its end; returns the number of new records. */
    int refresh() {
        int fresh = 0;
        for (TopicTail.Appended<ShardEvent> e : events.readToEnd()) {
            eventRows.add(e.value());
            fresh++;
        }
        for (TopicTail.Appended<ShardCommand> c : commands.readToEnd()) {
            commandRows.add(c.value());
            fresh++;
        }
        for (TopicTail.Appended<MigrationState> m : migrationLog.readToEnd()) {
            steps.add(m.value());
            latestMigrations.put(m.value().getMigrationId(), m.value());
            fresh++;
        }
        stats.refresh();
        routing.refresh();
        chunkStats.refresh();
        return fresh;
    }

    /** (Re)creates every table in the database from what was read. */
    void load(Connection connection) throws SQLException {
        DuckDBConnection duck = connection.unwrap(DuckDBConnection.class);
        create(duck, events(), eventRows);
        create(duck, commandsTable(), commandRows);
        create(duck, migrations("migration_steps"), steps);
        create(duck, migrations("migrations"), latestMigrations.values());
        create(duck, statsTable(), stats.values().values());
        create(duck, routingTable(), routing.values().values());
        create(duck, chunkStatsTable(), chunkStats.values().values());
    }

    private static <V> void create(DuckDBConnection connection, Table<V> table, Iterable<V> records) throws SQLException {
        StringBuilder ddl = new StringBuilder("CREATE OR REPLACE TABLE " + table.name() + " (");
        table.columns().forEach((column, type) -> ddl.append(column).append(' ').append(type).append(", "));
        ddl.setLength(ddl.length() - 2);
        try (Statement statement = connection.createStatement()) {
            statement.execute(ddl.append(')').toString());
        }
        try (DuckDBAppender appender = connection.createAppender(DuckDBConnection.DEFAULT_SCHEMA, table.name())) {
            for (V record : records) {
                appender.beginRow();
                for (Object value : table.row().apply(record)) {
                    append(appender, value);
                }
                appender.endRow();
            }
        }
    }

    private static void append(DuckDBAppender appender, Object value) throws SQLException {
        if (value == null) {
            appender.appendNull();
        } else if (value instanceof Long l) {
            appender.append(l.longValue());
        } else if (value instanceof Integer i) {
            appender.append(i.intValue());
        } else if (value instanceof Double d) {
            appender.append(d.doubleValue());
        } else if (value instanceof Boolean b) {
            appender.append(b.booleanValue());
        } else if (value instanceof Instant instant) {
            appender.append(LocalDateTime.ofInstant(instant, ZoneOffset.UTC));
        } else {
            appender.append(value.toString());
        }
    }

    private static Table<ShardEvent> events() {
        return new Table<>("shard_events", columns("ts", "TIMESTAMP", "type", "VARCHAR", "shard_id", "VARCHAR", "namespace", "VARCHAR",
            "migration_id", "VARCHAR", "command_id", "VARCHAR", "issuer", "VARCHAR", "source", "VARCHAR", "reason", "VARCHAR",
            "figures", "JSON", "event_id", "VARCHAR"),
            e -> new Object[] {e.getTimestamp(), e.getType().name(), e.getShardId(), e.getNamespace(), e.getMigrationId(), e.getCommandId(),
                e.getIssuer(), e.getSource(), e.getReason(), json(e.getFigures()), e.getEventId()});
    }

    private static Table<ShardCommand> commandsTable() {
        return new Table<>("commands", columns("ts", "TIMESTAMP", "command_id", "VARCHAR", "type", "VARCHAR", "issuer", "VARCHAR",
            "reason", "VARCHAR", "body", "JSON"),
            c -> new Object[] {c.getTimestamp(), c.getCommandId(), ((SpecificRecord) c.getCommand()).getSchema().getName(), c.getIssuer(),
                c.getReason(), json(plain((SpecificRecord) c.getCommand()))});
    }

    private static Table<MigrationState> migrations(String name) {
        return new Table<>(name, columns("migration_id", "VARCHAR", "command_id", "VARCHAR", "namespace", "VARCHAR", "chunk_min", "VARCHAR",
            "chunk_max", "VARCHAR", "source_shard", "VARCHAR", "target_shard", "VARCHAR", "phase", "VARCHAR", "lane", "INTEGER", "worker_id", "VARCHAR",
            "copied_docs", "BIGINT", "total_docs", "BIGINT", "copied_bytes", "BIGINT", "replay_lag_events", "BIGINT",
            "replay_lag_ms", "BIGINT", "fence_attempts", "INTEGER", "started_at", "TIMESTAMP", "updated_at", "TIMESTAMP",
            "cut_over_at", "TIMESTAMP", "error", "VARCHAR"),
            m -> new Object[] {m.getMigrationId(), m.getCommandId(), m.getNamespace(), KeyHex.of(m.getChunkMin()),
                KeyHex.of(m.getChunkMax()), m.getSourceShardId(), m.getTargetShardId(), m.getPhase().name(), m.getLane(), m.getWorkerId(),
                m.getCopiedDocs(), m.getTotalDocs(), m.getCopiedBytes(), m.getReplayLagEvents(), m.getReplayLagMillis(), m.getFenceAttempts(),
                m.getStartedAt(), m.getUpdatedAt(), m.getCutOverAt(), m.getError()});
    }

    private static Table<ShardStats> statsTable() {
        return new Table<>("stats", columns("shard_id", "VARCHAR", "document_count", "BIGINT", "data_bytes", "BIGINT", "writes", "BIGINT",
            "reads_per_sec", "DOUBLE", "writes_per_sec", "DOUBLE", "storage_ratio", "DOUBLE", "load_ratio", "DOUBLE", "updated_at", "TIMESTAMP"),
            s -> new Object[] {s.getShardId(), s.getDocumentCount(), s.getDataBytes(), s.getWrites(), s.getReadsPerSec(), s.getWritesPerSec(),
                s.getStorageRatio(), s.getLoadRatio(), s.getUpdatedAt()});
    }

    private static Table<ChunkRoute> routingTable() {
        return new Table<>("routing", columns("namespace", "VARCHAR", "chunk_min", "VARCHAR", "chunk_max", "VARCHAR", "shard_id", "VARCHAR",
            "state", "VARCHAR", "version", "BIGINT", "epoch", "BIGINT", "migration_id", "VARCHAR"),
            r -> new Object[] {r.getNamespace(), KeyHex.of(r.getMin()), KeyHex.of(r.getMax()), r.getShardId(),
                r.getState().name(), r.getVersion(), r.getEpoch(), r.getMigrationId()});
    }

    private static Table<ChunkStats> chunkStatsTable() {
        return new Table<>("chunk_stats", columns("namespace", "VARCHAR", "chunk_min", "VARCHAR", "chunk_max", "VARCHAR", "shard_id", "VARCHAR",
            "document_count", "BIGINT", "data_bytes", "BIGINT", "writes", "BIGINT", "reads_per_sec", "DOUBLE", "writes_per_sec", "DOUBLE",
            "updated_at", "TIMESTAMP"),
            c -> new Object[] {c.getNamespace(), KeyHex.of(c.getChunkMin()), KeyHex.of(c.getChunkMax()), c.getShardId(), c.getDocumentCount(),
                c.getDataBytes(), c.getWrites(), c.getReadsPerSec(), c.getWritesPerSec(), c.getUpdatedAt()});
    }

    private static Map<String, String> columns(String... nameAndType) {
        Map<String, String> columns = new LinkedHashMap<>();
        for (int i = 0; i < nameAndType.length; i += 2) {
            columns.put(nameAndType[i], nameAndType[i + 1]);
        }
        return columns;
    }

    /** A record's fields as plain values: bytes as hex, enums and strings as text, nested records as maps. */
    static Map<String, Object> plain(SpecificRecord record) {
        Map<String, Object> fields = new LinkedHashMap<>();
        for (Schema.Field field : record.getSchema().getFields()) {
            Object value = record.get(field.pos());
            if (value instanceof ByteBuffer bytes) {
                value = KeyHex.of(bytes);
            } else if (value instanceof SpecificRecord nested) {
                value = plain(nested);
            } else if (value instanceof CharSequence || value instanceof GenericEnumSymbol<?> || value instanceof Enum<?>) {
                value = value.toString();
            }
            fields.put(field.name(), value);
        }
        return fields;
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value + " as JSON", e);
        }
    }

    @Override
    public void close() {
        events.close();
        commands.close();
        migrationLog.close();
        stats.close();
        routing.close();
        chunkStats.close();
    }
}
