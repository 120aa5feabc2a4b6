package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;
import io.shardline.router.http.RouterHttpServer;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Cross-shard transactions on three embedded shards: all or nothing, the transaction's own writes visible to it and to
 * no one else before the commit, a bank whose total never changes in any transaction's view under eight concurrent
 * clients, and the anomalies serializability forbids (lost update, write skew) checked under concurrency.
 */
@ShardlineCluster
class TransactionsIT {

    private static final Scope ACME = Scope.tenant("acme");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int ACCOUNTS = 30;
    private static final long OPENING = 1_000;

    private static EmbeddedCluster cluster;
    private static EmbeddedShard s3;
    private static RouterFixture fixture;
    private static PrometheusMeterRegistry meters;
    private static ShardRouter router;
    private static final Map<String, MongoClient> SHARDS = new HashMap<>();
    private static String database;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        TransactionsIT.cluster = cluster;
        fixture = new RouterFixture(cluster, names);
        s3 = fixture.registerThreeShards(names);
        database = names.database();
        for (String collection : List.of("users", "audit", "accounts", "counters", "doctors", "members")) {
            String namespace = database + "." + collection;
            fixture.namespace(namespace, ShardKeyStrategyType.HASHED, List.of("_id"),
                InitialChunks.layout(namespace, 1, InitialChunks.hashedBoundaries(6), List.of("s1", "s2", "s3")));
        }
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), meters, Duration.ofSeconds(60));
        SHARDS.put("s1", MongoClients.create(cluster.shards().get("s1").connectionString()));
        SHARDS.put("s2", MongoClients.create(cluster.shards().get("s2").connectionString()));
        SHARDS.put("s3", MongoClients.create(s3.connectionString()));
    }

    @AfterAll
    static void stop() throws Exception {
        SHARDS.values().forEach(MongoClient::close);
        if (router != null) {
            router.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void shouldMakeEveryWriteOfACommittedTransactionVisibleAndNoneOfAnAbortedOne() {
        String users = database + ".users";
        String audit = database + ".audit";
        router.inTransaction(ACME, tx -> {
            tx.insert(users, List.of(new Document("_id", "ada").append("plan", "free")));
            tx.insert(audit, List.of(new Document("_id", "signup-ada").append("user", "ada")));
            return null;
        });
        assertThat(direct(users)).extracting(d -> d.get("_id")).contains("ada");
        assertThat(direct(audit)).extracting(d -> d.get("_id")).contains("signup-ada");

        assertThatThrownBy(() -> router.inTransaction(ACME, tx -> {
            tx.insert(users, List.of(new Document("_id", "bob")));
            tx.update(users, new Document("_id", "ada"), new Document("$set", new Document("plan", "paid")), false);
            tx.delete(audit, new Document("_id", "signup-ada"), false);
            throw new IllegalStateException("the service changed its mind");
        })).hasMessageContaining("changed its mind");

        assertThat(direct(users)).extracting(d -> d.get("_id")).doesNotContain("bob");
        assertThat(direct(users)).filteredOn(d -> "ada".equals(d.get("_id"))).singleElement()
            .satisfies(ada -> assertThat(ada.get("plan")).isEqualTo("free"));
        assertThat(direct(audit)).extracting(d -> d.get("_id")).contains("signup-ada");
        assertThat(intentsLeft()).isZero();
        assertThat(meters.scrape()).contains("shard_transactions_total{outcome=\"committed\"}")
            .contains("shard_transactions_total{outcome=\"aborted\"}");
    }

    @Test
    void shouldShowATransactionItsOwnWritesAndNoOneElseBeforeItCommits() {
        String users = database + ".users";
        Transaction tx = router.begin(ACME);
        tx.insert(users, List.of(new Document("_id", "carol").append("plan", "free").append("seats", 1)));
        tx.update(users, new Document("_id", "carol"), new Document("$inc", new Document("seats", 4)), false);
        assertThat(tx.find(users, new Document("seats", new Document("$gte", 5)))).extracting(d -> d.get("_id")).containsExactly("carol");

        assertThat(router.find(ACME, users, FindRequest.of(new Document("_id", "carol"))).documents())
            .as("another reader, before the commit").isEmpty();
        router.commit(tx);
        assertThat(router.find(ACME, users, FindRequest.of(new Document("_id", "carol"))).documents()).singleElement()
            .satisfies(carol -> assertThat(carol.get("seats")).isEqualTo(5));

        Transaction updating = router.begin(ACME);
        updating.update(users, new Document("_id", "carol"), new Document("$set", new Document("plan", "team")), false);
        assertThat(updating.find(users, new Document("plan", "team"))).extracting(d -> d.get("_id")).containsExactly("carol");
        assertThat(updating.find(users, new Document("plan", "free"))).extracting(d -> d.get("_id")).doesNotContain("carol");
        assertThat(router.find(ACME, users, FindRequest.of(new Document("_id", "carol"))).documents()).singleElement()
            .satisfies(carol -> assertThat(carol.get("plan")).as("not committed yet").isEqualTo("free"));
        updating.delete(users, new Document("_id", "carol"), false);
        assertThat(updating.find(users, new Document("_id", "carol"))).isEmpty();
        router.abort(updating);
        assertThat(router.find(ACME, users, FindRequest.of(new Document("_id", "carol"))).documents()).singleElement()
            .satisfies(carol -> assertThat(carol.get("plan")).isEqualTo("free"));
        assertThat(intentsLeft()).isZero();
    }

    @Test
    void shouldKeepTheBankTotalInEveryViewWithEightClients() throws Exception {
        String accounts = database + ".accounts";
        List<Document> opening = new ArrayList<>();
        for (int i = 0; i < ACCOUNTS; i++) {
            opening.add(new Document("_id", "acct-" + i).append("balance", OPENING));
        }
        router.insert(ACME, accounts, opening);
        assertThat(shardsHolding(accounts)).as("accounts spread over the three shards").isEqualTo(3);

        long seconds = Long.getLong("shardline.bank.seconds", 60);
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        List<long[]> ledger = Collections.synchronizedList(new ArrayList<>());
        List<String> badViews = Collections.synchronizedList(new ArrayList<>());
        AtomicLong views = new AtomicLong();
        AtomicLong conflicts = new AtomicLong();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            boolean auditor = c < 2;
            running.add(clients.submit(() -> {
                while (System.nanoTime() < end) {
                    try {
                        if (auditor) {
                            List<Document> all = router.inTransaction(ACME, tx -> tx.find(accounts, new Document()));
                            long total = all.stream().mapToLong(d -> ((Number) d.get("balance")).longValue()).sum();
                            views.incrementAndGet();
                            if (total != ACCOUNTS * OPENING || all.size() != ACCOUNTS) {
                                badViews.add(total + " over " + all.size() + " accounts: " + all);
                            }
                        } else {
                            int from = ThreadLocalRandom.current().nextInt(ACCOUNTS);
                            int to = (from + 1 + ThreadLocalRandom.current().nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                            long amount = 1 + ThreadLocalRandom.current().nextInt(50);
                            boolean moved = router.inTransaction(ACME, tx -> transfer(tx, accounts, from, to, amount));
                            if (moved) {
                                ledger.add(new long[] {from, to, amount});
                            }
                        }
                    } catch (RouterException e) {
                        if (e.kind() != RouterException.Kind.TRANSACTION_CONFLICT) {
                            throw e;
                        }
                        conflicts.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> client : running) {
            client.get();
        }
        clients.shutdown();

        assertThat(badViews).as("read-only views whose total was not " + ACCOUNTS * OPENING).isEmpty();
        long[] expected = new long[ACCOUNTS];
        java.util.Arrays.fill(expected, OPENING);
        for (long[] transfer : ledger) {
            expected[(int) transfer[0]] -= transfer[2];
            expected[(int) transfer[1]] += transfer[2];
        }
        assertThat(intentsLeft()).as("every commit resolved").isZero();
        Map<Object, Long> stored = new HashMap<>();
        for (Document account : direct(accounts)) {
            stored.put(account.get("_id"), ((Number) account.get("balance")).longValue());
        }
        for (int i = 0; i < ACCOUNTS; i++) {
            assertThat(stored.get("acct-" + i)).as("acct-" + i + " read from its shard against the ledger").isEqualTo(expected[i]);
        }
        assertThat(intentsLeft()).isZero();
        System.out.printf("bank: %d s, %d transfers committed, %d read-only views checked, %d given up after conflicts%n",
            seconds, ledger.size(), views.get(), conflicts.get());
        assertThat(ledger).isNotEmpty();
        assertThat(views.get()).isPositive();
    }

    /** Moves {@code amount} when the source has it; answers whether it did. */
    private static boolean transfer(Transaction tx, String accounts, int from, int to, long amount) {
        Document source = tx.find(accounts, new Document("_id", "acct-" + from)).get(0);
        tx.find(accounts, new Document("_id", "acct-" + to));
        if (((Number) source.get("balance")).longValue() < amount) {
            return false;
        }
        tx.update(accounts, new Document("_id", "acct-" + from), new Document("$inc", new Document("balance", -amount)), false);
        tx.update(accounts, new Document("_id", "acct-" + to), new Document("$inc", new Document("balance", amount)), false);
        return true;
    }

    @Test
    void shouldNeverShowAnUncommittedValueToAConcurrentReader() throws Exception {
        String counters = database + ".counters";
        router.insert(ACME, counters, List.of(new Document("_id", "status").append("value", "clean-0"),
            new Document("_id", "status-2").append("value", "clean-0")));
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        AtomicLong written = new AtomicLong();
        AtomicLong abortedWriters = new AtomicLong();
        ExecutorService threads = Executors.newFixedThreadPool(5);
        List<Future<?>> running2 = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            running2.add(threads.submit(() -> {
                while (running.get()) {
                    long n = written.incrementAndGet();
                    boolean commit = n % 3 == 0;
                    try {
                        router.inTransaction(ACME, tx -> {
                            tx.update(counters, new Document("_id", "status"), new Document("$set", new Document("value", (commit ? "clean-" : "dirty-") + n)), false);
                            tx.insert(counters, List.of(new Document("_id", "dirty-insert-" + n).append("value", (commit ? "clean-" : "dirty-") + n)));
                            if (!commit) {
                                throw new IllegalStateException("abort " + n);
                            }
                            return null;
                        });
                    } catch (IllegalStateException | RouterException aborted) {
                        abortedWriters.incrementAndGet(); // what it wrote must never be seen
                    }
                }
                return null;
            }));
        }
        running2.add(threads.submit(() -> {
            while (running.get()) {
                router.find(ACME, counters, FindRequest.of(new Document())).documents().forEach(d -> seen.add("find " + d.get("_id") + "=" + d.get("value")));
                seen.add("count " + router.count(ACME, counters, new Document("value", new Document("$regex", "^dirty")), false));
            }
            return null;
        }));
        running2.add(threads.submit(() -> {
            while (running.get()) {
                try {
                    router.inTransaction(ACME, tx -> tx.find(counters, new Document("_id", "status")))
                        .forEach(d -> seen.add("transaction " + d.get("_id") + "=" + d.get("value")));
                } catch (RouterException e) {
                    seen.add("transaction gave up: " + e.kind());
                }
            }
            return null;
        }));
        Thread.sleep(8_000);
        running.set(false);
        for (Future<?> thread : running2) {
            thread.get();
        }
        threads.shutdown();
        List<String> dirty = seen.stream().filter(entry -> entry.contains("=dirty-") || entry.startsWith("count ") && !entry.equals("count 0")).toList();
        assertThat(dirty).as("uncommitted values read; the last of %d reads: %s", seen.size(), seen.subList(Math.max(0, seen.size() - 200), seen.size()))
            .isEmpty();
        assertThat(seen).as("committed values seen").anyMatch(entry -> entry.contains("=clean-") && !entry.endsWith("=clean-0"));
        assertThat(abortedWriters.get()).as("writers aborted, whose values were there to be seen").isPositive();
        assertThat(intentsLeft()).isZero();
    }

    @Test
    void shouldMakeWritesOutsideTransactionsWaitForHeldDocumentsAndApplyEachOnce() throws Exception {
        String counters = database + ".counters";
        List<Document> documents = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            documents.add(new Document("_id", "outside-" + i).append("n", 0));
        }
        router.insert(ACME, counters, documents);
        Document all = new Document("_id", new Document("$in", List.of("outside-1", "outside-2", "outside-3", "outside-4")));
        Transaction tx = router.begin(ACME);
        tx.update(counters, new Document("_id", "outside-1"), new Document("$inc", new Document("n", 10)), false);
        tx.find(counters, new Document("_id", "outside-2"));
        CompletableFuture<io.shardline.router.api.WriteResult> many = CompletableFuture.supplyAsync(
            () -> router.update(ACME, counters, all, new Document("$inc", new Document("n", 1)), true, false));
        CompletableFuture<io.shardline.router.api.WriteResult> one = CompletableFuture.supplyAsync(
            () -> router.update(ACME, counters, new Document("_id", "outside-1"), new Document("$inc", new Document("n", 100)), false, false));
        Thread.sleep(300);
        assertThat(one).as("waiting for the transaction holding outside-1").isNotDone();
        assertThat(many).as("waiting for the documents the transaction holds").isNotDone();
        router.commit(tx);
        assertThat(many.get(10, TimeUnit.SECONDS).matched()).isEqualTo(4);
        assertThat(one.get(10, TimeUnit.SECONDS).matched()).isEqualTo(1);
        Map<Object, Object> values = new HashMap<>();
        router.find(ACME, counters, FindRequest.of(all)).documents().forEach(d -> values.put(d.get("_id"), d.get("n")));
        assertThat(values).as("the transaction's increment and each plain write's, once each")
            .containsEntry("outside-1", 111).containsEntry("outside-2", 1).containsEntry("outside-3", 1).containsEntry("outside-4", 1);
        assertThat(intentsLeft()).isZero();
    }

    @Test
    void shouldLoseNoUpdateOfConcurrentReadModifyWrites() throws Exception {
        String counters = database + ".counters";
        router.insert(ACME, counters, List.of(new Document("_id", "hits").append("n", 0)));
        AtomicLong committed = new AtomicLong();
        List<String> history = Collections.synchronizedList(new ArrayList<>());
        ExecutorService clients = Executors.newFixedThreadPool(6);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < 6; c++) {
            running.add(clients.submit(() -> {
                for (int i = 0; i < 25; i++) {
                    long seen = router.inTransaction(ACME, tx -> {
                        long n = ((Number) tx.find(counters, new Document("_id", "hits")).get(0).get("n")).longValue();
                        // A replacement computed from what was read: without isolation, two of these would write the same n + 1.
                        tx.update(counters, new Document("_id", "hits"), new Document("n", n + 1), false);
                        return n;
                    });
                    history.add(Thread.currentThread().getName() + " read " + seen);
                    committed.incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> client : running) {
            client.get();
        }
        clients.shutdown();
        Document hits = router.find(ACME, counters, FindRequest.of(new Document("_id", "hits"))).documents().get(0);
        assertThat(((Number) hits.get("n")).longValue()).as("history: %s", history).isEqualTo(committed.get());
    }

    @Test
    void shouldNeverLetTwoTransactionsBreakAConstraintEachChecked() throws Exception {
        String doctors = database + ".doctors";
        List<String> history = Collections.synchronizedList(new ArrayList<>());
        for (int round = 0; round < 20; round++) {
            String alice = "alice-" + round;
            String bob = "bob-" + round;
            router.insert(ACME, doctors, List.of(new Document("_id", alice).append("onCall", true).append("round", round),
                new Document("_id", bob).append("onCall", true).append("round", round)));
            int r = round;
            ExecutorService both = Executors.newFixedThreadPool(2);
            List<Future<?>> running = new ArrayList<>();
            for (String leaving : List.of(alice, bob)) {
                running.add(both.submit(() -> {
                    try {
                        router.inTransaction(ACME, tx -> {
                            long onCall = tx.find(doctors, new Document("round", r).append("onCall", true)).size();
                            if (onCall >= 2) {
                                tx.update(doctors, new Document("_id", leaving), new Document("$set", new Document("onCall", false)), false);
                                history.add("round " + r + ": " + leaving + " saw " + onCall + " on call and left");
                            }
                            return null;
                        });
                    } catch (RouterException e) {
                        history.add("round " + r + ": " + leaving + " gave up: " + e.getMessage());
                    }
                    return null;
                }));
            }
            for (Future<?> done : running) {
                done.get();
            }
            both.shutdown();
            long onCall = router.count(ACME, doctors, new Document("round", r).append("onCall", true), false);
            assertThat(onCall).as("write skew: history %s", history).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void shouldRunTransactionsOverHttpWholeOrNotAtAll() throws Exception {
        String users = database + ".users";
        String audit = database + ".audit";
        try (RouterHttpServer http = RouterHttpServer.start(router, "127.0.0.1", 0, 4, meters)) {
            String base = "http://127.0.0.1:" + http.port() + "/v1/transactions";
            HttpResponse<String> signup = post(base, "acme", "{operations: [{op: 'insert', namespace: '" + users + "', documents: [{_id: 'dora', plan: 'free'}]},"
                + " {op: 'insert', namespace: '" + audit + "', documents: [{_id: 'signup-dora', user: 'dora'}]},"
                + " {op: 'find', namespace: '" + users + "', filter: {_id: 'dora'}}]}");
            assertThat(signup.statusCode()).as(signup.body()).isEqualTo(200);
            assertThat(Document.parse(signup.body()).getList("results", Document.class)).extracting(r -> r.get("inserted"))
                .containsExactly(1, 1, null);
            assertThat(direct(audit)).extracting(d -> d.get("_id")).contains("signup-dora");

            HttpResponse<String> duplicate = post(base, "acme", "{operations: [{op: 'insert', namespace: '" + users + "', documents: [{_id: 'eve'}]},"
                + " {op: 'insert', namespace: '" + audit + "', documents: [{_id: 'signup-dora'}]}]}");
            assertThat(duplicate.statusCode()).as(duplicate.body()).isGreaterThanOrEqualTo(400);
            assertThat(direct(users)).as("the first insert of a transaction whose second failed").extracting(d -> d.get("_id")).doesNotContain("eve");

            assertThat(post(base, "acme", "{}").body()).contains("operations: a non-empty array of documents is required");
            assertThat(post(base, "acme", "{operations: [{op: 'upsert', namespace: 'a.b'}]}").body()).contains("operations[0].op: 'upsert' is not one of");
            assertThat(post(base, "acme", "{operations: [{op: 'update', namespace: '" + users + "', filter: {_id: 'dora'}}]}").body())
                .contains("operations[0].update: is required");

            String deletion = Document.parse(post(base + "/begin", "acme", "").body()).getString("transactionId");
            assertThat(post(base + "/" + deletion, "acme", "{operations: [{op: 'delete', namespace: '" + users + "', filter: {_id: 'dora'}}]}").statusCode())
                .isEqualTo(200);
            assertThat(post(base + "/" + deletion, "globex", "{operations: [{op: 'find', namespace: '" + users + "'}]}").statusCode())
                .as("another tenant's transaction").isEqualTo(404);
            assertThat(post(base + "/" + deletion + "/abort", "acme", "").statusCode()).isEqualTo(200);
            assertThat(direct(users)).extracting(d -> d.get("_id")).contains("dora");

            // Two interactive transactions on one document: the younger waits for the older, gives up with 409, and
            // succeeds when run again after the older committed.
            String older = Document.parse(post(base + "/begin", "acme", "").body()).getString("transactionId");
            String younger = Document.parse(post(base + "/begin", "acme", "").body()).getString("transactionId");
            String upgrade = "{operations: [{op: 'update', namespace: '" + users + "', filter: {_id: 'dora'}, update: {$inc: {seats: 1}}}]}";
            assertThat(post(base + "/" + older, "acme", upgrade).statusCode()).isEqualTo(200);
            HttpResponse<String> conflict = post(base + "/" + younger, "acme", upgrade);
            assertThat(conflict.statusCode()).as(conflict.body()).isEqualTo(409);
            assertThat(post(base + "/" + younger + "/commit", "acme", "").statusCode()).as("ended by its conflict").isEqualTo(404);
            assertThat(post(base + "/" + older + "/commit", "acme", "").body()).contains("committed");
            assertThat(post(base, "acme", upgrade).statusCode()).isEqualTo(200);
            assertThat(router.find(ACME, users, FindRequest.of(new Document("_id", "dora"))).documents()).singleElement()
                .satisfies(dora -> assertThat(dora.get("seats")).isEqualTo(2));
            assertThat(intentsLeft()).isZero();
        }
    }

    @Test
    void shouldWaitRecoverAndEndAbandonedTransactionsAsTheSettingsSay() throws Exception {
        String users = database + ".users";
        router.insert(ACME, users, List.of(new Document("_id", "settings-1").append("n", 0)));
        RouterConfig.TransactionSettings settings = new RouterConfig.TransactionSettings(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(2));
        try (ShardRouter patient = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog).withTransactions(settings),
                 new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), Duration.ofSeconds(60))) {
            // A lock timeout of 5 s: the younger transaction waits for the older one instead of failing after 50 ms.
            Transaction older = patient.begin(ACME);
            older.update(users, new Document("_id", "settings-1"), new Document("$inc", new Document("n", 1)), false);
            Transaction younger = patient.begin(ACME);
            CompletableFuture<Long> waiting = CompletableFuture.supplyAsync(
                () -> younger.update(users, new Document("_id", "settings-1"), new Document("$inc", new Document("n", 10)), false));
            Thread.sleep(300);
            assertThat(waiting).as("waiting for the older transaction").isNotDone();
            patient.commit(older);
            assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            patient.commit(younger);
            // Read on the router that answered both commits: it waits for their resolution (another router may still read the old value).
            assertThat(patient.find(ACME, users, FindRequest.of(new Document("_id", "settings-1"))).documents().get(0).get("n")).isEqualTo(11);

            // A timeout of 300 ms: this router, not the one with the default 3 s, finishes a transaction whose coordinator went away.
            String quitterTxn;
            try (ShardRouter quitter = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), new SimpleMeterRegistry(),
                     Duration.ofSeconds(60))) {
                Transaction left = quitter.begin(ACME);
                left.insert(users, List.of(new Document("_id", "settings-left")));
                quitterTxn = left.id();
            }
            awaitGone(users, "settings-left");
            try (TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), true, fixture.catalog.controlDlq().name(), "test")) {
                assertThat(recoveries(events, quitterTxn)).extracting(TopicTail.Appended::value)
                    .filteredOn(event -> event.getType() == ShardEventType.TRANSACTION_RECOVERED && event.getReason().contains(quitterTxn))
                    .singleElement().satisfies(event -> assertThat(event.getSource()).isEqualTo("router:" + patient.routerId()));
            }

            // A lifetime of 2 s: a transaction its client abandoned is aborted and its intents released.
            Transaction abandoned = patient.begin(ACME);
            abandoned.insert(users, List.of(new Document("_id", "settings-abandoned")));
            awaitGone(users, "settings-abandoned");
            assertThatThrownBy(() -> patient.commit(abandoned)).hasMessageContaining("has ended");
            assertThat(patient.meterRegistry().get("shard.transactions").tag("outcome", "aborted").counter().count()).isPositive();
        }
    }

    /** The events read once the recovery's event of {@code txnId} is among them (it follows the resolution), or after 10 s. */
    static List<TopicTail.Appended<ShardEvent>> recoveries(TopicTail<ShardEvent> events, String txnId) throws InterruptedException {
        List<TopicTail.Appended<ShardEvent>> read = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            read.addAll(events.readToEnd());
            if (read.stream().anyMatch(e -> e.value().getType() == ShardEventType.TRANSACTION_RECOVERED && e.value().getReason().contains(txnId))) {
                return read;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return read;
    }

    private static void awaitGone(String namespace, String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (direct(namespace).stream().anyMatch(d -> id.equals(d.get("_id"))) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(direct(namespace)).extracting(d -> d.get("_id")).doesNotContain(id);
    }

    private static HttpResponse<String> post(String url, String tenant, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header(RouterHttpServer.TENANT_HEADER, tenant)
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAbortATransactionWhoseQueryGainedADocumentBeforeItCommitted() {
        String doctors = database + ".doctors";
        Transaction reading = router.begin(ACME);
        assertThat(reading.find(doctors, new Document("ward", "w-phantom"))).isEmpty();
        reading.insert(doctors, List.of(new Document("_id", "rota-w-phantom").append("ward", "rota").append("staffed", 0)));
        router.insert(ACME, doctors, List.of(new Document("_id", "phantom-1").append("ward", "w-phantom")));
        assertThatThrownBy(() -> router.commit(reading)).isInstanceOfSatisfying(RouterException.class, e -> {
            assertThat(e.kind()).isEqualTo(RouterException.Kind.TRANSACTION_CONFLICT);
            assertThat(e.getMessage()).contains("phantom-1").contains("a phantom");
        });
        assertThat(router.find(ACME, doctors, FindRequest.of(new Document("_id", "rota-w-phantom"))).documents()).as("nothing of it").isEmpty();

        long staffed = router.inTransaction(ACME, tx -> {
            long seen = tx.find(doctors, new Document("ward", "w-phantom")).size();
            tx.insert(doctors, List.of(new Document("_id", "rota-w-phantom").append("ward", "rota").append("staffed", seen)));
            return seen;
        });
        assertThat(staffed).isEqualTo(1);
        assertThat(intentsLeft()).isZero();
    }

    @Test
    void shouldRefuseAnUpdateChangingAUniqueIndexedFieldAndKeepTheOthers() {
        // A namespace of its own: its indexes are read by no earlier transaction (a router reads them again after 10 s).
        String users = database + ".members";
        for (MongoClient shard : SHARDS.values()) {
            shard.getDatabase(database).getCollection("members").createIndex(new Document("email", 1),
                new com.mongodb.client.model.IndexOptions().unique(true).sparse(true).name("email_unique"));
        }
        router.insert(ACME, users, List.of(new Document("_id", "uniq-1").append("email", "one@acme.test").append("plan", "free")));

        assertThatThrownBy(() -> router.inTransaction(ACME, tx -> tx.update(users, new Document("_id", "uniq-1"),
            new Document("$set", new Document("email", "two@acme.test")), false))).isInstanceOfSatisfying(RouterException.class, e -> {
                assertThat(e.kind()).isEqualTo(RouterException.Kind.BAD_REQUEST);
                assertThat(e.getMessage()).contains("'email'").contains("email_unique");
            });
        assertThatThrownBy(() -> router.inTransaction(ACME, tx -> tx.update(users, new Document("_id", "uniq-1"),
            new Document("email", "three@acme.test").append("plan", "free"), false))).as("a replacement too").isInstanceOf(RouterException.class)
            .hasMessageContaining("email_unique");
        router.inTransaction(ACME, tx -> tx.update(users, new Document("_id", "uniq-1"), new Document("$set", new Document("plan", "pro")), false));
        assertThat(only(users, "uniq-1")).containsEntry("email", "one@acme.test").containsEntry("plan", "pro");
        assertThat(intentsLeft()).isZero();
        for (MongoClient shard : SHARDS.values()) {
            shard.getDatabase(database).getCollection("members").dropIndex("email_unique");
        }
    }

    @Test
    void shouldShowACommitWholeToTheNextReadOnItsRouter() {
        String counters = database + ".counters";
        String audit = database + ".audit";
        router.insert(ACME, counters, List.of(new Document("_id", "ryw").append("n", 0)));
        long stale = 0;
        for (int i = 1; i <= 50; i++) {
            int round = i;
            // The commit answers at its decision; its intents are resolved just after, and this router's reads wait for that.
            router.inTransaction(ACME, tx -> {
                tx.update(counters, new Document("_id", "ryw"), new Document("$set", new Document("n", round)), false);
                tx.insert(audit, List.of(new Document("_id", "ryw-" + round)));
                tx.delete(audit, new Document("_id", "ryw-" + (round - 1)), false);
                return null;
            });
            long n = ((Number) router.find(ACME, counters, FindRequest.of(new Document("_id", "ryw"))).documents().get(0).get("n")).longValue();
            List<Object> entries = router.find(ACME, audit, FindRequest.of(new Document("_id", new Document("$regex", "^ryw-"))))
                .documents().stream().map(d -> d.get("_id")).toList();
            if (n != round || !entries.equals(List.of("ryw-" + round))) {
                stale++;
            }
        }
        assertThat(stale).as("reads right after a commit on its router that missed part of it").isZero();
        assertThat(intentsLeft()).isZero();
    }

    @Test
    void shouldApplyEveryUpdateOperatorInATransactionAsTheShardDoesOutsideOne() {
        String users = database + ".users";
        Document profile = new Document("plan", "free").append("logins", 3).append("score", 2.5).append("tags", new ArrayList<>(List.of("a", "b")))
            .append("devices", new ArrayList<>(List.of(new Document("name", "phone").append("trusted", false), new Document("name", "laptop")
                .append("trusted", false)))).append("address", new Document("city", "Lyon")).append("legacy", "x");
        List<Document> updates = List.of(
            new Document("$set", new Document("plan", "pro").append("address.zip", "69001")),
            new Document("$inc", new Document("logins", 2).append("visits", 1)).append("$mul", new Document("score", 2)),
            new Document("$unset", new Document("legacy", "")).append("$rename", new Document("address.city", "address.town")),
            new Document("$push", new Document("tags", new Document("$each", List.of("c", "d")).append("$slice", -3)))
                .append("$addToSet", new Document("roles", "admin")),
            new Document("$set", new Document("devices.$[].trusted", true)).append("$min", new Document("logins", 1)),
            new Document("$pull", new Document("tags", "c")).append("$max", new Document("score", 100)));
        Document positional = new Document("$set", new Document("devices.$.name", "tablet"));
        router.insert(ACME, users, List.of(new Document(profile).append("_id", "ops-outside"), new Document(profile).append("_id", "ops-inside")));
        for (Document update : updates) {
            router.update(ACME, users, new Document("_id", "ops-outside"), update, false, false);
        }
        router.update(ACME, users, new Document("_id", "ops-outside").append("devices.name", "laptop"), positional, false, false);
        router.inTransaction(ACME, tx -> {
            for (Document update : updates) {
                assertThat(tx.update(users, new Document("_id", "ops-inside"), update, false)).isEqualTo(1);
            }
            assertThat(tx.update(users, new Document("_id", "ops-inside").append("devices.name", "laptop"), positional, false)).isEqualTo(1);
            return null;
        });
        // Inserted by the transaction itself: its updates apply to the document's own fields.
        router.inTransaction(ACME, tx -> {
            tx.insert(users, List.of(new Document(profile).append("_id", "ops-inserted")));
            for (Document update : updates) {
                tx.update(users, new Document("_id", "ops-inserted"), update, false);
            }
            tx.update(users, new Document("_id", "ops-inserted").append("devices.name", "laptop"), positional, false);
            return null;
        });
        Document outside = only(users, "ops-outside");
        outside.remove("_id");
        for (String id : List.of("ops-inside", "ops-inserted")) {
            Document inside = only(users, id);
            inside.remove("_id");
            assertThat(inside).as(id + " against the same updates outside a transaction").isEqualTo(outside);
        }

        assertThatThrownBy(() -> router.inTransaction(ACME, tx -> tx.update(users, new Document("_id", "ops-inside"),
            new Document("$inc", new Document("plan", 1)), false))).isInstanceOfSatisfying(RouterException.class, e -> {
                assertThat(e.getMessage()).as("the field as the client named it").contains("plan").doesNotContain("_tx");
            });
        assertThatThrownBy(() -> router.inTransaction(ACME, tx -> tx.update(users, new Document("_id", "ops-inside"),
            new Document("$set", new Document("_id", "renamed")), false))).isInstanceOf(RouterException.class).hasMessageContaining("_id");
        assertThat(only(users, "ops-inside").get("plan")).as("nothing of the failed transactions").isEqualTo("pro");
        assertThat(intentsLeft()).isZero();
    }

    private static Document only(String namespace, String id) {
        List<Document> found = router.find(ACME, namespace, FindRequest.of(new Document("_id", id))).documents();
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    private static List<Document> direct(String namespace) {
        String[] parts = namespace.split("\\.", 2);
        List<Document> all = new ArrayList<>();
        for (MongoClient shard : SHARDS.values()) {
            shard.getDatabase(parts[0]).getCollection(parts[1]).find().into(all);
        }
        return all;
    }

    private static long shardsHolding(String namespace) {
        String[] parts = namespace.split("\\.", 2);
        return SHARDS.values().stream().filter(shard -> shard.getDatabase(parts[0]).getCollection(parts[1]).countDocuments() > 0).count();
    }

    /**
     * The intents left on the shards once the commits answered are resolved: a commit answers at its decision and
     * resolves its intents right after, so this waits (up to 10 s) for them to go.
     */
    private static long intentsLeft() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long left = intentsNow();
        while (left > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return left;
            }
            left = intentsNow();
        }
        return left;
    }

    private static long intentsNow() {
        long left = 0;
        for (MongoClient shard : SHARDS.values()) {
            for (String collection : List.of("users", "audit", "accounts", "counters", "doctors", "members")) {
                left += shard.getDatabase(database).getCollection(collection).countDocuments(new Document("_tx", new Document("$exists", true)));
            }
        }
        return left;
    }
}
