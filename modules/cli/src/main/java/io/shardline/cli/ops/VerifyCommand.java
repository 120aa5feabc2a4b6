package io.shardline.cli.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bson.RawBsonDocument;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.controlplane.CommandPlanner;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.worker.internal.RangeOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shardline verify --ns NS}: holds a namespace's documents on every shard against the routing table. The
 * routing must cover the key space exactly once; each chunk's documents must be on its owner (count and an
 * order-independent hash are printed); documents of a chunk on any other shard are orphans, unless a migration of
 * that chunk between those shards has not ended (they are then "moving"). Exit code 1 when anything is wrong.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Compare a namespace's documents on every shard with the routing table: counts, hashes, orphaned or doubly-owned ranges.")
public final class VerifyCommand extends ReadCommands.Read {

    @Option(names = "--ns", required = true, description = "Namespace, e.g. auth.users.")
    String namespace;

    @Override
    int read(ControlPlaneClient plane, Rows.Format format) {
        List<ChunkRoute> routes = plane.routing(namespace);
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("--ns: no routing for namespace " + namespace);
        }
        List<Chunk> chunks = routes.stream().map(Chunk::of).toList();
        List<String> violations = NamespaceRouting.validate(namespace, chunks);
        Map<String, ShardDescriptor> shards = plane.shards();
        List<MigrationState> running = plane.migrations().values().stream().filter(m -> !CommandPlanner.ended(m))
            .filter(m -> m.getNamespace().equals(namespace)).toList();
        Map<String, MongoClient> clients = new LinkedHashMap<>();
        int dot = namespace.indexOf('.');
        Rows rows = new Rows(List.of("chunk_min", "chunk_max", "owner", "documents", "hash", "elsewhere", "status"));
        long documents = 0;
        int orphaned = 0;
        try {
            shards.forEach((id, shard) -> clients.put(id, MongoClients.create(shard.getConnectionString())));
            for (ChunkRoute route : routes) {
                String min = ControlPlaneClient.hex(route.getMin());
                String max = ControlPlaneClient.hex(route.getMax());
                RangeOps.Digest owned = null;
                List<String> elsewhere = new ArrayList<>();
                boolean moving = false;
                for (Map.Entry<String, MongoClient> shard : clients.entrySet()) {
                    MongoCollection<RawBsonDocument> collection = shard.getValue().getDatabase(namespace.substring(0, dot))
                        .getCollection(namespace.substring(dot + 1), RawBsonDocument.class);
                    RangeOps ops = new RangeOps(collection, collection, min, max);
                    if (shard.getKey().equals(route.getShardId())) {
                        owned = ops.digestFrom();
                        continue;
                    }
                    long count = ops.count();
                    if (count > 0) {
                        elsewhere.add(shard.getKey() + ":" + count);
                        moving |= running.stream().anyMatch(m -> ControlPlaneClient.hex(m.getChunkMin()).equals(min)
                            && (m.getSourceShardId().equals(shard.getKey()) || m.getTargetShardId().equals(shard.getKey())));
                    }
                }
                String status = elsewhere.isEmpty() ? "ok" : moving ? "moving" : "orphaned";
                if (status.equals("orphaned")) {
                    orphaned++;
                }
                long count = owned == null ? 0 : owned.count();
                documents += count;
                rows.add(min.isEmpty() ? "min" : min, max == null ? "max" : max, route.getShardId(), owned == null ? "shard unknown" : count,
                    owned == null ? "" : String.format(Locale.ROOT, "%016x%016x", owned.h0(), owned.h1()), String.join(" ", elsewhere), status);
            }
        } finally {
            clients.values().forEach(MongoClient::close);
        }
        rows.print(out(), format, true);
        out().println(routes.size() + " chunks, " + documents + " documents on their owners, " + orphaned + " orphaned range"
            + (orphaned == 1 ? "" : "s") + "; routing " + (violations.isEmpty() ? "covers the key space exactly once" : "is broken: " + violations));
        out().flush();
        return violations.isEmpty() && orphaned == 0 ? 0 : 1;
    }
}
