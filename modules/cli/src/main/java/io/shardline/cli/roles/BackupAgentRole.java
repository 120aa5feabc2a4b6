package io.shardline.cli.roles;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.backup.BackupAgent;
import io.shardline.cli.config.ClusterFile;
import io.shardline.cli.config.DurationConverter;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.schemas.TopicCatalog;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shardline backup-agent}: the backup role. Its schedule comes from the options, else from the cluster file's
 * {@code backup} section.
 */
@Command(name = "backup-agent", mixinStandardHelpOptions = true,
    description = "Run the backup role: a backup of every shard on a schedule, the oldest beyond --keep deleted, stale backups announced.")
public final class BackupAgentRole extends RoleCommands.Role {

    @Option(names = "--every", converter = DurationConverter.class, description = "How often each shard is backed up (else the cluster file's backup.every).")
    Duration every;

    @Option(names = "--keep", description = "Complete backups kept per shard (else backup.keep).")
    Integer keep;

    @Option(names = "--dir", description = "The backups' folder (else backup.dir).")
    Path dir;

    @Option(names = "--gzip", negatable = true, description = "Compress the dumps (else backup.gzip; default false).")
    Boolean gzip;

    @Option(names = "--stale-after", converter = DurationConverter.class,
        description = "Announce a shard whose newest backup is older than this (else backup.staleAfter; default twice --every).")
    Duration staleAfter;

    @Option(names = "--agent-id", description = "This agent's id in events (default: a random one).")
    String agentId;

    @picocli.CommandLine.Mixin
    MetricsOptions metricsOptions;

    @Override
    AutoCloseable start(TopicCatalog catalog, PrintWriter out) throws Exception {
        BackupAgent.Schedule schedule = schedule();
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsEndpoint metrics = metricsOptions.serve(meters, out);
        ControlPlaneClient plane = new ControlPlaneClient(client.bootstrap(), catalog, "backup-agent");
        BackupAgent agent = BackupAgent.start(plane, schedule, agentId == null ? UUID.randomUUID().toString().substring(0, 8) : agentId, meters);
        out.printf("backing up every %s into %s, keeping %d per shard%n", schedule.every(), schedule.dir(), schedule.keep());
        return MetricsOptions.closing(() -> {
            agent.close();
            plane.close();
        }, metrics);
    }

    /** The schedule the options and the cluster file give; what neither gives is refused by name. */
    BackupAgent.Schedule schedule() {
        ClusterFile.Backup file = client.file() == null ? null : client.file().backup();
        Duration chosenEvery = every != null ? every : file == null ? null : file.every();
        Path chosenDir = dir != null ? dir : file == null || file.dir() == null ? null : Path.of(file.dir());
        if (chosenEvery == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--every: required, or backup.every in the cluster file");
        }
        if (chosenDir == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--dir: required, or backup.dir in the cluster file");
        }
        int chosenKeep = keep != null ? keep : file == null ? 24 : (int) file.keep();
        boolean chosenGzip = gzip != null ? gzip : file != null && file.gzip();
        Duration chosenStale = staleAfter != null ? staleAfter : file != null && every == null ? file.staleAfter() : chosenEvery.multipliedBy(2);
        try {
            return new BackupAgent.Schedule(chosenEvery, chosenKeep, chosenDir, chosenGzip, chosenStale);
        } catch (IllegalArgumentException invalid) {
            throw new CommandLine.ParameterException(spec.commandLine(), invalid.getMessage());
        }
    }
}
