package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Chunk;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.embedded.EmbeddedCluster;

/**
 * Transactions while chunks move: transfers between accounts on three shards and read-only transactions checking the
 * total run without pause, while a random sequence of operations and faults plays: moves of random chunks, moves of the
 * chunk of an account a transaction has just updated (issued mid-transaction, the transaction going on and committing
 * while the chunk moves), and one shard that stops answering for a while. Every read-only view sees the total; every
 * migration ends; at the end no intent is left, no account is on two shards, the total is unchanged, and each account
 * holds what the acknowledged transfers say. The seed is printed; {@code -Dshardline.txnmoves.seed=N} replays a run.
 */
@ShardlineCluster
class TransactionMigrationIT {

    private static final int ACCOUNTS = 24;
    private static final long OPENING = 1_000;
    private static final Scope ACME = Scope.tenant(MigrationFixture.TENANT);

    @Test
    void shouldKeepTransactionsWholeWhileChunksMoveAndAShardStopsAnswering(EmbeddedCluster cluster, TestNames names) throws Exception {
        long seed = Long.getLong("shardline.txnmoves.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("TransactionMigrationIT seed " + seed);
        String flaky = "tf" + UUID.randomUUID().toString().substring(0, 6);
        EmbeddedShard flakyShard = cluster.addShard(flaky);
        List<String> shards = List.of("s1", "s2", flaky);
        List<String> history = Collections.synchronizedList(new ArrayList<>());
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), shards, List.of("s1", "s2", flaky, "s1"));
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withCopyBatchSize(50), new SimpleMeterRegistry())) {
            String accounts = fixture.namespace;
            List<Document> opening = new ArrayList<>();
            for (int i = 0; i < ACCOUNTS; i++) {
                opening.add(new Document("_id", account(i)).append("userId", account(i)).append("balance", OPENING));
            }
            fixture.router.insert(ACME, accounts, opening);

            Map<Integer, Long> expected = new HashMap<>();
            for (int i = 0; i < ACCOUNTS; i++) {
                expected.put(i, OPENING);
            }
            AtomicLong unknown = new AtomicLong();
            AtomicLong committed = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            AtomicLong views = new AtomicLong();
            List<String> badViews = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                boolean auditor = c == 0;
                Thread client = new Thread(() -> {
                    while (running.get()) {
                        try {
                            if (auditor) {
                                List<Document> all = fixture.router.inTransaction(ACME, tx -> tx.find(accounts, new Document()));
                                long total = all.stream().mapToLong(d -> ((Number) d.get("balance")).longValue()).sum();
                                views.incrementAndGet();
                                if (total != ACCOUNTS * OPENING || all.size() != ACCOUNTS) {
                                    badViews.add(total + " over " + all.size() + ": " + all);
                                }
                            } else {
                                int from = ThreadLocalRandom.current().nextInt(ACCOUNTS);
                                int to = (from + 1 + ThreadLocalRandom.current().nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                                long amount = 1 + ThreadLocalRandom.current().nextInt(20);
                                fixture.router.inTransaction(ACME, tx -> {
                                    tx.update(accounts, byId(from), new Document("$inc", new Document("balance", -amount)), false);
                                    tx.update(accounts, byId(to), new Document("$inc", new Document("balance", amount)), false);
                                    return null;
                                });
                                ledger(expected, from, to, amount);
                                committed.incrementAndGet();
                            }
                        } catch (RouterException e) {
                            (outcomeKnown(e) ? failed : unknown).incrementAndGet();
                            pause(20);
                        }
                    }
                }, "txn-client-" + c);
                clients.add(client);
                client.start();
            }

            List<String> commands = new ArrayList<>();
            EmbeddedShard down = null;
            for (int round = 0; round < 10; round++) {
                int action = random.nextInt(4);
                if (action == 0) {
                    commands.add(fixture.moveRandomChunk(random, shards, history));
                } else if (action == 1) {
                    commands.add(moveMidTransaction(fixture, random, shards, history, expected, committed, failed, unknown));
                } else if (action == 2 && down == null) {
                    down = flakyShard;
                    down.stopAnswering();
                    history.add(flaky + " stops answering");
                } else if (down != null) {
                    down.answerAgain();
                    history.add(flaky + " answers again");
                    down = null;
                }
                Thread.sleep(300 + random.nextInt(1_500));
            }
            if (down != null) {
                down.answerAgain();
                history.add(flaky + " answers again");
            }
            commands.removeIf(java.util.Objects::isNull);
            List<MigrationState> ended = fixture.awaitEnded(commands);
            running.set(false);
            for (Thread client : clients) {
                client.join(60_000);
            }
            System.out.println("TransactionMigrationIT history: " + history);
            ended.forEach(m -> System.out.println("  " + m.getSourceShardId() + " -> " + m.getTargetShardId() + ": " + m.getPhase()));
            System.out.printf("TransactionMigrationIT: %d migrations, %d transfers committed, %d failed, %d of unknown outcome, %d views checked%n",
                ended.size(), committed.get(), failed.get(), unknown.get(), views.get());

            assertThat(badViews).as("read-only views off the total; seed %d, history %s", seed, history).isEmpty();
            assertThat(ended).allSatisfy(m -> assertThat(io.shardline.schemas.MigrationPhases.ended(m)).isTrue());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (intents(fixture, shards) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(intents(fixture, shards)).as("intents left; seed %d", seed).isZero();
            Map<String, Long> balances = new HashMap<>();
            List<String> twice = new ArrayList<>();
            for (String shard : shards) {
                fixture.documents(shard).forEach((id, doc) -> {
                    if (balances.put(id, ((Number) doc.get("balance")).longValue()) != null) {
                        twice.add(id);
                    }
                });
            }
            assertThat(twice).as("accounts on two shards").isEmpty();
            assertThat(balances).hasSize(ACCOUNTS);
            assertThat(balances.values().stream().mapToLong(Long::longValue).sum()).as("the total; seed %d, history %s", seed, history)
                .isEqualTo(ACCOUNTS * OPENING);
            if (unknown.get() == 0) {
                for (int i = 0; i < ACCOUNTS; i++) {
                    assertThat(balances.get(account(i))).as("%s against the acknowledged transfers", account(i)).isEqualTo(expected.get(i));
                }
            }
            assertThat(committed.get()).isPositive();
        }
    }

    /**
     * Opens a transaction, takes money from an account, moves that account's chunk, waits a random while, pays it into
     * another account and commits: it commits whole or not at all, whichever phase the move is in.
     */
    private static String moveMidTransaction(MigrationFixture fixture, Random random, List<String> shards, List<String> history,
                                             Map<Integer, Long> expected, AtomicLong committed, AtomicLong failed, AtomicLong unknown) throws Exception {
        int from = random.nextInt(ACCOUNTS);
        int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
        long amount = 1 + random.nextInt(20);
        String command = null;
        Transaction tx = fixture.router.begin(ACME);
        try {
            tx.update(fixture.namespace, byId(from), new Document("$inc", new Document("balance", -amount)), false);
            command = moveChunkOf(fixture, account(from), random, shards, history);
            Thread.sleep(random.nextInt(1_500));
            tx.update(fixture.namespace, byId(to), new Document("$inc", new Document("balance", amount)), false);
            fixture.router.commit(tx);
            ledger(expected, from, to, amount);
            committed.incrementAndGet();
            history.add("mid-transaction transfer committed");
        } catch (RouterException e) {
            fixture.router.abort(tx);
            (outcomeKnown(e) ? failed : unknown).incrementAndGet();
            history.add("mid-transaction transfer failed: " + e.kind());
        }
        return command;
    }

    private static String moveChunkOf(MigrationFixture fixture, String id, Random random, List<String> shards, List<String> history) throws Exception {
        String described = fixture.router.explain(Scope.service(), fixture.namespace, new Document("userId", id)).chunks().get(0);
        String min = described.substring(1, described.indexOf(','));
        Chunk chunk = fixture.chunks.stream().filter(c -> min.equals("MIN") ? c.min().isMin() : c.min().toHex().equals(min)).findFirst().orElseThrow();
        String owner = described.substring(described.indexOf('@') + 1, described.indexOf(' ', described.indexOf('@')));
        List<String> targets = new ArrayList<>(shards);
        targets.remove(owner);
        String target = targets.get(random.nextInt(targets.size()));
        history.add("mid-transaction move " + chunk.min().toHex() + " " + owner + " -> " + target);
        return fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace).setChunkMin(KeyHex.bytes(chunk.min().toHex()))
            .setTargetShardId(target).build());
    }

    /** Whether a failed transaction certainly did not commit: anything but a commit whose decision could not be read. */
    private static boolean outcomeKnown(RouterException e) {
        return e.kind() != RouterException.Kind.TRANSACTION_OUTCOME_UNKNOWN;
    }

    private static synchronized void ledger(Map<Integer, Long> expected, int from, int to, long amount) {
        expected.merge(from, -amount, Long::sum);
        expected.merge(to, amount, Long::sum);
    }

    private static long intents(MigrationFixture fixture, List<String> shards) {
        long held = 0;
        for (String shard : shards) {
            held += fixture.documents(shard).values().stream().filter(doc -> doc.containsKey("_tx")).count();
        }
        return held;
    }

    private static Document byId(int i) {
        return new Document("_id", account(i)).append("userId", account(i));
    }

    private static String account(int i) {
        return "acct-" + i;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
