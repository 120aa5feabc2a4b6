package io.shardline.router.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import io.shardline.router.api.RouterException;
import io.shardline.router.api.RouterHealth;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardState;

/**
 * Which shards the router serves: a shard whose descriptor says DOWN (the health monitor found it not answering) gets
 * no request. A request that needs it is refused at once ({@link RouterException.Kind#SHARD_DOWN}), naming the shard,
 * since when it is DOWN and why, before anything of the request is sent to any shard; a scatter read that allows a
 * partial answer leaves it out. Checked once per request, where the request's target shards are known, so that a
 * write to several shards is refused whole rather than applied on some of them.
 */
public final class ShardAvailability {

    private final RoutingState state;
    private final RouterMetrics metrics;
    private final Supplier<Instant> clock;

    public ShardAvailability(RoutingState state, RouterMetrics metrics) {
        this(state, metrics, Instant::now);
    }

    ShardAvailability(RoutingState state, RouterMetrics metrics, Supplier<Instant> clock) {
        this.state = state;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Whether the shard's descriptor says DOWN. */
    public boolean isDown(String shardId) {
        return state.shard(shardId).map(shard -> shard.getHealth() == ShardHealth.DOWN).orElse(false);
    }

    /** The shards among {@code shardIds} whose descriptor says DOWN, in their order. */
    public List<String> down(Collection<String> shardIds) {
        List<String> down = new ArrayList<>();
        for (String shard : shardIds) {
            if (isDown(shard) && !down.contains(shard)) {
                down.add(shard);
            }
        }
        return down;
    }

    /**
     * Refuses a request when any of its target shards is DOWN, counting the refusal for each such shard.
     *
     * @param operation what the request is ({@code find}, {@code insert}, ...), named in the message
     * @throws RouterException {@link RouterException.Kind#SHARD_DOWN} naming every DOWN target, since when and why
     */
    public void require(String operation, Collection<String> shardIds) {
        List<String> down = down(shardIds);
        if (!down.isEmpty()) {
            throw refuse(operation, down);
        }
    }

    /**
     * The refusal of one shard's part of a command run on several shards one by one, when that shard is DOWN (counted),
     * else empty.
     */
    public Optional<RouterException> refusal(String operation, String shardId) {
        return isDown(shardId) ? Optional.of(refuse(operation, List.of(shardId), "it was not sent to it")) : Optional.empty();
    }

    /** Counts a DOWN shard left out of a read that allows a partial answer. */
    public void leftOut(String shardId) {
        metrics.shardDownRefused(shardId);
    }

    /** Counts a refusal for each DOWN shard and says why the request is refused: nothing of it was sent to any shard. */
    RouterException refuse(String operation, List<String> down) {
        return refuse(operation, down, "nothing of this request was sent to any shard");
    }

    private RouterException refuse(String operation, List<String> down, String sent) {
        down.forEach(metrics::shardDownRefused);
        StringBuilder message = new StringBuilder(operation).append(": ");
        Instant now = clock.get();
        for (int i = 0; i < down.size(); i++) {
            if (i > 0) {
                message.append("; ");
            }
            message.append(describe(down.get(i), now));
        }
        message.append(down.size() == 1 ? "; the router sends it nothing until it is UP again"
            : "; the router sends them nothing until they are UP again");
        message.append(" (").append(sent).append("); retry later");
        return new RouterException(RouterException.Kind.SHARD_DOWN, message.toString());
    }

    private String describe(String shardId, Instant now) {
        RouterHealth.DownShard down = state.shard(shardId).map(ShardAvailability::downShard)
            .orElse(new RouterHealth.DownShard(shardId, null, null));
        StringBuilder text = new StringBuilder("shard ").append(shardId).append(" is DOWN");
        if (down.since() != null) {
            text.append(" since ").append(down.since()).append(" (")
                .append(Math.max(0, Duration.between(down.since(), now).toMillis())).append(" ms)");
        }
        return text.append(": ").append(down.cause() == null ? "no cause given" : down.cause()).toString();
    }

    /** Every registered shard that is not RETIRED and whose descriptor says DOWN, by id. */
    public List<RouterHealth.DownShard> shardsDown() {
        return state.shards().values().stream()
            .filter(shard -> shard.getHealth() == ShardHealth.DOWN && shard.getState() != ShardState.RETIRED)
            .map(ShardAvailability::downShard)
            .sorted(java.util.Comparator.comparing(RouterHealth.DownShard::shardId))
            .toList();
    }

    private static RouterHealth.DownShard downShard(ShardDescriptor shard) {
        return new RouterHealth.DownShard(shard.getShardId(), shard.getHealthSince(), shard.getHealthCause());
    }
}
