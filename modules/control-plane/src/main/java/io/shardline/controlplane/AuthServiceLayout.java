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
 * The reference data model, an auth service: {@code auth.users} by tenant (a big tenant's users spread over
 * {@value #USER_SUFFIX_BUCKETS} sub-ranges by a hash of {@code _id}, so it can be split), {@code auth.sessions} hashed by
 * user, {@code auth.audit_entries} by tenant and hour. Registers the given shards and spreads each namespace over them.
 */
public final class AuthServiceLayout {

    public static final String USERS = "auth.users";
    public static final String SESSIONS = "auth.sessions";
    public static final String AUDIT_ENTRIES = "auth.audit_entries";
    /** The field every document of the auth service names its tenant in. */
    public static final String TENANT_FIELD = "tenantId";
    static final long AUDIT_BUCKET_MILLIS = Duration.ofHours(1).toMillis();
    static final int USER_SUFFIX_BUCKETS = 16;

    private AuthServiceLayout() {
    }

    /**
     * @param shards           shard id to connection string, in placement order
     * @param capacityBytes    storage capacity registered for every shard
     * @param capacityOpsPerSec query capacity registered for every shard
     */
    public static void publish(ControlPlanePublisher publisher, Map<String, String> shards, long capacityBytes, long capacityOpsPerSec) {
        publish(publisher, shards, capacityBytes, capacityOpsPerSec, Thresholds.newBuilder().build());
    }

    /**
     * @param thresholds the split/merge thresholds of every namespace
     */
    public static void publish(ControlPlanePublisher publisher, Map<String, String> shards, long capacityBytes, long capacityOpsPerSec,
                               Thresholds thresholds) {
        List<String> ids = new ArrayList<>(shards.keySet());
        shards.forEach((id, uri) -> publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id).setConnectionString(uri)
            .setCapacityBytes(capacityBytes).setCapacityOpsPerSec(capacityOpsPerSec).setState(ShardState.ACTIVE)
            .setVersion(1).setUpdatedAt(Instant.now()).build()));
        int chunks = 2 * ids.size();
        List<ShardKey> tenantCuts = InitialChunks.valueBoundaries(InitialChunks.letterBoundaries(chunks));
        publisher.publishConfig(config(USERS, ShardKeyStrategyType.TENANT, List.of(TENANT_FIELD, "_id"), thresholds)
            .setTenantSuffixBuckets(USER_SUFFIX_BUCKETS).build());
        publisher.publishRouting(USERS, InitialChunks.layout(USERS, 1, tenantCuts, ids));
        publisher.publishConfig(config(SESSIONS, ShardKeyStrategyType.HASHED, List.of("userId"), thresholds).build());
        publisher.publishRouting(SESSIONS, InitialChunks.layout(SESSIONS, 1, InitialChunks.hashedBoundaries(chunks), ids));
        publisher.publishConfig(config(AUDIT_ENTRIES, ShardKeyStrategyType.TIME, List.of(TENANT_FIELD, "at"), thresholds)
            .setTimeBucketMillis(AUDIT_BUCKET_MILLIS).build());
        publisher.publishRouting(AUDIT_ENTRIES, InitialChunks.layout(AUDIT_ENTRIES, 1, tenantCuts, ids));
    }

    private static NamespaceConfig.Builder config(String namespace, ShardKeyStrategyType strategy, List<String> fields, Thresholds thresholds) {
        return NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(strategy).setShardKeyFields(fields)
            .setThresholds(Thresholds.newBuilder(thresholds).build()).setEpoch(1).setVersion(1);
    }
}
