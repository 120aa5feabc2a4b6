package io.shardline.worker;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.command.CommandLoop;
import io.shardline.worker.config.WorkerConfig;
import io.shardline.worker.health.HealthMonitor;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;
import io.shardline.worker.runner.WorkerMeters;

/**
 * The {@code worker} role, put together from its parts:
 * <ul>
 *   <li>{@link CommandLoop} ({@code command}): the worker group's partitions this worker holds, each a term with its own
 *       lease ({@link Ownership}) and fenced producer. The one commands partition: its holder checks each command against
 *       the routing and turns it into PLANNED migrations, splits or shard changes (invalid commands go to the commands
 *       DLQ with the field at fault), and admits waiting migrations to free migration lanes, never two on one shard.
 *       The migration-lanes partitions: the holder of a lane carries out the migrations admitted to it.</li>
 *   <li>{@link MigrationRunner} ({@code runner}): one per lane; carries the lane's migrations out up to their cutover,
 *       each grace period beside it; resumes the lane's unfinished migrations when a term begins.</li>
 *   <li>{@code migration}: one {@code Migration} object per migration, a state machine over one class per step.</li>
 *   <li>{@link HealthMonitor} ({@code health}): while this worker holds the commands, probes every shard and marks the
 *       ones that stop answering DOWN (and UP again) on their descriptors.</li>
 *   <li>{@code data}: copy, replay and range operations on the shards; {@code plane}: the control-plane topics.</li>
 * </ul>
 */
public final class MigrationWorker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MigrationWorker.class);
    /** How long a worker waits for its runs to stop at a hand-over before it lets the commands go anyway. */
    private static final Duration HAND_OVER_WAIT = Duration.ofSeconds(30);

    private final WorkerConfig config;
    private final Ownership ownership;
    private final ControlPlane plane;
    private final CommandLoop commands;
    private final ScheduledExecutorService renewals;
    private final HealthMonitor health;

    private MigrationWorker(WorkerConfig config, MeterRegistry registry, Consumer<MigrationState> observer) {
        this.config = config;
        this.ownership = new Ownership(config.ownerLease());
        this.plane = new ControlPlane(config.bootstrapServers(), config.catalog(), config.workerId(), config.groupId() + ".owner", ownership);
        this.commands = new CommandLoop(config, plane, new WorkerMeters(registry, config.workerId(), observer), HAND_OVER_WAIT, registry);
        this.renewals = Executors.newSingleThreadScheduledExecutor(task -> new Thread(task, "worker-lease-" + config.workerId()));
        this.health = new HealthMonitor(plane, ownership, config.health(), registry, config.workerId(),
            config.connectUrl() == null ? null : new io.shardline.schemas.ConnectRestClient(config.connectUrl()));
    }

    public static MigrationWorker start(WorkerConfig config, MeterRegistry registry) {
        return start(config, registry, state -> LOG.debug("migration {} steps from {}", state.getMigrationId(), state.getPhase()));
    }

    /**
     * @param observer told of every state a migration enters (once published) or is resumed from: for tooling that
     *                 follows migrations in-process
     */
    public static MigrationWorker start(WorkerConfig config, MeterRegistry registry, Consumer<MigrationState> observer) {
        MigrationWorker worker = new MigrationWorker(config, registry, observer);
        worker.commands.start();
        long every = Math.max(20, config.ownerLease().toMillis() / 5);
        worker.renewals.scheduleWithFixedDelay(worker.commands::renew, every, every, TimeUnit.MILLISECONDS);
        worker.health.start();
        return worker;
    }

    public String workerId() {
        return config.workerId();
    }

    /** True while this worker holds the commands (a term, possibly still waiting out its predecessor's lease). */
    public boolean carriesOutCommands() {
        return commands.holdsCommands();
    }

    /** The migration lanes this worker holds now. */
    public java.util.List<Integer> heldLanes() {
        return commands.heldLanes();
    }

    @Override
    public void close() {
        // The command loop hands everything over as its consumer closes: the runs stop first, then the offsets say so.
        health.close();
        commands.close();
        renewals.shutdownNow();
        plane.close();
    }
}
