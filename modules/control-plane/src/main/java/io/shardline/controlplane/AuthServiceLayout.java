package io.shardline.controlplane;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.InitialChunks;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;

/**
 * The reference data model, an auth service: {@code auth.users} by tenant, {@code auth.sessions} hashed by user,
 * {@code auth.audit_entries} by tenant and hour. Registers the given shards and spreads each namespace over them.
 */
public final class AuthServiceLayout {

    public static final String USERS = "auth.users";
    public static final String SESSIONS = "auth.sessions";
    public static final String AUDIT_ENTRIES = "auth.audit_entries";
    static final long AUDIT_BUCKET_MILLIS = Duration.ofHours(1).toMillis();

    private AuthServiceLayout() {
    }

    /**
     * @param shards           shard id to connection string, in placement order
     * @param capacityBytes    storage capacity registered for every shard
     * @param capacityOpsPerSec query capacity registered for every shard
     */
    public static void publish(ControlPlanePublisher publisher, Map<String, String> shards, long capacityBytes, long capacityOpsPerSec) {
        List<String> ids = new ArrayList<>(shards.keySet());
        shards.forEach((id, uri) -> publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id).setConnectionString(uri)
            .setCapacityBytes(capacityBytes).setCapacityOpsPerSec(capacityOpsPerSec).setState(ShardState.ACTIVE)
            .setVersion(1).setUpdatedAt(Instant.now()).build()));
        int chunks = 2 * ids.size();
        List<ShardKey> tenantCuts = InitialChunks.valueBoundaries(letterBoundaries(chunks));
        namespace(publisher, USERS, ShardKeyStrategyType.TENANT, List.of("tenantId"), null);
        publisher.publishRouting(USERS, InitialChunks.layout(USERS, 1, tenantCuts, ids));
        namespace(publisher, SESSIONS, ShardKeyStrategyType.HASHED, List.of("userId"), null);
        publisher.publishRouting(SESSIONS, InitialChunks.layout(SESSIONS, 1, InitialChunks.hashedBoundaries(chunks), ids));
        namespace(publisher, AUDIT_ENTRIES, ShardKeyStrategyType.TIME, List.of("tenantId", "at"), AUDIT_BUCKET_MILLIS);
        publisher.publishRouting(AUDIT_ENTRIES, InitialChunks.layout(AUDIT_ENTRIES, 1, tenantCuts, ids));
    }

    /** {@code count - 1} single-letter tenant boundaries spread over a..z. */
    static List<String> letterBoundaries(int count) {
        List<String> cuts = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            cuts.add(String.valueOf((char) ('a' + (26 * i) / count)));
        }
        return cuts.stream().distinct().toList();
    }

    private static void namespace(ControlPlanePublisher publisher, String namespace, ShardKeyStrategyType strategy,
                                  List<String> fields, Long bucketMillis) {
        publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(strategy)
            .setShardKeyFields(fields).setTimeBucketMillis(bucketMillis).setThresholds(Thresholds.newBuilder().build())
            .setEpoch(1).setVersion(1).build());
    }
}
