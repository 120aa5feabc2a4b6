package io.shardline.cli.demo;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import io.shardline.controlplane.CommandPlanner;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.shard.EmbeddedShard;

/**
 * The demo's failover: one shard is given a standby (a scratch embedded shard, seeded and fed from its CDC topics)
 * when the workload starts, and is killed mid-run: it stops answering, keeping its data, as a crashed process would.
 * The report says when the health monitor found it DOWN, how long the promotion took, how many requests failed
 * meanwhile, and the write ledger's check, against the promoted standby, says whether an acknowledged write was lost
 * (with the default durability, none may be).
 */
public final class FailoverDemo {

    private final ControlPlaneClient plane;
    private final String shardId;
    private final EmbeddedShard primary;
    private final EmbeddedShard standby;
    private long killedAt;
    private long failuresAtKill;

    /**
     * Publishes the command that gives {@code standby} to the shard; the standby must outlive the cluster's connectors,
     * since it becomes the shard.
     */
    public FailoverDemo(ControlPlaneClient plane, String shardId, EmbeddedShard primary, EmbeddedShard standby) {
        this.plane = plane;
        this.shardId = shardId;
        this.primary = primary;
        this.standby = standby;
        CommandPlanner.Planned planned = new CommandPlanner(plane).addStandby(shardId, standby.connectionString());
        plane.publisher().publishCommand(planned.key(), planned.command("demo", "the demo kills this shard mid-run"));
    }

    public String shardId() {
        return shardId;
    }

    /** True once the shard's descriptor names its standby (seeded, its sink running). */
    public boolean standbyReady() {
        ShardDescriptor shard = plane.shards().get(shardId);
        return shard != null && standby.connectionString().equals(shard.getStandbyConnectionString());
    }

    /** True while the shard is ACTIVE: a shard merged away (RETIRED) is no longer watched, and killing it shows nothing. */
    public boolean active() {
        ShardDescriptor shard = plane.shards().get(shardId);
        return shard != null && shard.getState() == io.shardline.schemas.avro.ShardState.ACTIVE;
    }

    public boolean killed() {
        return killedAt > 0;
    }

    /** Kills the shard: it stops answering, as a crashed process does. */
    public void kill(long failuresSoFar) {
        failuresAtKill = failuresSoFar;
        killedAt = System.currentTimeMillis();
        primary.stopAnswering();
    }

    /** True once the failover of the killed shard was published. */
    public boolean failedOver(List<ShardEvent> events) {
        return event(events, ShardEventType.SHARD_FAILED_OVER).isPresent();
    }

    /** The report's lines: detection, promotion, the requests that failed in between. */
    public List<String> lines(List<ShardEvent> events, long failuresAtFailover) {
        if (!killed()) {
            return List.of("failover: no shard was killed: " + (!standbyReady() ? "the standby of " + shardId + " was not ready in time"
                : !active() ? shardId + " is no longer ACTIVE" : "the run ended before its middle"));
        }
        Optional<ShardEvent> down = event(events, ShardEventType.SHARD_DOWN);
        Optional<ShardEvent> failedOver = event(events, ShardEventType.SHARD_FAILED_OVER);
        if (failedOver.isEmpty()) {
            return List.of("failover: " + shardId + " killed, " + down.map(e -> "DOWN " + since(e) + " ms after").orElse("never found DOWN")
                + ", but NOT failed over" + event(events, ShardEventType.FAILOVER_FAILED).map(e -> ": " + e.getReason()).orElse(""));
        }
        Map<String, Double> figures = failedOver.get().getFigures();
        return List.of(String.format(Locale.ROOT, "failover: %s killed mid-run; DOWN %s ms after the kill; promotion %.0f ms (catch-up %.0f ms, "
                + "new CDC connector capturing %.0f ms); the standby serving %d ms after the kill; %d requests failed in between",
            shardId, down.map(e -> Long.toString(since(e))).orElse("?"), figures.getOrDefault("promotionMillis", -1.0),
            figures.getOrDefault("catchUpMillis", -1.0), figures.getOrDefault("captureMillis", -1.0), since(failedOver.get()),
            failuresAtFailover - failuresAtKill),
            "  durability standby (the default): the ledger check above counts the acknowledged writes lost, on the promoted standby");
    }

    private Optional<ShardEvent> event(List<ShardEvent> events, ShardEventType type) {
        return events.stream().filter(e -> e.getType() == type && shardId.equals(e.getShardId())
            && e.getTimestamp().toEpochMilli() >= killedAt).findFirst();
    }

    private long since(ShardEvent event) {
        return event.getTimestamp().toEpochMilli() - killedAt;
    }
}
