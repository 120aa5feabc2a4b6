package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTail;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Two workers, and a third joining the group while a migration is in each phase: the rebalance takes the commands
 * from the worker running the migration, which stops it before anyone resumes it. Each step's side effects happen
 * once: the states entered (COPYING, CUT_OVER, CLEANED), the route publications (the cutover, the release) and the
 * deletion of the range from the source (one CLEANED transition, which reports it).
 */
@ShardlineCluster
class MigrationRebalanceIT {

    @ParameterizedTest
    @EnumSource(value = MigrationPhase.class, names = {"PLANNED", "COPYING", "CATCHING_UP", "FENCED", "CUT_OVER"})
    void shouldCarryOutEachStepOnceWhenTheGroupRebalancesInThisPhase(MigrationPhase phase, EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5))) {
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(1_500);
            AtomicBoolean triggered = new AtomicBoolean();
            AtomicReference<MigrationWorker> third = new AtomicReference<>();
            List<AtomicReference<MigrationWorker>> owners = List.of(new AtomicReference<>(), new AtomicReference<>());
            List<MigrationWorker> workers = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    AtomicReference<MigrationWorker> self = owners.get(i);
                    self.set(MigrationWorker.start(fixture.workerConfig().withWorkerId("w" + i), new SimpleMeterRegistry(), state -> {
                        if (state.getPhase() == phase && triggered.compareAndSet(false, true)) {
                            rebalanceWhileIn(fixture, self.get(), third);
                        }
                    }));
                    workers.add(self.get());
                }
                String command = fixture.moveLowerChunk();
                MigrationState end = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(3));
                assertThat(triggered).as("a rebalance was forced in %s", phase).isTrue();
                load.close();
                fixture.check(load);

                List<MigrationState> history = fixture.history(end.getMigrationId());
                MigrationFixture.assertOnePublisherPerTransition(history);
                assertThat(history.stream().map(MigrationState::getOwnerEpoch).distinct().count())
                    .as("terms that published the migration: it went on under a new term after the rebalance").isGreaterThan(1);
                assertThat(entries(history, MigrationPhase.COPYING)).as("COPYING entered").isEqualTo(1);
                assertThat(entries(history, MigrationPhase.CUT_OVER)).as("CUT_OVER entered").isEqualTo(1);
                assertThat(entries(history, MigrationPhase.CLEANED)).as("CLEANED entered (one deletion of the range)").isEqualTo(1);
                String key = TopicCatalog.routingKey(fixture.namespace, fixture.chunks.get(0).min().toHex());
                List<ChunkRoute> routes = routeHistory(fixture, key);
                assertThat(routes.stream().filter(r -> r.getShardId().equals("s2") && r.getState() == ChunkState.ACTIVE
                    && end.getMigrationId().equals(r.getMigrationId())).count()).as("cutover routes").isEqualTo(1);
                assertThat(routes.stream().filter(r -> r.getShardId().equals("s2") && r.getMigrationId() == null).count())
                    .as("release routes").isEqualTo(1);
            } finally {
                load.close();
                for (MigrationWorker worker : workers) {
                    worker.close();
                }
                if (third.get() != null) {
                    third.get().close();
                }
            }
        }
    }

    /** Called on the run's thread as it enters the phase: a third worker joins, and the run goes on once its worker lets go. */
    private static void rebalanceWhileIn(MigrationFixture fixture, MigrationWorker owner, AtomicReference<MigrationWorker> third) {
        Thread joining = new Thread(() -> third.set(fixture.worker(fixture.workerConfig().withWorkerId("joiner"))), "joiner");
        joining.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (owner != null && owner.carriesOutCommands() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** How many times the history steps into the phase from another. */
    private static long entries(List<MigrationState> history, MigrationPhase phase) {
        long entries = 0;
        MigrationPhase previous = null;
        for (MigrationState state : history) {
            if (state.getPhase() == phase && previous != phase) {
                entries++;
            }
            previous = state.getPhase();
        }
        return entries;
    }

    private static List<ChunkRoute> routeHistory(MigrationFixture fixture, String key) {
        try (TopicTail<ChunkRoute> tail = new TopicTail<>(fixture.cluster.bootstrapServers(), fixture.catalog.routing(), true, fixture.catalog.controlDlq().name(), "test")) {
            return tail.readToEnd().stream().filter(appended -> key.equals(appended.key())).map(TopicTail.Appended::value).toList();
        }
    }
}
