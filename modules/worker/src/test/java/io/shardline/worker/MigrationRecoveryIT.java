package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** Rollback before and after the cutover, and a corrupted target caught by verification, on the real cluster. */
@ShardlineCluster
class MigrationRecoveryIT {

    /** Holds a migration when it enters a state until released. */
    private static final class Gate {
        final MigrationPhase at;
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        Gate(MigrationPhase at) {
            this.at = at;
        }

        void observe(MigrationState state) {
            if (state.getPhase() == at && reached.getCount() > 0) {
                reached.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        void awaitReached() throws InterruptedException {
            assertThat(reached.await(90, TimeUnit.SECONDS)).as("migration reached %s", at).isTrue();
        }
    }

    /** RollbackMigration and AbortMigration before the cutover end alike, as ROLLED_BACK and ABORTED. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void shouldRollBackBeforeTheCutoverDroppingTheCopyAndLeavingTheSourceAsItWas(boolean abort, EmbeddedCluster cluster, TestNames names)
        throws Exception {
        Gate gate = new Gate(MigrationPhase.CATCHING_UP);
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig(), new SimpleMeterRegistry(), gate::observe)) {
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(1_500);
            String command = fixture.moveLowerChunk();
            gate.awaitReached();
            String migrationId = fixture.migrationOf(command).getMigrationId();
            assertThat(fixture.documents("s2")).as("the copy on the target").isNotEmpty();

            fixture.send(abort ? io.shardline.schemas.avro.AbortMigration.newBuilder().setMigrationId(migrationId).build()
                : RollbackMigration.newBuilder().setMigrationId(migrationId).build());
            Thread.sleep(500);
            gate.release.countDown();
            fixture.awaitMigration(command, MigrationFixture.in(abort ? MigrationPhase.ABORTED : MigrationPhase.ROLLED_BACK), Duration.ofMinutes(1));
            load.close();

            assertThat(fixture.documents("s2")).as("the target's copy is dropped").isEmpty();
            var route = fixture.route(fixture.chunks.get(0).min().toHex());
            assertThat(route.getShardId()).isEqualTo("s1");
            assertThat(route.getState()).isEqualTo(ChunkState.ACTIVE);
            assertThat(route.getMigrationId()).isNull();
            fixture.check(load);
        }
    }

    @Test
    void shouldRollBackAfterTheCutoverWithinTheGracePeriodBringingTheTargetsWritesBack(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = fixture.worker(fixture.workerConfig().withGracePeriod(Duration.ofMinutes(2)))) {
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(1_500);
            String command = fixture.moveLowerChunk();
            MigrationState cutOver = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CUT_OVER), Duration.ofMinutes(1));
            Thread.sleep(2_000); // writes land on the target now
            Map<String, Document> onTarget = fixture.documents("s2");
            assertThat(onTarget).isNotEmpty();

            fixture.send(RollbackMigration.newBuilder().setMigrationId(cutOver.getMigrationId()).build());
            fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.ROLLED_BACK), Duration.ofMinutes(1));
            Thread.sleep(1_000);
            load.close();

            assertThat(fixture.route(fixture.chunks.get(0).min().toHex()).getShardId()).isEqualTo("s1");
            assertThat(fixture.documents("s2")).as("the range is gone from the target").isEmpty();
            fixture.check(load);
        }
    }

    /**
     * FENCED and VERIFIED are sent without waiting inside the fence: a worker may publish the cutover route and die
     * before either state lands. Its successor, resumed from FENCED, must go on from the cutover, not lift a fence and
     * replay the source over the target's newer writes.
     */
    @Test
    void shouldGoOnFromTheCutoverWhenResumedFromFencedWithTheRouteAlreadyOnTheTarget(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5))) {
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(1_500);
            String command;
            MigrationState cutOver;
            try (MigrationWorker first = fixture.worker(fixture.workerConfig().withGracePeriod(Duration.ofMinutes(5)))) {
                command = fixture.moveLowerChunk();
                cutOver = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CUT_OVER), Duration.ofMinutes(1));
            }
            Thread.sleep(1_000); // writes land on the target now
            try (org.apache.kafka.clients.producer.KafkaProducer<String, MigrationState> producer = new org.apache.kafka.clients.producer.KafkaProducer<>(
                Map.of(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
                fixture.catalog.migrations().keySerde().serializer(), fixture.catalog.migrations().valueSerde().serializer())) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(fixture.catalog.migrations().name(), cutOver.getMigrationId(),
                    MigrationState.newBuilder(cutOver).setPhase(MigrationPhase.FENCED).setCutOverAt(null).build())).get();
            }
            fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.FENCED), Duration.ofSeconds(10));

            try (MigrationWorker successor = fixture.worker(fixture.workerConfig().withWorkerId("successor").withGracePeriod(Duration.ofSeconds(2)))) {
                fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(1));
            }
            load.close();
            var route = fixture.route(fixture.chunks.get(0).min().toHex());
            assertThat(route.getShardId()).isEqualTo("s2");
            assertThat(route.getState()).as("the target's chunk was never fenced").isEqualTo(ChunkState.ACTIVE);
            assertThat(MigrationCommandsIT.eventReasons(fixture)).anyMatch(reason -> reason.contains("FENCED -> CUT_OVER: found cut over already"));
            fixture.check(load);
        }
    }

    /** Both verification paths: a full scan while fenced, and (a limit of 0 documents) a pre-fence scan plus rechecks. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {50_000, 0})
    void shouldRefuseTheCutoverWhenVerificationFindsTheTargetAlteredDuringTheCatchUp(int verifyFullScanMaxDocs, EmbeddedCluster cluster,
                                                                                   TestNames names) throws Exception {
        Gate gate = new Gate(MigrationPhase.CATCHING_UP);
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withVerifyFullScanMaxDocs(verifyFullScanMaxDocs),
                 new SimpleMeterRegistry(), gate::observe)) {
            for (int i = 0; i < 40; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace,
                    List.of(new Document("_id", "victim-" + i).append("userId", "victim-" + i).append("v", i)));
            }
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(1_000);
            String command = fixture.moveLowerChunk();
            gate.awaitReached();
            String victim = fixture.documents("s2").keySet().stream().filter(id -> id.startsWith("victim-")).findFirst().orElseThrow();
            int dot = fixture.namespace.indexOf('.');
            fixture.shard("s2").getDatabase(fixture.namespace.substring(0, dot)).getCollection(fixture.namespace.substring(dot + 1))
                .updateOne(Filters.eq("_id", victim), Updates.set("v", -42));
            gate.release.countDown();

            MigrationState aborted = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.ABORTED), Duration.ofMinutes(1));
            load.close();

            assertThat(aborted.getError()).contains("verification failed");
            assertThat(fixture.route(fixture.chunks.get(0).min().toHex()).getShardId()).as("the source stays authoritative").isEqualTo("s1");
            assertThat(fixture.documents("s1").get(victim).getInteger("v")).isNotEqualTo(-42);
            assertThat(fixture.documents("s2")).isEmpty();
            for (int i = 0; i < 40; i++) {
                load.acknowledged.put("victim-" + i, i);
            }
            fixture.check(load);
        }
    }
}
