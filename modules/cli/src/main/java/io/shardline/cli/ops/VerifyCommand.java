package io.shardline.cli.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bson.RawBsonDocument;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.schemas.MigrationPhases;
import io.shardline.controlplane.ChunkAudit;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.controlplane.TopicTable;
import io.shardline.schemas.avro.AcknowledgedCount;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.worker.data.RangeOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shardline verify --ns NS}: holds a namespace's documents on every shard against the routing table and against
 * what the routers acknowledged. The routing must cover the key space exactly once; each chunk's documents must be on
 * its owner (count and an order-independent hash are printed); documents of a chunk on any other shard are orphans,
 * unless a migration of that chunk between those shards has not ended (they are then "moving"). Each chunk's count on
 * its owner is audited against the routers' acknowledged counts ({@link ChunkAudit}): fewer is loss, more is documents
 * no router acknowledged. The counts are read before and after the shards, {@link #SETTLE} apart, so that writes the
 * routers acknowledged but had not yet published show as "changing" rather than as a difference. Exit code 1 when
 * anything is wrong.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Compare a namespace's documents on every shard with the routing table: counts, hashes, orphaned or doubly-owned ranges.")
public final class VerifyCommand extends ReadCommands.Read {

    @Option(names = "--ns", required = true, description = "Namespace, e.g. auth.users.")
    String namespace;

    /** Longer than the routers' signal interval (1 s by default), at which they publish what they acknowledged. */
    static final Duration SETTLE = Duration.ofSeconds(2);

    @Override
    int read(ControlPlaneClient plane, Rows.Format format) {
        List<ChunkRoute> routes = plane.routing(namespace);
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("--ns: no routing for namespace " + namespace);
        }
        List<Chunk> chunks = routes.stream().map(Chunk::of).toList();
        List<String> violations = NamespaceRouting.validate(namespace, chunks);
        Map<String, ShardDescriptor> shards = plane.shards();
        List<MigrationState> running = plane.migrations().values().stream().filter(m -> !MigrationPhases.ended(m))
            .filter(m -> m.getNamespace().equals(namespace)).toList();
        Map<String, MongoClient> clients = new LinkedHashMap<>();
        int dot = namespace.indexOf('.');
        Map<String, AcknowledgedCount> before = acknowledged(plane);
        Map<String, Long> owned = new LinkedHashMap<>();
        Map<String, Object[]> lines = new LinkedHashMap<>();
        long documents = 0;
        int orphaned = 0;
        try {
            shards.forEach((id, shard) -> clients.put(id, MongoClients.create(shard.getConnectionString())));
            for (ChunkRoute route : routes) {
                String min = KeyHex.of(route.getMin());
                String max = KeyHex.of(route.getMax());
                RangeOps.Digest digest = null;
                List<String> elsewhere = new ArrayList<>();
                boolean moving = false;
                for (Map.Entry<String, MongoClient> shard : clients.entrySet()) {
                    MongoCollection<RawBsonDocument> collection = shard.getValue().getDatabase(namespace.substring(0, dot))
                        .getCollection(namespace.substring(dot + 1), RawBsonDocument.class);
                    RangeOps ops = new RangeOps(collection, collection, min, max);
                    if (shard.getKey().equals(route.getShardId())) {
                        digest = ops.digestFrom();
                        continue;
                    }
                    long count = ops.count();
                    if (count > 0) {
                        elsewhere.add(shard.getKey() + ":" + count);
                        moving |= running.stream().anyMatch(m -> KeyHex.of(m.getChunkMin()).equals(min)
                            && (m.getSourceShardId().equals(shard.getKey()) || m.getTargetShardId().equals(shard.getKey())));
                    }
                }
                String status = elsewhere.isEmpty() ? "ok" : moving ? "moving" : "orphaned";
                if (status.equals("orphaned")) {
                    orphaned++;
                }
                long count = digest == null ? 0 : digest.count();
                documents += count;
                owned.put(min, count);
                lines.put(min, new Object[] {min.isEmpty() ? "min" : min, max == null ? "max" : max, route.getShardId(), digest == null ? "shard unknown" : count,
                    digest == null ? "" : String.format(Locale.ROOT, "%016x%016x", digest.h0(), digest.h1()), String.join(" ", elsewhere), status});
            }
        } finally {
            clients.values().forEach(MongoClient::close);
        }
        sleep(SETTLE);
        Map<String, AcknowledgedCount> after = acknowledged(plane);
        Rows rows = new Rows(List.of("chunk_min", "chunk_max", "owner", "documents", "hash", "elsewhere", "status", "acknowledged", "audit"));
        long lost = 0;
        long unacknowledged = 0;
        for (ChunkAudit.Group group : ChunkAudit.audit(routes, after.values(), owned)) {
            boolean changing = group.chunks().stream().anyMatch(chunk -> changed(before, after, chunk));
            String audit = changing ? "changing (writes acknowledged while counting)" : group.describe();
            if (!changing && group.status() == ChunkAudit.Status.LOST) {
                lost += -group.difference();
            } else if (!changing && group.status() == ChunkAudit.Status.UNACKNOWLEDGED) {
                unacknowledged += group.difference();
            }
            String together = group.chunks().size() == 1 ? "" : " (" + group.chunks().size() + " chunks split since their writes, together)";
            for (ChunkRoute chunk : group.chunks()) {
                Object[] line = lines.get(KeyHex.of(chunk.getMin()));
                rows.add(line[0], line[1], line[2], line[3], line[4], line[5], line[6], group.expected(), audit + together);
            }
        }
        rows.print(out(), format, true);
        out().println(routes.size() + " chunks, " + documents + " documents on their owners, " + orphaned + " orphaned range"
            + (orphaned == 1 ? "" : "s") + "; routing " + (violations.isEmpty() ? "covers the key space exactly once" : "is broken: " + violations)
            + "; against the routers' acknowledged writes: " + lost + " lost, " + unacknowledged + " unacknowledged");
        out().flush();
        return violations.isEmpty() && orphaned == 0 && lost == 0 && unacknowledged == 0 ? 0 : 1;
    }

    /** The routers' acknowledged counts of the namespace, by key. */
    private Map<String, AcknowledgedCount> acknowledged(ControlPlaneClient plane) {
        Map<String, AcknowledgedCount> counts = new LinkedHashMap<>();
        try (TopicTable<AcknowledgedCount> table = new TopicTable<>(plane.bootstrap(), plane.catalog().acknowledged(), plane.catalog().controlDlq().name(), "cli")) {
            table.refresh().values().forEach((key, count) -> {
                if (count.getNamespace().equals(namespace)) {
                    counts.put(key, count);
                }
            });
        }
        return counts;
    }

    /** Whether a count overlapping the chunk changed between the two reads. */
    private static boolean changed(Map<String, AcknowledgedCount> before, Map<String, AcknowledgedCount> after, ChunkRoute chunk) {
        for (Map.Entry<String, AcknowledgedCount> entry : after.entrySet()) {
            AcknowledgedCount earlier = before.get(entry.getKey());
            AcknowledgedCount later = entry.getValue();
            boolean same = earlier != null && earlier.getAdded() == later.getAdded() && earlier.getRemoved() == later.getRemoved()
                && earlier.getUncertain() == later.getUncertain();
            if (!same && ChunkAudit.overlaps(chunk, later.getChunkMin(), later.getChunkMax())) {
                return true;
            }
        }
        return false;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the routers' counts", e);
        }
    }
}
