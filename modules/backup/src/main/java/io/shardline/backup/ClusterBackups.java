package io.shardline.backup;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.core.key.KeyHex;
import io.shardline.core.key.KeyRange;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;

/**
 * Backups and restores of the shards the control plane knows: which namespaces and ranges a shard holds, where it
 * is, what the migrations did; each backup announced on the events topic ({@code BACKUP_TAKEN} with its figures,
 * {@code BACKUP_FAILED} with the cause) and measured ({@code shardline_backup_*}).
 */
public final class ClusterBackups {

    private final ControlPlaneClient plane;
    private final BackupCatalog catalog;
    private final ShardBackup.Settings settings;
    private final String source;
    private final MeterRegistry meters;
    private final Map<String, Long> newest = new ConcurrentHashMap<>();

    /**
     * @param source who takes the backups, as events name it ({@code cli}, {@code backup:<id>})
     */
    public ClusterBackups(ControlPlaneClient plane, ShardBackup.Settings settings, String source, MeterRegistry meters) {
        this.plane = plane;
        this.catalog = new BackupCatalog(settings.root());
        this.settings = settings;
        this.source = source;
        this.meters = meters;
    }

    public BackupCatalog catalog() {
        return catalog;
    }

    /** The shard's descriptor; an unknown shard is an error naming it. */
    public ShardDescriptor shard(String shardId) {
        ShardDescriptor shard = plane.shards().get(shardId);
        if (shard == null) {
            throw new BackupException("shard " + shardId + ": not registered (shards: " + plane.shards().keySet() + ")");
        }
        return shard;
    }

    /** Takes a backup of a shard's namespaces ({@code null}: every namespace there is), announcing it either way. */
    public BackupManifest backup(String shardId, List<String> namespaces) {
        ShardDescriptor shard = shard(shardId);
        long started = System.nanoTime();
        try {
            List<String> chosen = namespaces == null ? List.copyOf(plane.namespaces().keySet()) : namespaces;
            for (String namespace : chosen) {
                if (!plane.namespaces().containsKey(namespace)) {
                    throw new BackupException("namespace " + namespace + ": not configured (namespaces: " + plane.namespaces().keySet() + ")");
                }
            }
            Map<String, List<BackupManifest.Range>> ranges = new LinkedHashMap<>();
            chosen.forEach(namespace -> ranges.put(namespace, new ArrayList<>()));
            long rangesAt = System.currentTimeMillis();
            for (ChunkRoute route : plane.routing(null)) {
                if (route.getShardId().equals(shardId) && ranges.containsKey(route.getNamespace())) {
                    ranges.get(route.getNamespace()).add(new BackupManifest.Range(KeyHex.of(route.getMin()), route.getMax() == null ? null : KeyHex.of(route.getMax())));
                }
            }
            BackupManifest manifest = new ShardBackup(plane.bootstrap(), settings)
                .take(new ShardBackup.Target(shardId, shard.getConnectionString(), ranges, rangesAt));
            long bytes = manifest.namespaces().stream().mapToLong(BackupManifest.NamespaceDump::bytes).sum();
            long documents = manifest.namespaces().stream().mapToLong(BackupManifest.NamespaceDump::documents).sum();
            Timer.builder("shardline_backup_duration").tag("shard", shardId).register(meters).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            Counter.builder("shardline_backup_bytes").tag("shard", shardId).register(meters).increment(bytes);
            taken(shardId, manifest.consistentAt());
            event(ShardEventType.BACKUP_TAKEN, shardId, "backup " + manifest.backupId() + " of " + shardId + ": " + documents + " documents of "
                + manifest.namespaces().size() + " namespaces, consistent at " + Instant.ofEpochMilli(manifest.consistentAt()),
                Map.of("documents", (double) documents, "bytes", (double) bytes, "seconds", (System.nanoTime() - started) / 1e9));
            return manifest;
        } catch (RuntimeException e) {
            Counter.builder("shardline_backup_failures").tag("shard", shardId).register(meters).increment();
            event(ShardEventType.BACKUP_FAILED, shardId, "backup of " + shardId + " failed: " + e.getMessage(), Map.of());
            throw e;
        }
    }

    /**
     * Until when a backup restores: {@code now} while the CDC topics still hold every change after it, else which
     * topic's retention deleted what it needs (it then restores to its own consistent time only).
     */
    public String restorableUntil(BackupManifest manifest) {
        for (BackupManifest.NamespaceDump dump : manifest.namespaces()) {
            try (CdcReader cdc = new CdcReader(plane.bootstrap(), dump.cdcTopic())) {
                if (cdc.earliestOffset() > dump.consistentOffset()) {
                    return Instant.ofEpochMilli(manifest.consistentAt()) + " only (" + dump.cdcTopic() + " retention deleted offsets "
                        + dump.consistentOffset() + " to " + (cdc.earliestOffset() - 1) + ")";
                }
            }
        }
        return "now";
    }

    /** Records when the newest backup of a shard is consistent, for the age gauge. */
    public void taken(String shardId, long consistentAt) {
        if (newest.put(shardId, consistentAt) == null) {
            Gauge.builder("shardline_backup_newest_age_seconds", newest, m -> ageSeconds(m.get(shardId))).tag("shard", shardId)
                .description("Seconds since the newest backup of the shard is consistent").register(meters);
        }
    }

    /** Seconds since the newest backup of a shard ({@code -1}: none). */
    public double newestAgeSeconds(String shardId) {
        return ageSeconds(newest.get(shardId));
    }

    private static double ageSeconds(Long consistentAt) {
        return consistentAt == null ? -1 : (System.currentTimeMillis() - consistentAt) / 1000.0;
    }

    /** Restores a shard as it was at a moment; see {@link ShardRestore}. */
    public ShardRestore.Result restore(ShardRestore.Request request) {
        shard(request.shardId());
        Map<String, List<KeyRange>> rangesNow = new HashMap<>();
        List<ChunkRoute> routing = plane.routing(null);
        // Taken after the routing is read: a handover between the two is then applied again, which changes nothing.
        long now = System.currentTimeMillis();
        for (ChunkRoute route : routing) {
            if (route.getShardId().equals(request.shardId())) {
                rangesNow.computeIfAbsent(route.getNamespace(), ns -> new ArrayList<>()).add(KeyRange.ofEncoded(route.getMin(), route.getMax()));
            }
        }
        ShardRestore.ClusterView view = new ShardRestore.ClusterView(rangesNow, now, plane.migrations().values(), List.copyOf(plane.namespaces().keySet()));
        try (DeadLetterProducer deadLetters = new DeadLetterProducer(plane.bootstrap(), plane.catalog().controlDlq().name(), source)) {
            return new ShardRestore(plane.bootstrap(), catalog, plane.catalog().txnDecisions(), deadLetters).restore(request, view);
        }
    }

    void event(ShardEventType type, String shardId, String reason, Map<String, Double> figures) {
        plane.publisher().publishEvent(ShardEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(type).setTimestamp(Instant.now())
            .setSource(source).setShardId(shardId).setReason(reason).setFigures(new HashMap<>(figures)).build());
    }
}
