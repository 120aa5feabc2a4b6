package io.shardline.cli.demo;

import io.shardline.worker.check.WriteLedger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;

/** The demo's closing report, from the ledger's verdict, the control plane and the workload's own measurements. */
public final class DemoReport {

    private DemoReport() {
    }

    /**
     * @param before documents of the demo's namespaces per shard when the workload started
     * @param after  the same at the end
     */
    public static String render(Duration ran, AuthWorkload workload, WriteLedger.Verdict verdict, Map<String, Long> before, Map<String, Long> after,
                         ClusterWatch.Snapshot snapshot, List<String> nextSteps) {
        StringBuilder out = new StringBuilder();
        out.append("== Shardline demo report ==\n");
        out.append(String.format(Locale.ROOT, "ran %s; %,d requests through the router (%,d failed%s); %,d documents purged by retention%s%n",
            DemoView.clock(ran.toMillis()), workload.operations(), workload.failures(),
            workload.failures() == 0 ? "" : ": " + workload.failureKinds(), workload.purged(),
            workload.purgeRetries() == 0 ? "" : String.format(Locale.ROOT, " (%,d retries of failed batches)", workload.purgeRetries())));
        out.append(String.format(Locale.ROOT, "acknowledged writes checked: %,d documents; lost: %d, duplicated: %d, deleted but back: %d, "
            + "written by nobody: %d%s%n", verdict.checked(), verdict.lost(), verdict.duplicated(), verdict.resurrected(), verdict.unknown(),
            verdict.awaitingCleanup() == 0 ? "" : " (" + verdict.awaitingCleanup() + " copies still awaiting their range delete)"));
        verdict.examples().forEach(example -> out.append("  ").append(example).append('\n'));

        out.append("\ndocuments per shard     before      after\n");
        for (String shard : after.keySet()) {
            out.append(String.format(Locale.ROOT, "  %-16s %9d  %9d   %s%n", shard, before.getOrDefault(shard, 0L),
                after.get(shard), snapshot.shards().containsKey(shard) ? snapshot.shards().get(shard).getState() : ""));
        }

        out.append(String.format(Locale.ROOT, "%ndecisions: %d split, %d move, %d merge, %d unsplittable chunk%n",
            snapshot.eventsOf(ShardEventType.SPLIT_DECIDED), snapshot.eventsOf(ShardEventType.MOVE_DECIDED),
            snapshot.eventsOf(ShardEventType.MERGE_DECIDED), snapshot.eventsOf(ShardEventType.CHUNK_UNSPLITTABLE)));
        for (ShardEvent event : snapshot.events()) {
            if (event.getType() == ShardEventType.SPLIT_DECIDED || event.getType() == ShardEventType.MERGE_DECIDED
                || event.getType() == ShardEventType.MOVE_DECIDED) {
                out.append("  ").append(DemoView.line(event)).append('\n');
            }
        }
        out.append(String.format(Locale.ROOT, "%nmigrations: %d%n", snapshot.migrations().size()));
        List<AuthWorkload.WriteSpan> writes = workload.writes();
        for (ClusterWatch.Migration migration : snapshot.migrations().values()) {
            out.append("  ").append(migration(migration, snapshot.events(), writes)).append('\n');
        }

        out.append("\nquery latency through the router (whole run): Java API, and wire protocol (MongoDB driver)\n");
        out.append("  ").append(latency("single-shard find", workload.singleShardLatency())).append('\n');
        out.append("  ").append(latency("single-shard find, wire", workload.singleShardWireLatency())).append('\n');
        out.append("  ").append(latency("scatter-gather find (sorted, limit 20)", workload.scatterLatency())).append('\n');
        out.append("  ").append(latency("scatter-gather find, wire", workload.scatterWireLatency())).append('\n');
        out.append("  ").append(latency("write", workload.writeLatency())).append('\n');

        out.append("\nwhere to look next\n");
        nextSteps.forEach(step -> out.append("  ").append(step).append('\n'));
        return out.toString();
    }

    private static String migration(ClusterWatch.Migration migration, List<ShardEvent> events, List<AuthWorkload.WriteSpan> writes) {
        MigrationState state = migration.state();
        Map<MigrationPhase, Long> entered = migration.entered();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %s %s->%s %s, %,d docs copied", state.getMigrationId().substring(0, 8),
            state.getNamespace(), state.getSourceShardId(), state.getTargetShardId(), state.getPhase(), state.getCopiedDocs()));
        long decided = events.stream().filter(e -> state.getCommandId().equals(e.getCommandId()))
            .mapToLong(e -> e.getTimestamp().toEpochMilli()).min().orElse(state.getStartedAt().toEpochMilli());
        Long fenced = entered.get(MigrationPhase.FENCED);
        Long cutOver = state.getCutOverAt() == null ? null : state.getCutOverAt().toEpochMilli();
        if (cutOver != null) {
            line.append(String.format(Locale.ROOT, "; command to cutover %.1f s", (cutOver - decided) / 1000.0));
        }
        if (fenced != null && cutOver != null) {
            line.append(String.format(Locale.ROOT, ", last fence %d ms (%d attempt%s)", cutOver - fenced, state.getFenceAttempts(),
                state.getFenceAttempts() == 1 ? "" : "s"));
            List<Long> stalled = new ArrayList<>();
            for (AuthWorkload.WriteSpan write : writes) {
                if (write.namespace().equals(state.getNamespace()) && write.endMillis() >= fenced && write.startMillis() <= cutOver) {
                    stalled.add(write.endMillis() - write.startMillis());
                }
            }
            Collections.sort(stalled);
            if (stalled.isEmpty()) {
                line.append(", no write overlapped the fence");
            } else {
                line.append(String.format(Locale.ROOT, ", %d writes to %s overlapped it: latency p50 %d ms, p99 %d ms, max %d ms", stalled.size(),
                    state.getNamespace(), percentile(stalled, 0.5), percentile(stalled, 0.99), stalled.get(stalled.size() - 1)));
            }
        }
        if (state.getError() != null) {
            line.append("; ").append(state.getError());
        }
        return line.toString();
    }

    private static long percentile(List<Long> sorted, double p) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
    }

    private static String latency(String what, Timer timer) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-40s n=%,d", what, timer.count()));
        for (ValueAtPercentile value : timer.takeSnapshot().percentileValues()) {
            line.append(String.format(Locale.ROOT, "  p%.0f %.2f ms", value.percentile() * 100, value.value(TimeUnit.MILLISECONDS)));
        }
        line.append(String.format(Locale.ROOT, "  max %.2f ms", timer.max(TimeUnit.MILLISECONDS)));
        return line.toString();
    }
}
