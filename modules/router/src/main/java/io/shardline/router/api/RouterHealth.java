package io.shardline.router.api;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.bson.Document;

/**
 * What a router can serve, as {@code GET /health} answers it.
 *
 * <ul>
 * <li>{@link Status#UP}: its lease holds and every registered shard is UP.</li>
 * <li>{@link Status#DEGRADED}: its lease holds, but some shards are DOWN: requests for their ranges are refused at
 * once, the rest are served.</li>
 * <li>{@link Status#DOWN}: its lease ran out (its acks are not reaching Kafka), so it refuses writes; once its routing
 * has gone unconfirmed for longer than {@code maxReadStaleness} past the lease, it refuses reads too (after waiting to
 * catch up).</li>
 * </ul>
 *
 * @param routingVersion  the routing version the router has applied
 * @param routingAgeMillis how long ago the router last confirmed its routing (its last ack the broker took, which
 *                         renewed its lease); {@code null} before it ever did
 * @param leaseValid      whether the router holds a lease, i.e. takes writes
 * @param shardsDown      the registered shards (not RETIRED) whose descriptor says DOWN, by id
 * @param reasons         why the status is not UP, one sentence each; empty when UP
 */
public record RouterHealth(Status status, long routingVersion, Long routingAgeMillis, boolean leaseValid, List<DownShard> shardsDown,
                           List<String> reasons) {

    /** How much of its work a router can do. */
    public enum Status {
        UP, DEGRADED, DOWN
    }

    /**
     * A shard whose descriptor says DOWN.
     *
     * @param since when the health monitor saw it stop answering; {@code null} when the descriptor does not say
     * @param cause the monitor's last probe failure; {@code null} when the descriptor does not say
     */
    public record DownShard(String shardId, Instant since, String cause) {
    }

    public RouterHealth {
        shardsDown = List.copyOf(shardsDown);
        reasons = List.copyOf(reasons);
    }

    /**
     * The health of a router from what it tracks.
     *
     * @param now                  the time to judge at
     * @param leaseValidUntilMillis when the router's lease runs or ran out (epoch millis), 0 before it ever held one
     * @param leaseDuration        how long each renewal holds: the routing was last confirmed that long before the lease's end
     * @param maxReadStaleness     how long past the lease's end the router still serves reads from its routing
     */
    public static RouterHealth of(Instant now, long routingVersion, long leaseValidUntilMillis, Duration leaseDuration,
                                  Duration maxReadStaleness, List<DownShard> shardsDown) {
        long nowMillis = now.toEpochMilli();
        boolean leaseValid = nowMillis < leaseValidUntilMillis;
        Long age = leaseValidUntilMillis == 0 ? null : Math.max(0, nowMillis - (leaseValidUntilMillis - leaseDuration.toMillis()));
        List<String> reasons = new ArrayList<>();
        if (!leaseValid) {
            long lapsed = nowMillis - leaseValidUntilMillis;
            reasons.add(leaseValidUntilMillis == 0 ? "the router has not held a lease yet: it refuses writes"
                : "the router's lease ran out " + lapsed + " ms ago (its acks are not reaching Kafka): it refuses writes until it renews it");
            if (leaseValidUntilMillis == 0 || lapsed > maxReadStaleness.toMillis()) {
                reasons.add("its routing has gone unconfirmed for longer than maxReadStaleness (" + maxReadStaleness.toMillis()
                    + " ms) past its lease: reads wait to catch up, else are refused");
            }
        }
        for (DownShard shard : shardsDown) {
            reasons.add("shard " + shard.shardId() + " is DOWN" + (shard.since() == null ? "" : " since " + shard.since())
                + (shard.cause() == null ? "" : ": " + shard.cause()) + "; requests for its ranges are refused at once");
        }
        Status status = !leaseValid ? Status.DOWN : shardsDown.isEmpty() ? Status.UP : Status.DEGRADED;
        return new RouterHealth(status, routingVersion, age, leaseValid, shardsDown, reasons);
    }

    /** 503 while the router cannot serve ({@link Status#DOWN}); 200 otherwise, also while some shards are DOWN. */
    public int httpStatus() {
        return status == Status.DOWN ? 503 : 200;
    }

    /** The answer of {@code GET /health}; instants in ISO-8601. */
    public Document toDocument() {
        List<Document> down = shardsDown.stream().map(shard -> new Document("shardId", shard.shardId())
            .append("since", shard.since() == null ? null : shard.since().toString()).append("cause", shard.cause())).toList();
        return new Document("status", status.name()).append("routingVersion", routingVersion).append("routingAgeMillis", routingAgeMillis)
            .append("leaseValid", leaseValid).append("shardsDown", down).append("reasons", reasons);
    }
}
