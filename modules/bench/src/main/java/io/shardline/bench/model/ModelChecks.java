package io.shardline.bench.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.check.WriteLedger;

/**
 * The invariants a settled run must hold: the namespace's routing covers the key space once; the acknowledged writes
 * match every shard read directly (nothing lost, duplicated, resurrected or unknown); and each migration's history
 * shows it ended once and never published by an older term after a newer one or after its end.
 */
final class ModelChecks {

    private final EmbeddedCluster cluster;
    private final ModelControlPlane controlPlane;
    private final WriteLedger ledger;
    private final Consumer<String> note;

    /** @param note where the figures checked go, a line each */
    ModelChecks(EmbeddedCluster cluster, ModelControlPlane controlPlane, WriteLedger ledger, Consumer<String> note) {
        this.cluster = cluster;
        this.controlPlane = controlPlane;
        this.ledger = ledger;
        this.note = note;
    }

    /** The problems found (empty when none). */
    List<String> check() {
        String namespace = controlPlane.namespace();
        List<String> problems = new ArrayList<>();
        Map<String, MongoClient> shards = new HashMap<>();
        try (TopicTable<ChunkRoute> routing = controlPlane.routing();
             TopicTable<MigrationState> migrations = controlPlane.migrations()) {
            cluster.shards().forEach((shard, embedded) -> shards.put(shard, MongoClients.create(embedded.connectionString())));
            List<ChunkRoute> routes = routing.refresh().values().values().stream().filter(r -> r.getNamespace().equals(namespace)).toList();
            List<String> broken = NamespaceRouting.validate(namespace, routes.stream().map(Chunk::of).toList());
            if (!broken.isEmpty()) {
                problems.add("routing: " + broken);
            }
            WriteLedger.Verdict verdict = ledger.check(shards, List.of(namespace), routes, migrations.refresh().values().values());
            note.accept("checked " + verdict.checked() + " documents: lost " + verdict.lost() + ", resurrected " + verdict.resurrected()
                + ", duplicated " + verdict.duplicated() + ", unknown " + verdict.unknown() + "; " + routes.size() + " chunks, "
                + migrations.values().size() + " migrations");
            if (!verdict.clean() || verdict.duplicated() > 0) {
                problems.add("writes: lost " + verdict.lost() + ", resurrected " + verdict.resurrected() + ", duplicated " + verdict.duplicated()
                    + ", unknown " + verdict.unknown() + ": " + verdict.examples());
            }
            problems.addAll(histories());
        } finally {
            shards.values().forEach(MongoClient::close);
        }
        return problems;
    }

    /** Each migration ended once, and no state of it was published by an older term after a newer one, or after its end. */
    private List<String> histories() {
        List<String> problems = new ArrayList<>();
        Map<String, List<MigrationState>> byMigration = new HashMap<>();
        TopicCatalog catalog = controlPlane.catalog();
        try (TopicTail<MigrationState> tail = new TopicTail<>(cluster.bootstrapServers(), catalog.migrations(), true, catalog.controlDlq().name(), "bench")) {
            tail.readToEnd().forEach(appended -> byMigration.computeIfAbsent(appended.value().getMigrationId(), k -> new ArrayList<>()).add(appended.value()));
        }
        byMigration.forEach((migration, history) -> {
            long term = -1;
            MigrationState ended = null;
            for (MigrationState state : history) {
                if (ended != null) {
                    problems.add("migration " + migration + ": " + state.getPhase() + " published by " + state.getWorkerId() + " after it ended "
                        + ended.getPhase());
                }
                if (state.getOwnerEpoch() < term) {
                    problems.add("migration " + migration + ": " + state.getPhase() + " published by term " + state.getOwnerEpoch() + " after term " + term);
                }
                term = Math.max(term, state.getOwnerEpoch());
                if (MigrationPhases.ended(state) && ended == null) {
                    ended = state;
                }
            }
        });
        return problems;
    }
}
