package io.shardline.cli.ops;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import io.shardline.schemas.MigrationPhases;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ShardSummary;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The operator's read commands: status, shards, routing, migrations, stats, events. */
public final class ReadCommands {

    private ReadCommands() {
    }

    /** What every read command shares: where the control plane is, and the output format. */
    abstract static class Read implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--format", defaultValue = "table", description = "table, json (one object per line) or csv (default: ${DEFAULT-VALUE}).")
        String format;

        Rows.Format format() {
            try {
                return Rows.Format.valueOf(format.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--format: '" + format + "' is not one of table, json, csv");
            }
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        @Override
        public Integer call() throws Exception {
            Rows.Format chosen = format();
            try (ControlPlaneClient plane = new ControlPlaneClient(client.bootstrap(), client.catalog())) {
                return read(plane, chosen);
            }
        }

        abstract int read(ControlPlaneClient plane, Rows.Format format) throws Exception;
    }

    /** How many shards a table lists: all of them, or the fullest with a line of totals. */
    static final class Listing {
        @Option(names = "--top", defaultValue = "20",
            description = "In a table, list at most this many shards, the fullest first, and a line of totals (default: ${DEFAULT-VALUE}).")
        int top;

        @Option(names = "--all", negatable = false, description = "List every shard (JSON and CSV always list every one).")
        boolean all;
    }

    @Command(name = "shards", mixinStandardHelpOptions = true,
        description = "The registered shards, their state and capacity: in a table the 20 fullest (--top) and totals, or --all.")
    public static final class Shards extends Read {
        @picocli.CommandLine.Mixin
        Listing listing;

        @Override
        int read(ControlPlaneClient plane, Rows.Format format) {
            printShards(plane, format, listing, out());
            return 0;
        }
    }

    /** Every shard in JSON and CSV; in a table the listed ones and, when some are left out, the totals line. */
    static void printShards(ControlPlaneClient plane, Rows.Format format, Listing listing, PrintWriter out) {
        ShardSummary summary = ShardSummary.of(plane);
        boolean table = format == Rows.Format.TABLE;
        List<ShardSummary.Shard> listed = table && !listing.all ? summary.listed(listing.top) : summary.listed(Integer.MAX_VALUE);
        Rows rows = new Rows(List.of("shard", "state", "chunks", "documents", "bytes", "storage", "load", "capacity_bytes",
            "capacity_ops", "connection"));
        listed.forEach(s -> rows.add(s.id(), s.state(), s.chunks(), s.documents(), s.bytes(), percent(s.storage()), percent(s.load()),
            s.capacityBytes(), s.capacityOps(), s.connection()));
        rows.print(out, format, true);
        if (table) {
            out.println(summary.totalsLine(listed.size()));
            out.flush();
        }
    }


    @Command(name = "routing", mixinStandardHelpOptions = true, description = "The routing table: every chunk, its key range, owner and state.")
    public static final class Routing extends Read {
        @Option(names = "--ns", description = "Only this namespace.")
        String namespace;

        @Override
        int read(ControlPlaneClient plane, Rows.Format format) {
            List<ChunkRoute> chunks = plane.routing(namespace);
            if (namespace != null && chunks.isEmpty()) {
                throw new IllegalArgumentException("--ns: no routing for namespace " + namespace);
            }
            Rows rows = new Rows(List.of("namespace", "chunk_min", "chunk_max", "shard", "state", "version", "migration"));
            for (ChunkRoute route : chunks) {
                String min = KeyHex.of(route.getMin());
                rows.add(route.getNamespace(), min.isEmpty() ? "min" : min, route.getMax() == null ? "max" : KeyHex.of(route.getMax()),
                    route.getShardId(), route.getState(), route.getVersion(), route.getMigrationId());
            }
            rows.print(out(), format, true);
            return 0;
        }
    }

    @Command(name = "migrations", mixinStandardHelpOptions = true,
        description = "Migrations and their progress; --watch redraws running ones with progress bars until they end.")
    public static final class Migrations extends Read {
        @Option(names = "--watch", negatable = false, description = "Follow running migrations until none runs.")
        boolean watch;

        @Option(names = "--all", negatable = false, description = "Ended migrations too (default: running ones, or all when none runs).")
        boolean all;

        @Override
        int read(ControlPlaneClient plane, Rows.Format format) throws InterruptedException {
            if (!watch) {
                migrationRows(plane, all).print(out(), format, true);
                return 0;
            }
            boolean live = System.console() != null;
            Map<String, String> printed = new HashMap<>();
            while (true) {
                List<MigrationState> all = plane.migrations().values().stream()
                    .sorted(java.util.Comparator.comparing(MigrationState::getStartedAt)).toList();
                List<MigrationState> running = all.stream().filter(m -> !MigrationPhases.ended(m)).toList();
                if (live) {
                    // A terminal: the running migrations' bars redrawn in place.
                    out().print("\u001b[H\u001b[2J");
                    running.forEach(m -> out().println(progressLine(m)));
                } else {
                    // A pipe or a file: a line whenever a migration's progress changed.
                    for (MigrationState m : all) {
                        String line = progressLine(m);
                        if ((printed.containsKey(m.getMigrationId()) || !MigrationPhases.ended(m)) && !line.equals(printed.put(m.getMigrationId(), line))) {
                            out().println(line);
                        }
                    }
                }
                out().flush();
                if (running.isEmpty()) {
                    out().println("no migration running");
                    return 0;
                }
                Thread.sleep(1_000);
            }
        }
    }

    static Rows migrationRows(ControlPlaneClient plane, boolean all) {
        List<MigrationState> migrations = plane.migrations().values().stream()
            .sorted(java.util.Comparator.comparing(MigrationState::getStartedAt)).toList();
        boolean anyRunning = migrations.stream().anyMatch(m -> !MigrationPhases.ended(m));
        Rows rows = new Rows(List.of("migration", "namespace", "from", "to", "phase", "lane", "copied", "total", "lag_events", "lag_ms",
            "fence_attempts", "started", "error"));
        for (MigrationState m : migrations) {
            if (all || !anyRunning || !MigrationPhases.ended(m)) {
                rows.add(m.getMigrationId(), m.getNamespace(), m.getSourceShardId(), m.getTargetShardId(), m.getPhase(),
                    m.getLane() < 0 ? "waiting" : Integer.toString(m.getLane()), m.getCopiedDocs(),
                    m.getTotalDocs(), m.getReplayLagEvents(), m.getReplayLagMillis(), m.getFenceAttempts(), m.getStartedAt(), m.getError());
            }
        }
        return rows;
    }

    static String progressLine(MigrationState m) {
        double done = m.getTotalDocs() == 0 ? (MigrationPhases.ended(m) ? 1 : 0) : Math.min(1, (double) m.getCopiedDocs() / m.getTotalDocs());
        int filled = (int) Math.round(done * 30);
        return String.format(Locale.ROOT, "%s %-18s %s->%s %-11s [%s%s] %d/%d docs  lag %d events / %d ms", m.getMigrationId().substring(0, 8),
            m.getNamespace(), m.getSourceShardId(), m.getTargetShardId(), m.getPhase(), "#".repeat(filled), ".".repeat(30 - filled),
            m.getCopiedDocs(), m.getTotalDocs(), m.getReplayLagEvents(), m.getReplayLagMillis());
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
        description = "The controller's last decision window per shard: documents, bytes, rates, storage and load against capacity.")
    public static final class Stats extends Read {
        @Override
        int read(ControlPlaneClient plane, Rows.Format format) {
            Rows rows = new Rows(List.of("shard", "documents", "bytes", "reads_per_sec", "writes_per_sec", "storage", "load", "updated"));
            plane.stats().values().forEach(s -> rows.add(s.getShardId(), s.getDocumentCount(), s.getDataBytes(),
                round(s.getReadsPerSec()), round(s.getWritesPerSec()), percent(s.getStorageRatio()), percent(s.getLoadRatio()), s.getUpdatedAt()));
            rows.print(out(), format, true);
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
        description = "The cluster at a glance: shards (in a table the 20 fullest, --top, and totals, or --all), namespaces, running migrations.")
    public static final class Status extends Read {
        @picocli.CommandLine.Mixin
        Listing listing;

        @Override
        int read(ControlPlaneClient plane, Rows.Format format) {
            PrintWriter out = out();
            printShards(plane, format, listing, out);
            if (format == Rows.Format.TABLE) {
                out.println();
                Map<String, Long> chunks = new java.util.TreeMap<>();
                plane.routing(null).forEach(route -> chunks.merge(route.getNamespace(), 1L, Long::sum));
                Map<String, io.shardline.schemas.avro.NamespaceConfig> configs = plane.namespaces();
                chunks.forEach((ns, count) -> out.println("namespace " + ns + ": " + count + " chunks, strategy "
                    + (configs.containsKey(ns) ? configs.get(ns).getStrategy() : "unknown")));
                long running = plane.migrations().values().stream().filter(m -> !MigrationPhases.ended(m)).count();
                out.println("migrations: " + running + " running, " + plane.migrations().size() + " in all");
                out.flush();
            }
            return 0;
        }
    }

    @Command(name = "events", mixinStandardHelpOptions = true, description = "The events of shardline.events, as a table or JSON lines.")
    public static final class Events extends Read {
        @Option(names = "--follow", negatable = false, description = "Keep printing new events until interrupted.")
        boolean follow;

        @Option(names = "--type", split = ",", description = "Only these types, e.g. SPLIT_DECIDED,MERGE_DECIDED.")
        Set<ShardEventType> types;

        @Option(names = "--shard", description = "Only events about this shard.")
        String shard;

        @Option(names = "--limit", defaultValue = "0", description = "Only the last N events read (0: all; default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() throws Exception {
            if (limit < 0) {
                throw new IllegalArgumentException("--limit must be >= 0, was " + limit);
            }
            return super.call();
        }

        @Override
        int read(ControlPlaneClient plane, Rows.Format format) throws InterruptedException {
            try (TopicTail<ShardEvent> tail = new TopicTail<>(plane.bootstrap(), plane.catalog().events(), true, plane.catalog().controlDlq().name(), "cli")) {
                List<ShardEvent> events = tail.readToEnd().stream().map(TopicTail.Appended::value).filter(this::wanted).toList();
                print(events.subList(limit == 0 ? 0 : Math.max(0, events.size() - limit), events.size()), format, true);
                while (follow && !Thread.currentThread().isInterrupted()) {
                    print(tail.poll(Duration.ofMillis(500)).stream().map(TopicTail.Appended::value).filter(this::wanted).toList(), format, false);
                }
            }
            return 0;
        }

        private boolean wanted(ShardEvent event) {
            return (types == null || types.contains(event.getType())) && (shard == null || shard.equals(event.getShardId()));
        }

        private void print(List<ShardEvent> events, Rows.Format format, boolean header) {
            Rows rows = new Rows(List.of("timestamp", "type", "shard", "namespace", "source", "issuer", "command_id", "migration_id", "reason"));
            events.forEach(e -> rows.add(e.getTimestamp(), e.getType(), e.getShardId(), e.getNamespace(), e.getSource(), e.getIssuer(),
                e.getCommandId(), e.getMigrationId(), e.getReason()));
            if (!events.isEmpty() || header) {
                rows.print(out(), format, header);
            }
        }
    }

    static String percent(double ratio) {
        return ShardSummary.percent(ratio);
    }

    static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }
}
