package io.shardline.cli.demo;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardStats;

/**
 * What the demo shows while it runs: on a terminal a frame redrawn in place (per-shard storage and load bars against
 * capacity, running migrations with progress bars, the latest events); otherwise plain lines, one per event.
 */
final class DemoView {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
    private static final int BAR = 24;
    private static final int EVENTS_SHOWN = 8;

    /** The run's own figures, next to the control plane's. */
    record Status(long elapsedMillis, long durationMillis, String phase, double opsPerSecond, long failures, Map<String, String> urls) {
    }

    private DemoView() {
    }

    static String frame(ClusterWatch.Snapshot snapshot, Status status) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Shardline demo  %s of %s  phase %s  %.0f ops/s  failed requests %d%n",
            clock(status.elapsedMillis()), clock(status.durationMillis()), status.phase(), status.opsPerSecond(), status.failures()));
        status.urls().forEach((name, url) -> out.append("  ").append(name).append(' ').append(url).append('\n'));
        out.append(String.format(Locale.ROOT, "%n%-6s %-9s %-38s %-34s %9s %6s%n", "SHARD", "STATE", "STORAGE (of capacity)",
            "LOAD (of capacity)", "DOCS", "CHUNKS"));
        for (ShardDescriptor shard : snapshot.shards().values()) {
            ShardStats stats = snapshot.stats().get(shard.getShardId());
            double storage = stats == null ? 0 : stats.getStorageRatio();
            double load = stats == null ? 0 : stats.getLoadRatio();
            out.append(String.format(Locale.ROOT, "%-6s %-9s %s %4.0f%% %8s  %s %4.0f%% %5.0f/s %9d %6d%n", shard.getShardId(),
                shard.getState(), bar(storage, BAR), storage * 100, bytes(stats == null ? 0 : stats.getDataBytes()), bar(load, 16), load * 100,
                stats == null ? 0 : stats.getReadsPerSec() + stats.getWritesPerSec(), stats == null ? 0 : stats.getDocumentCount(),
                snapshot.chunksOf(shard.getShardId())));
        }
        out.append("\nMIGRATIONS\n");
        List<ClusterWatch.Migration> running = snapshot.migrations().values().stream().filter(m -> !m.ended()).toList();
        if (running.isEmpty()) {
            out.append("  none running; ").append(snapshot.migrations().size()).append(" done\n");
        }
        for (ClusterWatch.Migration migration : running) {
            MigrationState state = migration.state();
            double done = state.getTotalDocs() == 0 ? 0 : (double) state.getCopiedDocs() / state.getTotalDocs();
            out.append(String.format(Locale.ROOT, "  %-8s %-18s %s->%s %-11s %s %d/%d docs  lag %d events / %d ms%n",
                state.getMigrationId().substring(0, 8), state.getNamespace(), state.getSourceShardId(), state.getTargetShardId(),
                state.getPhase(), bar(Math.min(1, done), 20), state.getCopiedDocs(), state.getTotalDocs(), state.getReplayLagEvents(),
                state.getReplayLagMillis()));
        }
        out.append("\nLATEST EVENTS\n");
        List<ShardEvent> shown = snapshot.events().stream().filter(DemoView::worthShowing).toList();
        for (ShardEvent event : shown.subList(Math.max(0, shown.size() - EVENTS_SHOWN), shown.size())) {
            out.append("  ").append(line(event)).append('\n');
        }
        return out.toString();
    }

    /** Progress events come every second per migration; the frame and the log leave them out. */
    static boolean worthShowing(ShardEvent event) {
        return event.getType() != ShardEventType.MIGRATION_PROGRESS;
    }

    static String line(ShardEvent event) {
        String reason = event.getReason();
        return CLOCK.format(event.getTimestamp()) + " " + event.getType() + " " + (event.getShardId() == null ? "-" : event.getShardId())
            + (event.getNamespace() == null ? "" : " " + event.getNamespace()) + ": " + (reason.length() > 160 ? reason.substring(0, 157) + "..." : reason);
    }

    static String status(ClusterWatch.Snapshot snapshot, Status status) {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%s %s phase=%s ops/s=%.0f", CLOCK.format(Instant.now()),
            clock(status.elapsedMillis()), status.phase(), status.opsPerSecond()));
        for (ShardDescriptor shard : snapshot.shards().values()) {
            ShardStats stats = snapshot.stats().get(shard.getShardId());
            out.append(String.format(Locale.ROOT, " %s[%s storage=%.0f%% load=%.0f%% chunks=%d]", shard.getShardId(), shard.getState(),
                stats == null ? 0 : stats.getStorageRatio() * 100, stats == null ? 0 : stats.getLoadRatio() * 100, snapshot.chunksOf(shard.getShardId())));
        }
        return out.toString();
    }

    static String bar(double ratio, int width) {
        int filled = (int) Math.round(Math.max(0, Math.min(1, ratio)) * width);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
    }

    static String clock(long millis) {
        long seconds = millis / 1000;
        return String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024));
    }
}
