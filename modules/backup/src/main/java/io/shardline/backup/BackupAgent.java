package io.shardline.backup;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;

/**
 * The backup role: every {@code every}, a backup of each shard that is not retired, then the oldest beyond
 * {@code keep} deleted; a shard whose newest backup is older than {@code staleAfter} is announced
 * ({@code BACKUP_STALE}) once, until a newer one is taken. At start it says whether the CDC topics keep changes long
 * enough for the window the schedule asks ({@code keep × every}): a backup restores to later times only while the
 * topics still hold every change after it.
 */
public final class BackupAgent implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BackupAgent.class);

    /**
     * @param every      how often each shard is backed up
     * @param keep       how many complete backups of a shard are kept
     * @param dir        the backups' folder
     * @param gzip       compress the dumps
     * @param staleAfter a shard whose newest backup is older than this is announced
     */
    public record Schedule(Duration every, int keep, Path dir, boolean gzip, Duration staleAfter) {

        public Schedule {
            Objects.requireNonNull(dir, "dir");
            if (every.isNegative() || every.isZero()) {
                throw new IllegalArgumentException("every: must be positive, was " + every);
            }
            if (keep < 1) {
                throw new IllegalArgumentException("keep: must be at least 1, was " + keep);
            }
            if (staleAfter.compareTo(every) <= 0) {
                throw new IllegalArgumentException("staleAfter: must be longer than every (" + every + "), was " + staleAfter);
            }
        }

        /** How far back the kept backups reach. */
        public Duration window() {
            return every.multipliedBy(keep);
        }
    }

    private final ControlPlaneClient plane;
    private final Schedule schedule;
    private final ClusterBackups backups;
    private final ScheduledExecutorService timer;
    private final Set<String> announcedStale = new HashSet<>();
    private final long startedAt = System.currentTimeMillis();

    private BackupAgent(ControlPlaneClient plane, Schedule schedule, String agentId, MeterRegistry meters) {
        this.plane = plane;
        this.schedule = schedule;
        this.backups = new ClusterBackups(plane, new ShardBackup.Settings(schedule.dir(), schedule.gzip(), Duration.ofSeconds(60)), "backup:" + agentId, meters);
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "backup-agent");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts the schedule: the first round right away. */
    public static BackupAgent start(ControlPlaneClient plane, Schedule schedule, String agentId, MeterRegistry meters) {
        BackupAgent agent = new BackupAgent(plane, schedule, agentId, meters);
        for (BackupCatalog.Entry entry : agent.backups.catalog().list(null)) {
            if (entry.complete()) {
                agent.backups.taken(entry.shardId(), entry.manifest().consistentAt());
            }
        }
        agent.retentionWarnings().forEach(LOG::warn);
        agent.timer.scheduleWithFixedDelay(agent::round, 0, schedule.every().toMillis(), TimeUnit.MILLISECONDS);
        long look = Math.max(1_000, Math.min(schedule.every().toMillis(), 30_000));
        agent.timer.scheduleWithFixedDelay(agent::announceStale, look, look, TimeUnit.MILLISECONDS);
        return agent;
    }

    public ClusterBackups backups() {
        return backups;
    }

    /** One backup of every shard that is not retired, then the pruning; a shard that fails does not stop the others. */
    void round() {
        for (ShardDescriptor shard : plane.shards().values()) {
            if (shard.getState() == ShardState.RETIRED) {
                continue;
            }
            String shardId = shard.getShardId();
            try {
                BackupManifest manifest = backups.backup(shardId, null);
                List<String> deleted = backups.catalog().prune(shardId, schedule.keep());
                LOG.info("backup {} of {} taken; {} older deleted (keep {})", manifest.backupId(), shardId, deleted.size(), schedule.keep());
                synchronized (announcedStale) {
                    announcedStale.remove(shardId);
                }
            } catch (RuntimeException e) {
                LOG.warn("backup of {} failed: {}", shardId, e.getMessage(), e);
            }
        }
    }

    /**
     * Announces once each shard whose newest backup is older than {@code staleAfter}, or that has none when the agent
     * has run that long.
     */
    void announceStale() {
        try {
            for (ShardDescriptor shard : plane.shards().values()) {
                String shardId = shard.getShardId();
                double age = backups.newestAgeSeconds(shardId);
                boolean never = age < 0 && System.currentTimeMillis() - startedAt > schedule.staleAfter().toMillis();
                boolean stale = shard.getState() != ShardState.RETIRED && (never || age > schedule.staleAfter().toSeconds());
                synchronized (announcedStale) {
                    if (stale && announcedStale.add(shardId)) {
                        backups.event(ShardEventType.BACKUP_STALE, shardId, age < 0 ? "no backup of " + shardId + " since the agent started"
                            : "the newest backup of " + shardId + " is " + Math.round(age) + " s old, over " + schedule.staleAfter(),
                            Map.of("ageSeconds", age, "staleAfterSeconds", (double) schedule.staleAfter().toSeconds()));
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("looking for stale backups failed: {}", e.getMessage(), e);
        }
    }

    /** What the CDC topics' retention leaves of the window the schedule asks, one line per topic that keeps less. */
    List<String> retentionWarnings() {
        return CdcRetention.shorterThan(plane.bootstrap(), schedule.window()).entrySet().stream()
            .map(e -> e.getKey() + " keeps changes for " + e.getValue() + ", less than the backups' window of " + schedule.window() + " (keep "
                + schedule.keep() + " x every " + schedule.every() + "): a backup older than that restores only to its own time")
            .toList();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
