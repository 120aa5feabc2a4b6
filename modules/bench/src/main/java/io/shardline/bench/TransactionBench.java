package io.shardline.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.schemas.avro.WriteDurability;

/**
 * What a cross-shard transaction costs, beside a single-document write in the same run on the same two shards: one
 * client alternating a transaction that updates one document on each shard with a single update of another document
 * (latency of the commit call and of the whole transaction), then transactions on documents no other transaction
 * touches from 1, 4 and 16 clients (throughput, no conflicts). Both with durability PRIMARY, so that the figure is
 * the protocol's: its coordinator-log records, the intents and their resolution.
 */
final class TransactionBench {

    private static final String NS = "bench.accounts";
    /** Accounts per shard: each of 16 clients has 4 pairs of its own, and moves between them in turn. */
    private static final int ACCOUNTS = 64;
    private static final Scope SCOPE = Scope.tenant("acme").withDurability(WriteDurability.PRIMARY);

    private final int transactions;

    TransactionBench(double scale) {
        this.transactions = BenchMain.scaled(500, scale);
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-txn-bench-"))
                 .withShards(2).withCdc(false))) {
            ControlPlaneTopics.ensure(cluster.bootstrapServers(), cluster.catalog(), (short) 1);
            ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog());
            for (String shard : List.of("s1", "s2")) {
                publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(cluster.shards().get(shard).connectionString())
                    .setCapacityBytes(1L << 34).setCapacityOpsPerSec(1_000_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            }
            publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(NS).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("_id")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
            publisher.publishRouting(NS, InitialChunks.layout(NS, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s2")));
            try (ShardRouter router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), cluster.catalog()), new SimpleMeterRegistry(),
                     Duration.ofSeconds(60))) {
                List<String> onS1 = keysOn(router, "s1", ACCOUNTS);
                List<String> onS2 = keysOn(router, "s2", ACCOUNTS);
                List<Document> accounts = new ArrayList<>();
                for (int i = 0; i < ACCOUNTS; i++) {
                    accounts.add(new Document("_id", onS1.get(i)).append("balance", 1_000_000));
                    accounts.add(new Document("_id", onS2.get(i)).append("balance", 1_000_000));
                }
                router.insert(SCOPE, NS, accounts);
                transfer(router, onS1.get(0), onS2.get(0));

                List<Long> wholeMicros = new ArrayList<>();
                List<Long> commitMicros = new ArrayList<>();
                List<Long> singleMicros = new ArrayList<>();
                for (int i = 0; i < 2 * transactions; i++) {
                    if (i % 2 == 0) {
                        timedTransfer(router, onS1.get(0), onS2.get(0), wholeMicros, commitMicros);
                    } else {
                        long started = System.nanoTime();
                        router.update(SCOPE, NS, new Document("_id", onS1.get(1)), new Document("$inc", new Document("balance", 1)), false, false);
                        singleMicros.add((System.nanoTime() - started) / 1_000);
                    }
                }
                Collections.sort(wholeMicros);
                Collections.sort(commitMicros);
                Collections.sort(singleMicros);
                lines.add(String.format("commit.one_client two_shard_commit.p50_ms=%.2f p99_ms=%.2f single_write.p50_ms=%.2f p99_ms=%.2f "
                        + "ratio.p50=%.1f ratio.p99=%.1f (%d each, alternating; the commit call: its decision read back, the resolution after it)", p(commitMicros, 0.5),
                    p(commitMicros, 0.99), p(singleMicros, 0.5), p(singleMicros, 0.99), p(commitMicros, 0.5) / p(singleMicros, 0.5),
                    p(commitMicros, 0.99) / p(singleMicros, 0.99), transactions));
                lines.add(String.format("transaction.one_client two_shard_transaction.p50_ms=%.2f p99_ms=%.2f ratio.p50=%.1f ratio.p99=%.1f "
                        + "(begin, an update on each shard, commit)", p(wholeMicros, 0.5), p(wholeMicros, 0.99),
                    p(wholeMicros, 0.5) / p(singleMicros, 0.5), p(wholeMicros, 0.99) / p(singleMicros, 0.99)));
                StringBuilder rates = new StringBuilder("throughput.no_conflicts");
                for (int clients : List.of(1, 4, 16)) {
                    rates.append(String.format(" clients_%d.per_s=%.0f", clients, throughput(router, clients, onS1, onS2)));
                }
                lines.add(rates.toString());
            }
        }
        return lines;
    }

    private double throughput(ShardRouter router, int clients, List<String> onS1, List<String> onS2) throws InterruptedException {
        AtomicInteger done = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        long started = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread thread = new Thread(() -> {
                for (int n = 0; done.incrementAndGet() <= transactions; n++) {
                    int pair = client * 4 + n % 4; // the client's own accounts, a different pair from its last transaction
                    transfer(router, onS1.get(pair), onS2.get(pair));
                }
            }, "txn-bench-" + c);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        return transactions / ((System.nanoTime() - started) / 1e9);
    }

    private static void transfer(ShardRouter router, String from, String to) {
        router.inTransaction(SCOPE, tx -> {
            tx.update(NS, new Document("_id", from), new Document("$inc", new Document("balance", -1)), false);
            tx.update(NS, new Document("_id", to), new Document("$inc", new Document("balance", 1)), false);
            return null;
        });
    }

    /** One transfer as a client runs it, its whole time and its commit call's time recorded (a conflict retried, uncounted). */
    private static void timedTransfer(ShardRouter router, String from, String to, List<Long> wholeMicros, List<Long> commitMicros) {
        while (true) {
            long started = System.nanoTime();
            Transaction tx = router.begin(SCOPE);
            try {
                tx.update(NS, new Document("_id", from), new Document("$inc", new Document("balance", -1)), false);
                tx.update(NS, new Document("_id", to), new Document("$inc", new Document("balance", 1)), false);
                long committing = System.nanoTime();
                router.commit(tx);
                long ended = System.nanoTime();
                commitMicros.add((ended - committing) / 1_000);
                wholeMicros.add((ended - started) / 1_000);
                return;
            } catch (RouterException e) {
                if (e.kind() != RouterException.Kind.TRANSACTION_CONFLICT) {
                    throw e;
                }
                router.abort(tx);
            }
        }
    }

    private static List<String> keysOn(ShardRouter router, String shard, int count) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.size() < count; i++) {
            String key = "acct-" + i;
            if (router.explain(Scope.service(), NS, new Document("_id", key)).shards().equals(List.of(shard))) {
                keys.add(key);
            }
        }
        return keys;
    }

    private static double p(List<Long> sortedMicros, double percentile) {
        return sortedMicros.get((int) Math.min(sortedMicros.size() - 1, Math.ceil(percentile * sortedMicros.size()) - 1)) / 1e3;
    }
}
